/**
 * @module The grids as a list: the section's table of grids (live tabs, which one is shown) and
 * the job form's choice of grid.
 */
import type { GridSummary } from '../../shared/job.ts';
import { el, labelCells, part } from './dom.ts';

interface ListRow {
  tr: HTMLTableRowElement;
  name: HTMLTableCellElement;
  live: HTMLTableCellElement;
  show: HTMLButtonElement;
}

export class GridList {
  readonly #rows = new Map<string, ListRow>();

  /** `onShow` gets the code of the grid whose Show button was clicked. */
  constructor(
    private readonly section: HTMLElement,
    private readonly onShow: (code: string) => void,
  ) {}

  /** Draws `grids` in their order, reusing rows, and marks the one shown. */
  render(grids: readonly GridSummary[], selected: string | undefined): void {
    const body = this.#part<HTMLTableSectionElement>('.grid-list tbody');
    const codes = new Set(grids.map((grid) => grid.code));
    for (const [code, row] of this.#rows) {
      if (codes.has(code)) continue;
      row.tr.remove();
      this.#rows.delete(code);
    }
    grids.forEach((grid, position) => {
      let row = this.#rows.get(grid.code);
      if (!row) {
        row = this.#row(grid.code);
        this.#rows.set(grid.code, row);
      }
      row.name.textContent = grid.name;
      updateCount(row, grid);
      if (body.children[position] !== row.tr)
        body.insertBefore(row.tr, body.children[position] ?? null);
    });
    labelCells(this.#part<HTMLTableElement>('.grid-list'));
    this.#part('.grid-list').hidden = grids.length === 0;
    this.#part('.grid-list-empty').hidden = grids.length > 0;
    this.markSelected(selected);
  }

  /** Updates a grid's live-tab count from a fresher roster than the list's. */
  updateCount(grid: GridSummary): void {
    const row = this.#rows.get(grid.code);
    if (row) updateCount(row, grid);
  }

  markSelected(selected: string | undefined): void {
    for (const [code, row] of this.#rows) {
      const isShown = code === selected;
      row.tr.classList.toggle('selected', isShown);
      row.show.disabled = isShown;
      row.show.textContent = isShown ? 'Shown' : 'Show';
    }
  }

  #row(code: string): ListRow {
    const tr = document.createElement('tr');
    tr.dataset['code'] = code;
    const codeCell = tr.insertCell();
    const name = tr.insertCell();
    const live = tr.insertCell();
    const actions = tr.insertCell();
    codeCell.className = 'mono';
    codeCell.textContent = code;
    const show = el('button', 'secondary show', 'Show');
    show.type = 'button';
    show.addEventListener('click', () => this.onShow(code));
    actions.append(show);
    return { tr, name, live, show };
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return part<T>(this.section, selector, '[grids]');
  }
}

function updateCount(row: ListRow, grid: GridSummary): void {
  const live = grid.devices.filter((device) => device.state !== 'gone').length;
  row.live.textContent = String(live);
  row.tr.dataset['live'] = String(live);
}

/**
 * Offers the grids in a job form's select, keeping its first option (the public pool) and the
 * current choice. Rebuilt only when the grids changed, so a refresh does not close an open list.
 */
export function offerGrids(select: HTMLSelectElement, grids: readonly GridSummary[]): void {
  const wanted = grids.map((grid) => ({ value: grid.code, label: `${grid.name} (${grid.code})` }));
  const current = Array.from(select.options).slice(1);
  if (
    current.length === wanted.length &&
    wanted.every((want, i) => current[i]?.value === want.value && current[i]?.text === want.label)
  )
    return;
  const chosen = select.value;
  for (const option of current) option.remove();
  select.append(...wanted.map((want) => new Option(want.label, want.value)));
  select.value = wanted.some((want) => want.value === chosen) ? chosen : '';
}
