/**
 * @module The tab roster: connected tabs, their slots and devices, and which of them wait for work.
 */
import { DeviceCensus } from './device-census.ts';
import type { VolunteerEntry } from './state.ts';

/** What a tab says when it (re)connects. */
export interface TabHello {
  volunteerId: string;
  deviceId: string;
  address?: string;
  slots: number;
  grid?: string;
}

export class TabRoster {
  readonly #volunteers = new Map<string, VolunteerEntry>();
  /** Tabs left below their target because no work was eligible: refilled when work appears. */
  readonly #hungry = new Set<string>();
  /** The same by grid ('' for the public pool): a grid's idle tabs are counted without the rest. */
  readonly #hungryByGrid = new Map<string, Set<string>>();
  /** Sum of connected tabs' slots, for fair shares. */
  #totalSlots = 0;
  /** The same per grid ('' for the public pool): a grid's jobs run only on its tabs. */
  readonly #gridSlots = new Map<string, number>();
  /** Connected devices and addresses, for spreading a task's copies (device-spread.ts). */
  readonly census = new DeviceCensus();
  /** Bumped when a tab comes, goes, or changes its slots or grid. */
  #version = 0;

  /** Changes whenever the set of tabs, or any tab's slots or grid, changed. */
  get version(): number {
    return this.#version;
  }

  get(volunteerId: string): VolunteerEntry | undefined {
    return this.#volunteers.get(volunteerId);
  }

  values(): IterableIterator<VolunteerEntry> {
    return this.#volunteers.values();
  }

  get totalSlots(): number {
    return this.#totalSlots;
  }

  /** Slots of the connected tabs that may run a grid's jobs (undefined: the public pool's). */
  slotsFor(grid: string | undefined): number {
    return this.#gridSlots.get(grid ?? '') ?? 0;
  }

  #addSlots(grid: string | undefined, slots: number): void {
    this.#totalSlots += slots;
    const key = grid ?? '';
    const left = (this.#gridSlots.get(key) ?? 0) + slots;
    if (left === 0) this.#gridSlots.delete(key);
    else this.#gridSlots.set(key, left);
  }

  /** Whether this entry is the connected one (not a tab that left meanwhile). */
  isConnected(volunteer: VolunteerEntry): boolean {
    return this.#volunteers.get(volunteer.volunteerId) === volunteer;
  }

  /** A tab (re)connects. A tab id seen before keeps its leases: a reloaded tab reclaims them. */
  join(hello: TabHello): VolunteerEntry {
    const existing = this.#volunteers.get(hello.volunteerId);
    // Hungry or not, a tab starts over; the fill after its hello says.
    if (existing) this.setHungry(existing.volunteerId, false);
    const volunteer: VolunteerEntry = existing ?? {
      volunteerId: hello.volunteerId,
      deviceId: hello.deviceId,
      leases: new Set(),
      heldBytes: 0,
      knownJobs: new Set(),
      slots: 0,
      tasksDone: 0,
      cpuMs: 0,
    };
    // A new connection has none of the job code the old one received.
    volunteer.knownJobs = new Set();
    if (existing) this.#addSlots(existing.grid, -existing.slots);
    this.#addSlots(hello.grid, hello.slots);
    this.#version++;
    volunteer.deviceId = hello.deviceId;
    volunteer.address = hello.address;
    volunteer.grid = hello.grid;
    volunteer.slots = hello.slots;
    this.#volunteers.set(volunteer.volunteerId, volunteer);
    this.census.set(volunteer);
    return volunteer;
  }

  /** A tab left; `seatLost` when its device or address left the census with it. */
  leave(volunteerId: string): { volunteer: VolunteerEntry; seatLost: boolean } | undefined {
    const volunteer = this.#volunteers.get(volunteerId);
    if (!volunteer) return undefined;
    this.setHungry(volunteerId, false);
    this.#volunteers.delete(volunteerId);
    const seatLost = this.census.delete(volunteerId);
    this.#addSlots(volunteer.grid, -volunteer.slots);
    this.#version++;
    return { volunteer, seatLost };
  }

  /** A tab's slots changed (0 while paused); returns whether a seat left the census. */
  resize(volunteer: VolunteerEntry, slots: number): boolean {
    this.#addSlots(volunteer.grid, slots - volunteer.slots);
    volunteer.slots = slots;
    this.#version++;
    return this.census.set(volunteer);
  }

  /** Whether a tab waits for work: the next feed tops it up. */
  setHungry(volunteerId: string, hungry: boolean): void {
    const grid = this.#volunteers.get(volunteerId)?.grid ?? '';
    let inGrid = this.#hungryByGrid.get(grid);
    if (hungry) {
      this.#hungry.add(volunteerId);
      if (!inGrid) this.#hungryByGrid.set(grid, (inGrid = new Set()));
      inGrid.add(volunteerId);
    } else {
      this.#hungry.delete(volunteerId);
      inGrid?.delete(volunteerId);
      if (inGrid?.size === 0) this.#hungryByGrid.delete(grid);
    }
  }

  /** Connected tabs waiting for work, one at a time (departed ones are forgotten on the way). */
  *hungry(): Generator<VolunteerEntry> {
    for (const volunteerId of [...this.#hungry]) {
      const volunteer = this.#volunteers.get(volunteerId);
      if (volunteer) yield volunteer;
      else this.setHungry(volunteerId, false);
    }
  }

  /** Free slots of the tabs with room that may run a grid's tasks (bounded, like `idleFor`). */
  idleSlotsFor(grid: string | undefined): number {
    let idle = 0;
    for (const volunteerId of this.#hungryByGrid.get(grid ?? '') ?? []) {
      const volunteer = this.#volunteers.get(volunteerId);
      if (volunteer) idle += Math.max(0, volunteer.slots - volunteer.leases.size);
      if (idle >= 64) return 64;
    }
    return idle;
  }

  /** Tabs with room that may run a grid's tasks (bounded count: speculation needs no more). */
  idleFor(grid: string | undefined): number {
    let idle = 0;
    for (const volunteerId of this.#hungryByGrid.get(grid ?? '') ?? []) {
      const volunteer = this.#volunteers.get(volunteerId);
      if (volunteer && volunteer.slots > 0) idle++;
      if (idle >= 64) break;
    }
    return idle;
  }
}
