/**
 * @module The Grids section: create a class's or lab's grid, show its join code, link and QR code
 * to the room, and its live roster of tabs with pause and resume per tab or for the whole grid.
 */
import QRCode from 'qrcode';
import type { GridSummary, RosterEntry } from '../../shared/job.ts';
import { ApiError, type AdminApi } from './api.ts';
import { formatMs, shortId } from './timeline.ts';
import { el } from './dom.ts';

const ROSTER_REFRESH_MS = 1_000;
/** The list only feeds the live-tab counts and the job form's select: it can lag more. */
const LIST_REFRESH_MS = 5_000;
const SELECTED_KEY = 'browsergrid.adminGrid';
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** About the QR code's shown width in CSS pixels: big enough for a phone across a desk. */
const QR_TARGET_PX = 220;
/** Modules of quiet zone around the code; scanners need some, the card is white anyway. */
const QR_MARGIN = 2;

export interface GridsOptions {
  /** Called with every fresh list of grids, e.g. to offer them in the job form. */
  onList?(grids: readonly GridSummary[]): void;
}

/** What the page knows of a grid before its first roster arrives (e.g. just created). */
type GridHead = Pick<GridSummary, 'code' | 'name' | 'joinUrl'>;

interface ListRow {
  tr: HTMLTableRowElement;
  name: HTMLTableCellElement;
  live: HTMLTableCellElement;
  show: HTMLButtonElement;
}

interface RosterRow {
  tr: HTMLTableRowElement;
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

export class GridsPanel {
  #api: AdminApi | undefined;
  /** In the server's order: newest first. */
  #grids: GridSummary[] = [];
  readonly #listRows = new Map<string, ListRow>();
  readonly #rosterRows = new Map<string, RosterRow>();
  #selected: string | undefined;
  /** The selected grid as last drawn. */
  #current: GridSummary | undefined;
  #listTimer: ReturnType<typeof setTimeout> | undefined;
  #rosterTimer: ReturnType<typeof setTimeout> | undefined;
  #listRequests = 0;
  /** Bumped on select and close, so a response for an earlier grid is not drawn. */
  #generation = 0;
  /**
   * Roster answers (refreshes and pause/resume replies) are numbered as sent: a refresh sent
   * before a pause must not redraw the row as unpaused after the pause's reply.
   */
  #rosterSent = 0;
  #rosterDrawn = 0;
  #gridBusy = false;

  constructor(
    private readonly section: HTMLElement,
    private readonly options: GridsOptions = {},
  ) {
    this.#part<HTMLFormElement>('#grid-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#create();
    });
    this.#part('.grid-detail .close').addEventListener('click', () => this.close());
    this.#part('.pause-all').addEventListener('click', () => void this.#pauseGrid(true));
    this.#part('.resume-all').addEventListener('click', () => void this.#pauseGrid(false));
  }

  /** Shows the section for a logged-in admin and starts keeping the list fresh. */
  start(api: AdminApi): void {
    this.#api = api;
    this.section.hidden = false;
    void this.#refreshList().then(() => {
      const saved = localStorage.getItem(SELECTED_KEY);
      const grid = this.#grids.find((candidate) => candidate.code === saved);
      if (grid && this.#selected === undefined) this.select(grid);
    });
  }

  /** Shows one grid: its join details at once, its roster from now on every second. */
  select(grid: GridHead): void {
    this.#stopRoster();
    this.#selected = grid.code;
    this.#current = undefined;
    localStorage.setItem(SELECTED_KEY, grid.code);
    const detail = this.#part('.grid-detail');
    this.#part('.grid-title').textContent = grid.name;
    this.#part('.grid-code').textContent = grid.code;
    const link = this.#part<HTMLAnchorElement>('.grid-link');
    link.href = grid.joinUrl;
    link.textContent = grid.joinUrl;
    const localHost = localHostOf(grid.joinUrl);
    this.#part('.grid-link-warning').hidden = localHost === undefined;
    this.#part('.grid-link-host').textContent = localHost ?? '';
    for (const row of this.#rosterRows.values()) row.tr.remove();
    this.#rosterRows.clear();
    this.#part('.roster-empty').hidden = true;
    this.#part('.roster').hidden = true;
    this.#part('.grid-counts').textContent = 'Loading…';
    showError(this.#part('.grid-pause-error'), undefined);
    showError(this.#part('.grid-roster-error'), undefined);
    this.#syncControls();
    detail.hidden = false;
    this.#markSelected();
    void this.#drawQr(grid.joinUrl, this.#generation);
    void this.#refreshRoster(this.#generation);
  }

  close(): void {
    this.#stopRoster();
    this.#selected = undefined;
    this.#current = undefined;
    localStorage.removeItem(SELECTED_KEY);
    this.#part('.grid-detail').hidden = true;
    this.#markSelected();
  }

  #stopRoster(): void {
    this.#generation++;
    clearTimeout(this.#rosterTimer);
    this.#rosterTimer = undefined;
  }

  async #create(): Promise<void> {
    const api = this.#api;
    if (!api) return;
    const input = this.#part<HTMLInputElement>('#grid-form input[name="name"]');
    const button = this.#part<HTMLButtonElement>('#grid-form button');
    const error = this.#part('.grid-create-error');
    const name = input.value.trim();
    if (!name) {
      showError(error, new Error('Name the grid first, e.g. after the class or room.'));
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      const created = await api.createGrid(name);
      input.value = '';
      showError(error, undefined);
      this.select(created);
      await this.#refreshList();
    } catch (failure) {
      showError(error, failure);
    } finally {
      button.disabled = false;
    }
  }

  async #refreshList(): Promise<void> {
    const api = this.#api;
    if (!api) return;
    clearTimeout(this.#listTimer);
    const request = ++this.#listRequests;
    const error = this.#part('.grid-list-error');
    try {
      const grids = await api.grids();
      if (request !== this.#listRequests) return;
      this.#grids = grids;
      this.#renderList();
      this.options.onList?.(grids);
      showError(error, undefined);
    } catch (failure) {
      if (request !== this.#listRequests) return;
      showError(error, failure);
    }
    this.#listTimer = setTimeout(() => void this.#refreshList(), LIST_REFRESH_MS);
  }

  async #refreshRoster(generation: number): Promise<void> {
    const api = this.#api;
    const code = this.#selected;
    if (!api || code === undefined) return;
    const sent = ++this.#rosterSent;
    const error = this.#part('.grid-roster-error');
    try {
      const grid = await api.grid(code);
      if (generation !== this.#generation) return;
      this.#draw(grid, sent);
      showError(error, undefined);
    } catch (failure) {
      if (generation !== this.#generation) return;
      showError(error, failure);
    }
    this.#rosterTimer = setTimeout(() => void this.#refreshRoster(generation), ROSTER_REFRESH_MS);
  }

  async #pauseGrid(paused: boolean): Promise<void> {
    const api = this.#api;
    const code = this.#selected;
    if (!api || code === undefined) return;
    const generation = this.#generation;
    const error = this.#part('.grid-pause-error');
    this.#gridBusy = true;
    this.#syncControls();
    const sent = ++this.#rosterSent;
    try {
      const grid = await api.setPaused(code, paused);
      if (generation !== this.#generation) return;
      showError(error, undefined);
      this.#draw(grid, sent);
    } catch (failure) {
      if (generation === this.#generation) showError(error, failure);
    } finally {
      this.#gridBusy = false;
      if (generation === this.#generation) this.#syncControls();
    }
  }

  async #pauseTab(row: RosterRow): Promise<void> {
    const api = this.#api;
    const code = this.#selected;
    if (!api || code === undefined) return;
    const generation = this.#generation;
    const pause = !row.entry.pausedByAdmin;
    row.busy = true;
    this.#syncRow(row);
    const sent = ++this.#rosterSent;
    try {
      const grid = await api.setPaused(code, pause, row.entry.volunteerId);
      if (generation !== this.#generation) return;
      showError(row.error, undefined);
      this.#draw(grid, sent);
    } catch (failure) {
      if (generation === this.#generation) showError(row.error, failure);
    } finally {
      row.busy = false;
      if (generation === this.#generation) this.#syncRow(row);
    }
  }

  async #drawQr(joinUrl: string, generation: number): Promise<void> {
    const img = this.#part<HTMLImageElement>('.grid-qr');
    const error = this.#part('.grid-qr-error');
    img.hidden = true;
    try {
      // Whole pixels per module, drawn at twice the shown size: sharp on a projector or a
      // high-DPI screen, where a scaled image would blur or give modules uneven widths.
      const modules = QRCode.create(joinUrl, { errorCorrectionLevel: 'M' }).modules.size;
      const side = modules + 2 * QR_MARGIN;
      const shownScale = Math.max(2, Math.floor(QR_TARGET_PX / side));
      const src = await QRCode.toDataURL(joinUrl, {
        errorCorrectionLevel: 'M',
        margin: QR_MARGIN,
        scale: 2 * shownScale,
      });
      if (generation !== this.#generation) return;
      img.src = src;
      img.width = img.height = side * shownScale;
      img.hidden = false;
      showError(error, undefined);
    } catch (failure) {
      if (generation === this.#generation) showError(error, failure);
    }
  }

  #renderList(): void {
    const body = this.#part<HTMLTableSectionElement>('.grid-list tbody');
    const codes = new Set(this.#grids.map((grid) => grid.code));
    for (const [code, row] of this.#listRows) {
      if (codes.has(code)) continue;
      row.tr.remove();
      this.#listRows.delete(code);
    }
    this.#grids.forEach((grid, position) => {
      let row = this.#listRows.get(grid.code);
      if (!row) {
        row = this.#listRow(grid.code);
        this.#listRows.set(grid.code, row);
      }
      row.name.textContent = grid.name;
      this.#updateListCount(row, grid);
      if (body.children[position] !== row.tr)
        body.insertBefore(row.tr, body.children[position] ?? null);
    });
    this.#part('.grid-list').hidden = this.#grids.length === 0;
    this.#part('.grid-list-empty').hidden = this.#grids.length > 0;
    this.#markSelected();
  }

  #listRow(code: string): ListRow {
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
    show.addEventListener('click', () => {
      const grid = this.#grids.find((candidate) => candidate.code === code);
      if (grid) this.select(grid);
    });
    actions.append(show);
    return { tr, name, live, show };
  }

  #updateListCount(row: ListRow, grid: GridSummary): void {
    const live = grid.devices.filter((device) => device.state !== 'gone').length;
    row.live.textContent = String(live);
    row.tr.dataset['live'] = String(live);
  }

  #markSelected(): void {
    for (const [code, row] of this.#listRows) {
      const selected = code === this.#selected;
      row.tr.classList.toggle('selected', selected);
      row.show.disabled = selected;
      row.show.textContent = selected ? 'Shown' : 'Show';
    }
  }

  #draw(grid: GridSummary, sent: number): void {
    if (sent < this.#rosterDrawn) return;
    this.#rosterDrawn = sent;
    this.#current = grid;
    this.#part('.grid-title').textContent = grid.name;
    const listRow = this.#listRows.get(grid.code);
    if (listRow) this.#updateListCount(listRow, grid);
    this.#part('.grid-detail').dataset['paused'] = String(grid.paused);
    this.#part('.grid-counts').textContent = describeCounts(grid);

    const body = this.#part<HTMLTableSectionElement>('.roster tbody');
    const ids = new Set(grid.devices.map((device) => device.volunteerId));
    for (const [id, row] of this.#rosterRows) {
      if (ids.has(id)) continue;
      row.tr.remove();
      this.#rosterRows.delete(id);
    }
    grid.devices.forEach((entry, position) => {
      let row = this.#rosterRows.get(entry.volunteerId);
      if (!row) {
        row = this.#rosterRow(entry);
        this.#rosterRows.set(entry.volunteerId, row);
      }
      row.entry = entry;
      if (body.children[position] !== row.tr)
        body.insertBefore(row.tr, body.children[position] ?? null);
    });
    this.#part('.roster').hidden = grid.devices.length === 0;
    this.#part('.roster-empty').hidden = grid.devices.length > 0;
    this.#syncControls();
  }

  /** Builds a tab's row once; later refreshes only touch its text, so its button stays clickable. */
  #rosterRow(entry: RosterEntry): RosterRow {
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
    tab.className = 'mono';
    tab.textContent = shortId(entry.volunteerId);
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
    toggle.addEventListener('click', () => void this.#pauseTab(row));
    return row;
  }

  #syncRow(row: RosterRow): void {
    const { entry } = row;
    const gridPaused = this.#current?.paused ?? false;
    row.tr.dataset['state'] = entry.state;
    row.tr.dataset['pausedByAdmin'] = String(entry.pausedByAdmin);
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

  #syncControls(): void {
    const grid = this.#current;
    this.#part<HTMLButtonElement>('.pause-all').disabled =
      this.#gridBusy || grid === undefined || grid.paused;
    this.#part<HTMLButtonElement>('.resume-all').disabled =
      this.#gridBusy ||
      grid === undefined ||
      !(grid.paused || grid.devices.some((device) => device.pausedByAdmin));
    for (const row of this.#rosterRows.values()) this.#syncRow(row);
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    const found = this.section.querySelector<T>(selector);
    if (!found) throw new Error(`[grids]: section is missing ${selector}`);
    return found;
  }
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

/** The link's host if it is this machine's own name, which students' devices cannot reach. */
function localHostOf(url: string): string | undefined {
  try {
    const { hostname } = new URL(url);
    return LOCAL_HOSTS.has(hostname) ? hostname : undefined;
  } catch {
    return undefined;
  }
}

/** The server's message, without its `[module]: ` tag, which means nothing to a teacher. */
function showError(target: HTMLElement, error: unknown): void {
  target.hidden = error === undefined;
  if (error === undefined) {
    target.textContent = '';
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  const plain = message.replace(/^\[[\w:-]+\]:\s*/, '');
  target.textContent =
    error instanceof ApiError && error.field && !plain.includes(error.field)
      ? `${error.field}: ${plain}`
      : plain;
}
