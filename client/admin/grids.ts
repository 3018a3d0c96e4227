/**
 * @module The Grids section: create a class's or lab's grid, list the grids, and show one: how to
 * join it (grid-join.ts), its live roster (grid-roster.ts) and its pause controls
 * (grid-pause.ts). This file owns what they share: the API, which grid is shown, the refresh
 * timers and the order in which answers are drawn.
 */
import type { GridSummary } from '../../shared/job.ts';
import type { AdminApi } from './api.ts';
import { part } from './dom.ts';
import { JoinDetails, type GridHead } from './grid-join.ts';
import { GridList } from './grid-list.ts';
import { PauseControls } from './grid-pause.ts';
import { RosterTable } from './grid-roster.ts';
import { showError } from './show-error.ts';

const ROSTER_REFRESH_MS = 1_000;
/** The list only feeds the live-tab counts and the job form's select: it can lag more. */
const LIST_REFRESH_MS = 5_000;
const SELECTED_KEY = 'browsergrid.adminGrid';

export interface GridsOptions {
  /** Called with every fresh list of grids, e.g. to offer them in the job form. */
  onList?(grids: readonly GridSummary[]): void;
}

export class GridsPanel {
  #api: AdminApi | undefined;
  /** In the server's order: newest first. */
  #grids: GridSummary[] = [];
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
  readonly #list: GridList;
  readonly #join: JoinDetails;
  readonly #roster: RosterTable;
  readonly #pause: PauseControls;

  constructor(
    private readonly section: HTMLElement,
    private readonly options: GridsOptions = {},
  ) {
    this.#list = new GridList(section, (code) => {
      const grid = this.#grids.find((candidate) => candidate.code === code);
      if (grid) this.select(grid);
    });
    this.#join = new JoinDetails(section);
    this.#roster = new RosterTable(section, (row) => void this.#pause.pauseTab(row));
    this.#part<HTMLFormElement>('#grid-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#create();
    });
    this.#part('.grid-detail .close').addEventListener('click', () => this.close());
    this.#pause = new PauseControls(section, {
      target: () =>
        this.#api && this.#selected !== undefined
          ? { api: this.#api, code: this.#selected }
          : undefined,
      generation: () => this.#generation,
      nextAnswer: () => ++this.#rosterSent,
      draw: (grid, answer) => this.#draw(grid, answer),
      gridPaused: () => this.#current?.paused ?? false,
      sync: () => this.#syncControls(),
    });
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
    const generation = this.#generation;
    this.#join.show(grid, () => generation === this.#generation);
    this.#roster.clear();
    this.#pause.clearError();
    showError(this.#part('.grid-roster-error'), undefined);
    this.#syncControls();
    detail.hidden = false;
    this.#list.markSelected(this.#selected);
    void this.#refreshRoster(generation);
  }

  close(): void {
    this.#stopRoster();
    this.#selected = undefined;
    this.#current = undefined;
    localStorage.removeItem(SELECTED_KEY);
    this.#part('.grid-detail').hidden = true;
    this.#list.markSelected(this.#selected);
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
      this.#list.render(grids, this.#selected);
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

  /** Draws a roster answer unless a later-sent one was drawn already. */
  #draw(grid: GridSummary, sent: number): void {
    if (sent < this.#rosterDrawn) return;
    this.#rosterDrawn = sent;
    this.#current = grid;
    this.#part('.grid-title').textContent = grid.name;
    this.#list.updateCount(grid);
    this.#part('.grid-detail').dataset['paused'] = String(grid.paused);
    this.#roster.draw(grid);
    this.#syncControls();
  }

  #syncControls(): void {
    this.#pause.syncButtons(this.#current);
    this.#roster.syncAll(this.#current?.paused ?? false);
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return part<T>(this.section, selector, '[grids]');
  }
}
