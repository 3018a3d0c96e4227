/**
 * @module Grids (classrooms): creating them, their roster, and pausing their tabs. A pause lives
 * in the tab registry (what a tab is given) and in the store (so it outlives a restart); the
 * scheduler only sees the slots that follow from it.
 */
import type { RosterEntry } from '../../shared/job.ts';
import { CoordinatorError } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Effect, Scheduler } from '../scheduling/scheduler.ts';
import type { JobStore, StoredGrid } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';
import { byContribution, goneEntry, liveEntry, newGridCode } from './roster.ts';
import type { TabRegistry } from './tab-registry.ts';

/** How long a single tab's pause is kept for a tab that has not come back since. */
const TAB_PAUSE_KEEP_MS = 24 * 60 * 60_000;

export interface GridsDeps {
  store: JobStore;
  tabs: TabRegistry;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  log: Log;
  /** A pause or resume is durable: the other nodes are told. */
  changed?(): void;
  /** Live tabs of the grid on other nodes, as those nodes last published them. */
  elsewhereIn?(grid: string): Promise<RosterEntry[]>;
  /** Whether a live tab of another node is in this grid (a pause of it goes through the store). */
  elsewhere?(volunteerId: string, grid: string): Promise<boolean>;
}

export class Grids {
  readonly #deps: GridsDeps;

  constructor(deps: GridsDeps) {
    this.#deps = deps;
  }

  /** Puts back the pauses recorded before a restart; a tab's pause expires after a day away. */
  async restore(): Promise<void> {
    const { store, tabs, clock } = this.#deps;
    const now = clock.now();
    for (const grid of await store.listGrids()) {
      if (grid.paused) tabs.setPaused({ grid: grid.code }, true);
    }
    for (const tab of await store.pausedTabs()) {
      // A tab paused so long ago is not coming back (a reloaded one keeps its id for the session).
      if (now - tab.pausedAt > TAB_PAUSE_KEEP_MS) await store.setTabPaused(tab, false);
      else tabs.restorePaused(tab.volunteerId, tab.grid);
    }
  }

  async create(name: string): Promise<StoredGrid> {
    const { store, clock } = this.#deps;
    for (let attempt = 0; ; attempt++) {
      const grid: StoredGrid = { code: newGridCode(), name, createdAt: clock.now() };
      try {
        await store.createGrid(grid);
        return grid;
      } catch (error) {
        if (!(error instanceof CoordinatorError && error.code === 'conflict') || attempt >= 5)
          throw error;
      }
    }
  }

  async has(code: string): Promise<boolean> {
    return (await this.#deps.store.getGrid(code)) !== undefined;
  }

  async find(code: string): Promise<StoredGrid | undefined> {
    return this.#deps.store.getGrid(code);
  }

  async list(): Promise<StoredGrid[]> {
    return this.#deps.store.listGrids();
  }

  async get(code: string): Promise<StoredGrid> {
    const grid = await this.#deps.store.getGrid(code);
    if (!grid) throw new CoordinatorError('not_found', `[grids]: no grid ${code}`);
    return grid;
  }

  /** A live tab of a grid on this node, as the grid's roster shows it. */
  entry(volunteerId: string): RosterEntry | undefined {
    const { tabs, scheduler, clock } = this.#deps;
    const info = tabs.info(volunteerId);
    if (info?.grid === undefined || !tabs.has(volunteerId)) return undefined;
    return liveEntry(
      info,
      scheduler.getVolunteer(volunteerId),
      tabs.isPaused(volunteerId),
      clock.now(),
    );
  }

  /**
   * The grid's tabs on every node, live and (on this node) recently gone, with what each has
   * done, biggest contributor first.
   */
  async roster(code: string): Promise<{ paused: boolean; devices: RosterEntry[] }> {
    const here = this.#localRoster(code);
    const elsewhere = (await this.#deps.elsewhereIn?.(code).catch(() => [])) ?? [];
    const seen = new Set(here.devices.map((entry) => entry.volunteerId));
    const others = elsewhere.filter((entry) => !seen.has(entry.volunteerId));
    return { paused: here.paused, devices: byContribution([...here.devices, ...others]) };
  }

  #localRoster(code: string): { paused: boolean; devices: RosterEntry[] } {
    const { tabs, scheduler, clock } = this.#deps;
    const now = clock.now();
    const live = tabs
      .inGrid(code)
      .map((info) =>
        liveEntry(
          info,
          scheduler.getVolunteer(info.volunteerId),
          tabs.isPaused(info.volunteerId),
          now,
        ),
      );
    const gone = tabs.departedFrom(code, now).map(goneEntry);
    return { paused: tabs.isGridPaused(code), devices: byContribution([...live, ...gone]) };
  }

  /**
   * Pauses or resumes a grid's tabs (one, or all). A paused tab is told at once, stops taking
   * work and hands back what it holds; the coordinator gives it no slots until resumed, across
   * reconnects too.
   */
  async setPaused(
    target: { grid: string; volunteerId?: string },
    paused: boolean,
  ): Promise<number> {
    const { store, tabs, clock } = this.#deps;
    const { grid, volunteerId } = target;
    const here = volunteerId === undefined || tabs.info(volunteerId)?.grid === grid;
    if (!here && !(await this.#deps.elsewhere?.(volunteerId as string, grid).catch(() => false))) {
      throw new CoordinatorError(
        'not_found',
        `[grids]: no live tab ${volunteerId} in grid ${grid}`,
        {
          field: 'volunteerId',
        },
      );
    }
    const now = clock.now();
    // Durable before it takes effect: a paused room, or tab, stays paused across a restart.
    if (volunteerId === undefined) await store.setGridPaused(grid, paused);
    else await store.setTabPaused({ volunteerId, grid, pausedAt: now }, paused);
    this.#deps.changed?.();
    if (!here) return 1; // its own node applies it when told
    const touched = tabs.setPaused(target, paused) ?? []; // the tab may have left meanwhile
    this.#inform(touched);
    return touched.length;
  }

  /** Another node paused or resumed a grid or a tab: this node's tabs follow the store. */
  async sync(): Promise<void> {
    const { store, tabs } = this.#deps;
    const touched = new Set<string>();
    const pausedTabs = new Set((await store.pausedTabs()).map((tab) => tab.volunteerId));
    for (const grid of await store.listGrids()) {
      const paused = grid.paused === true;
      if (tabs.isGridPaused(grid.code) !== paused) {
        for (const id of tabs.setPaused({ grid: grid.code }, paused) ?? []) touched.add(id);
      }
      for (const { volunteerId } of tabs.inGrid(grid.code)) {
        const paused = pausedTabs.has(volunteerId);
        if (tabs.isTabPaused(volunteerId) === paused) continue;
        tabs.setPaused({ grid: grid.code, volunteerId }, paused);
        touched.add(volunteerId);
      }
    }
    this.#inform([...touched]);
  }

  /** Tells tabs whose pause changed, and gives or takes their slots. */
  #inform(touched: readonly string[]): void {
    const { tabs, scheduler, effects: applier, clock } = this.#deps;
    const effects: Effect[] = [];
    for (const id of touched) {
      const pausedBy = tabs.pausedBy(id);
      tabs
        .link(id)
        ?.control(
          pausedBy
            ? { paused: true, reason: 'paused by the grid admin', pausedBy }
            : { paused: false },
        );
      scheduler.setSlots(id, tabs.effectiveSlots(id), clock.now(), effects);
    }
    void applier.applyLogged(effects);
  }
}
