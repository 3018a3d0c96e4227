/** @module Small DOM builders the admin page's views share. */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Appends `count` cells to a table row and returns them in order. */
export function cells(tr: HTMLTableRowElement, count: number): HTMLTableCellElement[] {
  return Array.from({ length: count }, () => tr.insertCell());
}

/**
 * The element `selector` finds under `root`. The page's HTML is part of the build, so a missing
 * part is a bug: it throws, naming its owner (e.g. `[grids]`).
 */
export function part<T extends HTMLElement = HTMLElement>(
  root: ParentNode,
  selector: string,
  owner: string,
): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`${owner}: section is missing ${selector}`);
  return found;
}
