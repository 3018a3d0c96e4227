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

/**
 * Copies each column's heading onto the body cells that lack one (`data-label`), so a narrow
 * screen can stack a row's cells as labelled lines (see `.stacked` in style.css).
 */
export function labelCells(table: HTMLTableElement): void {
  const headings = Array.from(table.tHead?.rows[0]?.cells ?? [], (th) => th.textContent ?? '');
  for (const body of Array.from(table.tBodies)) {
    for (const row of Array.from(body.rows)) {
      Array.from(row.cells).forEach((cell, i) => {
        if (cell.colSpan === 1 && cell.dataset['label'] === undefined)
          cell.dataset['label'] = headings[i] ?? '';
      });
    }
  }
}

/** "12:04", or "3 Dec 12:04" for another day: when something happened, read from afar. */
export function formatClock(iso: string, now = new Date()): string {
  const at = new Date(iso);
  const time = at.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  return at.toDateString() === now.toDateString()
    ? time
    : `${at.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}
