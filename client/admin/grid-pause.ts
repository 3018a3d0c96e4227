/**
 * @module Pausing and resuming a grid's tabs, all at once or one by one: the requests, the
 * buttons' state while one is on its way, and where a failure is shown.
 */
import type { GridSummary } from '../../shared/job.ts';
import type { AdminApi } from './api.ts';
import { part } from './dom.ts';
import { syncRow, type RosterRow } from './grid-roster.ts';
import { showError } from './show-error.ts';

/** What pausing needs from the Grids section: the grid shown and the order answers are drawn in. */
export interface PauseHost {
  /** The API and the shown grid's code; undefined before login or with no grid shown. */
  target(): { api: AdminApi; code: string } | undefined;
  /** Changes whenever another grid is shown (or none): an answer for an earlier one is dropped. */
  generation(): number;
  /** Numbers a roster answer as it is asked for, so an older one never overwrites it. */
  nextAnswer(): number;
  draw(grid: GridSummary, answer: number): void;
  /** Whether the shown grid, as last drawn, is paused as a whole. */
  gridPaused(): boolean;
  /** Re-syncs the whole-grid buttons and every row. */
  sync(): void;
}

export class PauseControls {
  /** A whole-grid pause or resume is on its way. */
  #busy = false;

  constructor(
    private readonly section: HTMLElement,
    private readonly host: PauseHost,
  ) {
    this.#part('.pause-all').addEventListener('click', () => void this.pauseGrid(true));
    this.#part('.resume-all').addEventListener('click', () => void this.pauseGrid(false));
  }

  /** Enables Pause all and Resume all as far as `grid` allows (undefined: not loaded yet). */
  syncButtons(grid: GridSummary | undefined): void {
    this.#part<HTMLButtonElement>('.pause-all').disabled =
      this.#busy || grid === undefined || grid.paused;
    this.#part<HTMLButtonElement>('.resume-all').disabled =
      this.#busy ||
      grid === undefined ||
      !(grid.paused || grid.devices.some((device) => device.pausedByAdmin));
  }

  clearError(): void {
    showError(this.#part('.grid-pause-error'), undefined);
  }

  async pauseGrid(paused: boolean): Promise<void> {
    const target = this.host.target();
    if (!target) return;
    const generation = this.host.generation();
    const error = this.#part('.grid-pause-error');
    this.#busy = true;
    this.host.sync();
    const answer = this.host.nextAnswer();
    try {
      const grid = await target.api.setPaused(target.code, paused);
      if (generation !== this.host.generation()) return;
      showError(error, undefined);
      this.host.draw(grid, answer);
    } catch (failure) {
      if (generation === this.host.generation()) showError(error, failure);
    } finally {
      this.#busy = false;
      if (generation === this.host.generation()) this.host.sync();
    }
  }

  /** Pauses the row's tab, or resumes it if an admin had paused it. */
  async pauseTab(row: RosterRow): Promise<void> {
    const target = this.host.target();
    if (!target) return;
    const generation = this.host.generation();
    const pause = !row.entry.pausedByAdmin;
    row.busy = true;
    syncRow(row, this.host.gridPaused());
    const answer = this.host.nextAnswer();
    try {
      const grid = await target.api.setPaused(target.code, pause, row.entry.volunteerId);
      if (generation !== this.host.generation()) return;
      showError(row.error, undefined);
      this.host.draw(grid, answer);
    } catch (failure) {
      if (generation === this.host.generation()) showError(row.error, failure);
    } finally {
      row.busy = false;
      if (generation === this.host.generation()) syncRow(row, this.host.gridPaused());
    }
  }

  #part<T extends HTMLElement = HTMLElement>(selector: string): T {
    return part<T>(this.section, selector, '[grids]');
  }
}
