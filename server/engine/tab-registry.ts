/**
 * @module The connected tabs as the engine sees them: the link to each, what it asked for (slots,
 * grid, browser), which ones an admin paused, and recently departed ones for a grid's roster.
 * The scheduler holds the scheduling side (leases, speed); this holds the rest.
 */
import type { AssignBatch, CancelBatch, Control, PausedBy } from '../../shared/protocol.ts';

/** How the engine reaches one connected tab; the socket handlers make one per connection. */
export interface VolunteerLink {
  assign(batch: AssignBatch): void;
  cancel(batch: CancelBatch): void;
  control(control: Control): void;
  /** Tells the tab why, then closes its connection (a banned device). */
  close(reason: string): void;
}

export interface Contribution {
  tasksDone: number;
  cpuMs: number;
}

export interface TabInfo {
  volunteerId: string;
  deviceId: string;
  grid?: string;
  userAgent?: string;
  nickname?: string;
  /** Slots the tab asks for (0 when its volunteer paused it). */
  requestedSlots: number;
  connectedAt: number;
  lastSeen: number;
}

/** How long a departed tab stays on its grid's roster as 'gone'. */
const DEPARTED_KEEP_MS = 10 * 60_000;
const DEPARTED_MAX = 1_000;

export class TabRegistry {
  readonly #links = new Map<string, VolunteerLink>();
  readonly #tabs = new Map<string, TabInfo>();
  readonly #departed = new Map<string, TabInfo & Contribution>();
  /** Tabs paused one by one, with their grid (a grid's resume lifts them, here or gone). */
  readonly #pausedTabs = new Map<string, string>();
  readonly #pausedGrids = new Set<string>();

  register(info: TabInfo, link: VolunteerLink): void {
    this.#links.set(info.volunteerId, link);
    this.#tabs.set(info.volunteerId, info);
    this.#departed.delete(info.volunteerId);
  }

  /** Forgets a tab if `link` is still its link (a newer connection may have taken over). */
  unregister(volunteerId: string, link: VolunteerLink, now: number, done: Contribution): boolean {
    if (this.#links.get(volunteerId) !== link) return false;
    this.#links.delete(volunteerId);
    const info = this.#tabs.get(volunteerId);
    this.#tabs.delete(volunteerId);
    if (info?.grid !== undefined) {
      this.#departed.set(volunteerId, { ...info, lastSeen: now, ...done });
      this.#prune(now);
    }
    return true;
  }

  link(volunteerId: string): VolunteerLink | undefined {
    return this.#links.get(volunteerId);
  }

  info(volunteerId: string): TabInfo | undefined {
    return this.#tabs.get(volunteerId);
  }

  has(volunteerId: string): boolean {
    return this.#links.has(volunteerId);
  }

  get size(): number {
    return this.#links.size;
  }

  isPaused(volunteerId: string): boolean {
    const info = this.#tabs.get(volunteerId);
    return (
      this.isTabPaused(volunteerId) ||
      (info?.grid !== undefined && this.#pausedGrids.has(info.grid))
    );
  }

  /** Who paused the tab, if anyone: a paused grid is said before the tab's own pause. */
  pausedBy(volunteerId: string): Extract<PausedBy, 'grid' | 'tab'> | undefined {
    const grid = this.#tabs.get(volunteerId)?.grid;
    if (grid !== undefined && this.#pausedGrids.has(grid)) return 'grid';
    return this.isTabPaused(volunteerId) ? 'tab' : undefined;
  }

  /**
   * Whether the tab's own pause is set (its grid's aside). A second connection of a paused tab
   * (`id~suffix`, its old one not yet seen closed) is paused with it.
   */
  isTabPaused(volunteerId: string): boolean {
    return this.#pausedTabs.has(volunteerId) || this.#pausedTabs.has(saidTabId(volunteerId));
  }

  isGridPaused(grid: string): boolean {
    return this.#pausedGrids.has(grid);
  }

  /** Slots the scheduler should use: what the tab asks for, unless an admin paused it. */
  effectiveSlots(volunteerId: string): number {
    return this.isPaused(volunteerId) ? 0 : (this.#tabs.get(volunteerId)?.requestedSlots ?? 0);
  }

  /** A tab's pause recorded before a restart, applied when (if) the tab comes back. */
  restorePaused(volunteerId: string, grid: string): void {
    this.#pausedTabs.set(volunteerId, grid);
  }

  /**
   * Pauses or resumes one tab, or a whole grid; returns the tabs whose state may have changed, or
   * undefined when the tab is not a live tab of that grid.
   */
  setPaused(target: { grid: string; volunteerId?: string }, paused: boolean): string[] | undefined {
    if (target.volunteerId !== undefined) {
      if (this.#tabs.get(target.volunteerId)?.grid !== target.grid) return undefined;
      if (paused) this.#pausedTabs.set(target.volunteerId, target.grid);
      else {
        this.#pausedTabs.delete(target.volunteerId);
        this.#pausedTabs.delete(saidTabId(target.volunteerId));
      }
      return this.#tabs.has(target.volunteerId) ? [target.volunteerId] : [];
    }
    if (paused) this.#pausedGrids.add(target.grid);
    else {
      this.#pausedGrids.delete(target.grid);
      // Resuming a grid resumes each of its tabs too, those away now included (as in the store).
      for (const [id, grid] of this.#pausedTabs)
        if (grid === target.grid) this.#pausedTabs.delete(id);
    }
    return [...this.#tabs.values()]
      .filter((info) => info.grid === target.grid)
      .map((info) => info.volunteerId);
  }

  inGrid(grid: string): TabInfo[] {
    return [...this.#tabs.values()].filter((info) => info.grid === grid);
  }

  departedFrom(grid: string, now: number): Array<TabInfo & Contribution> {
    this.#prune(now);
    return [...this.#departed.values()].filter((info) => info.grid === grid);
  }

  #prune(now: number): void {
    for (const [id, info] of this.#departed) {
      if (now - info.lastSeen > DEPARTED_KEEP_MS || this.#departed.size > DEPARTED_MAX) {
        this.#departed.delete(id);
        // A pause outlives a reload, not a tab gone for good.
        if (!this.#tabs.has(id)) this.#pausedTabs.delete(id);
      }
    }
  }
}

/**
 * The tab id the tab said in its hello: a second live connection under one tab id is registered
 * as `id~suffix` (server/realtime/volunteer-handlers.ts); tab ids themselves never hold a `~`.
 */
function saidTabId(volunteerId: string): string {
  const at = volunteerId.indexOf('~');
  return at < 0 ? volunteerId : volunteerId.slice(0, at);
}
