/**
 * @module A grid's roster: one row per tab (state, browser, cores, contribution) with its own
 * pause or resume button, and the grid's counts. Rows are built once and updated in place.
 */
import type { GridSummary, RosterEntry } from '../../shared/job.ts';
import { el, formatClock, labelCells, part } from './dom.ts';
import { formatMs, shortId } from './timeline.ts';

export interface RosterRow {
  tr: HTMLTableRowElement;
  tab: HTMLTableCellElement;
  /** The tab's number on this page, in order of joining: stable while the grid is shown. */
  number: number;
  browser: HTMLTableCellElement;
  cores: HTMLTableCellElement;
  state: HTMLElement;
  note: HTMLElement;
  done: HTMLTableCellElement;
  cpu: HTMLTableCellElement;
  taskTime: HTMLTableCellElement;
  toggle: HTMLButtonElement;
  error: HTMLElement;
  /** The latest entry, so a click acts on what the row shows now, not when it was built. */
  entry: RosterEntry;
  busy: boolean;
}

export class RosterTable {
  readonly #rows = new Map<string, RosterRow>();
  #numbered = 0;

  /** `onToggle` gets the row whose Pause or Resume button was clicked. */
  constructor(
    private readonly section: HTMLElement,
    private readonly onToggle: (row: RosterRow) => void,
  ) {}

  /** Empties the roster while another grid's loads. */
  clear(): void {
    for (const row of this.#rows.values()) row.tr.remove();
    this.#rows.clear();
    this.#numbered = 0;
    this.#part('.roster-empty').hidden = true;
    this.#part('.roster').hidden = true;
    this.#part('.grid-counts').textContent = 'Loading…';
  }

  /** Draws the grid's tabs in the server's order; call `syncAll` after to fill in the rows. */
  draw(grid: GridSummary): void {
    this.#part('.grid-counts').textContent = describeCounts(grid);
    const body = this.#part<HTMLTableSectionElement>('.roster tbody');
    const ids = new Set(grid.devices.map((device) => device.volunteerId));
    for (const [id, row] of this.#rows) {
      if (ids.has(id)) continue;
      row.tr.remove();
      this.#rows.delete(id);
    }
    // New tabs are numbered in order of joining, however the leaderboard orders them.
    const joining = [...grid.devices]
      .filter((entry) => !this.#rows.has(entry.volunteerId))
      .sort((a, b) => (a.joinedAt ?? a.lastSeen).localeCompare(b.joinedAt ?? b.lastSeen));
    for (const entry of joining) this.#rows.set(entry.volunteerId, this.#row(entry));
    grid.devices.forEach((entry, position) => {
      const row = this.#rows.get(entry.volunteerId) as RosterRow;
      row.entry = entry;
      if (body.children[position] !== row.tr)
        body.insertBefore(row.tr, body.children[position] ?? null);
    });
    labelCells(this.#part<HTMLTableElement>('.roster'));
    this.#part('.roster').hidden = grid.devices.length === 0;
    this.#part('.roster-empty').hidden = grid.devices.length > 0;
  }

  syncAll(gridPaused: boolean): void {
    for (const row of this.#rows.values()) syncRow(row, gridPaused);
  }

  /** Builds a tab's row once; later refreshes only touch its text, so its button stays clickable. */
  #row(entry: RosterEntry): RosterRow {
    const tr = document.createElement('tr');
    tr.dataset['volunteerId'] = entry.volunteerId;
    const tab = tr.insertCell();
    const browser = tr.insertCell();
    const cores = tr.insertCell();
    const stateCell = tr.insertCell();
    const done = tr.insertCell();
    const cpu = tr.insertCell();
    const taskTime = tr.insertCell();
    const actions = tr.insertCell();
    tab.className = 'roster-tab';
    tab.title = `tab ${entry.volunteerId}\ndevice ${entry.deviceId}`;
    const state = el('span', 'state');
    const note = el('span', 'muted state-note');
    stateCell.append(state, ' ', note);
    const toggle = el('button', 'secondary toggle');
    toggle.type = 'button';
    const error = el('span', 'error row-error');
    error.hidden = true;
    actions.append(toggle, error);
    const row: RosterRow = {
      tr,
      tab,
      number: ++this.#numbered,
      browser,
      cores,
      state,
      note,
      done,
      cpu,
      taskTime,
      toggle,
      error,
      entry,
      busy: false,
    };
    toggle.addEventListener('click', () => this.onToggle(row));
    return row;
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return part<T>(this.section, selector, '[grids]');
  }
}

/** Fills a row in from its latest entry; `gridPaused` when the whole grid is paused. */
export function syncRow(row: RosterRow, gridPaused: boolean): void {
  const { entry } = row;
  row.tr.dataset['state'] = entry.state;
  row.tr.dataset['pausedByAdmin'] = String(entry.pausedByAdmin);
  row.tab.replaceChildren(...tabLabel(entry, row.number));
  row.browser.textContent = entry.browser;
  // A tab its volunteer paused asks for 0 cores: a dash reads better than a zero.
  row.cores.textContent = entry.cores > 0 ? String(entry.cores) : '—';
  row.state.textContent = entry.state;
  row.state.className = `state ${entry.state}`;
  row.note.textContent = stateNote(entry, gridPaused);
  row.done.textContent = String(entry.tasksDone);
  row.cpu.textContent = formatMs(entry.cpuSeconds * 1000);
  row.taskTime.textContent = entry.taskMs === undefined ? '—' : formatMs(entry.taskMs);
  const resume = entry.pausedByAdmin;
  row.toggle.hidden = entry.state === 'gone';
  row.toggle.textContent = resume ? 'Resume' : 'Pause';
  row.toggle.dataset['action'] = resume ? 'resume' : 'pause';
  // The grid's own pause outranks a tab's resume on the server: only Resume all lifts it.
  row.toggle.disabled = row.busy || (resume && gridPaused);
  row.toggle.title =
    resume && gridPaused
      ? 'The whole grid is paused: Resume all resumes it'
      : resume
        ? 'Let this tab take work again'
        : 'Stop this tab taking work; it hands back what it holds';
}

/**
 * The name its volunteer gave, else "Tab 3 · Chrome · joined 12:04"; the id's head below, for
 * telling apart two tabs of one name.
 */
export function tabLabel(entry: RosterEntry, number: number): HTMLElement[] {
  const browser = entry.browser.split(' ')[0] ?? entry.browser;
  const joined = entry.joinedAt === undefined ? [] : [`joined ${formatClock(entry.joinedAt)}`];
  const name = entry.nickname?.trim()
    ? el('span', 'tab-name nickname', entry.nickname.trim())
    : el('span', 'tab-name', [`Tab ${number}`, browser, ...joined].join(' · '));
  return [name, el('span', 'muted mono tab-id', shortId(entry.volunteerId))];
}

function describeCounts(grid: GridSummary): string {
  const count = (state: RosterEntry['state']): number =>
    grid.devices.filter((device) => device.state === state).length;
  const live = grid.devices.length - count('gone');
  const parts = [`${live} live ${live === 1 ? 'tab' : 'tabs'}`];
  for (const state of ['working', 'idle', 'paused'] as const)
    if (count(state) > 0) parts.push(`${count(state)} ${state}`);
  if (grid.paused) parts.push('whole grid paused');
  return parts.join(' · ');
}

function stateNote(entry: RosterEntry, gridPaused: boolean): string {
  switch (entry.state) {
    case 'working':
      return `holds ${entry.holding}`;
    case 'paused': {
      const by = !entry.pausedByAdmin
        ? 'by its volunteer'
        : gridPaused
          ? 'with the grid'
          : 'by you';
      return entry.holding > 0 ? `${by}, handing back ${entry.holding}` : by;
    }
    case 'gone':
      return `left ${new Date(entry.lastSeen).toLocaleTimeString()}`;
    case 'idle':
      return '';
  }
}
