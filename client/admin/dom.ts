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
