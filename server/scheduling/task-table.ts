/**
 * @module A job's tasks in memory, in space that does not grow with the job. Only tasks some copy
 * has touched and that are not yet settled have an entry; untouched ones are index ranges, and
 * settled ones are forgotten (the store holds them, and `done`/`failed` count them). A job of ten
 * million tasks costs a few ranges plus its tasks in flight.
 */
import { IndexRanges } from './index-ranges.ts';
import type { ItemOutcome } from '../../shared/job.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';

export type TaskStatus = 'pending' | 'committed' | 'failed';

export interface Vote {
  /** Devices that sent this exact result (canonical JSON). */
  devices: Set<string>;
  /** The remote address each of those devices sent it from, where known. */
  addresses: Map<string, string>;
  items: ItemOutcome[];
}

export interface TaskEntry {
  status: TaskStatus;
  /** Failed attempts: errors and timeouts (not drops). */
  attempts: number;
  /** Copies lost because their tab went away. */
  drops: number;
  /** Failures of this task per device (voter, see voters.ts); not kept across a restart. */
  failedDevices?: Map<string, number>;
  /** Addresses (device-census.ts `seatAddress`) whose copies of this task failed. */
  failedAddresses?: Set<string>;
  /** Live copies. Invariant: every id here is live in the copy book (copy-book.ts). */
  leases: string[];
  /** Whether the task sits in its job's queue waiting for a copy. */
  queued: boolean;
  /** Distinct results seen, keyed by canonical JSON; only kept when redundancy > 1. */
  votes?: Map<string, Vote>;
  lastError?: string;
  /** Copies dispatched so far. */
  copies: number;
  /** A speculative backup was decided: one copy more than redundancy may run. */
  backup?: boolean;
  /** Agreeing results needed, fixed at the first copy (adaptive trust may lower it to 1). */
  quorum?: number;
  /** The trusted device a lowered quorum holds for; anyone else's result needs full agreement. */
  quorumDevice?: string;
  /** Latest checkpoint reported by any copy; handed to the next copy. */
  checkpoint?: TaskCheckpoint;
  /**
   * Another node holds the task; this node runs one backup copy of it, whose result goes to the
   * holder (borrowing.ts). Never settled, retried or checkpointed here.
   */
  borrowed?: boolean;
}

export class TaskTable {
  readonly count: number;
  /** Tasks this node may run: the whole job, or the ranges it claimed (several nodes). */
  readonly #claimed: IndexRanges;
  /** Claimed tasks never touched: pending, no attempt, no checkpoint, no copy. */
  readonly #fresh: IndexRanges;
  /** Touched and not settled (borrowed tasks included, see `borrow`). */
  readonly #live = new Map<number, TaskEntry>();
  /** Tasks of other nodes ever borrowed here: each gets one backup copy from this node at most. */
  readonly #borrowed = new Set<number>();

  /**
   * `settledInOrder` lists the tasks settled before (a restored job), ascending. With `claim`
   * 'none' the node holds no task until it adds claimed ranges (`addRange`).
   */
  constructor(count: number, settledInOrder: Iterable<number> = [], claim: 'all' | 'none' = 'all') {
    this.count = count;
    const whole = claim === 'all';
    this.#claimed = new IndexRanges(whole && count > 0 ? [[0, count]] : []);
    this.#fresh = new IndexRanges(whole ? gaps(0, count, settledInOrder) : []);
  }

  /**
   * Adds a range this node claimed, `[start, end)` clipped to the job; its tasks not in
   * `settledInOrder` (ascending) become fresh. A range already held is refused.
   */
  addRange(start: number, end: number, settledInOrder: Iterable<number> = []): void {
    const from = Math.max(0, start);
    const to = Math.min(this.count, end);
    if (to <= from) return;
    this.#claimed.add(from, to);
    for (const [gapStart, gapEnd] of gaps(from, to, settledInOrder))
      this.#fresh.add(gapStart, gapEnd);
    // A task borrowed from the range's last holder is this node's own now, copy and all.
    for (const [taskIndex, entry] of this.#live) {
      if (!entry.borrowed || taskIndex < from || taskIndex >= to) continue;
      this.#fresh.delete(taskIndex);
      entry.borrowed = undefined;
      entry.quorum = undefined;
    }
  }

  /** Whether this node holds the task (the whole job, or a range it claimed). */
  isClaimed(taskIndex: number): boolean {
    return Number.isInteger(taskIndex) && this.#claimed.has(taskIndex);
  }

  /**
   * The entry of an unsettled task, made on first touch; undefined once the task has settled (or
   * for an index outside the job).
   */
  at(taskIndex: number): TaskEntry | undefined {
    if (!Number.isInteger(taskIndex)) return undefined;
    const entry = this.#live.get(taskIndex);
    if (entry) return entry;
    if (!this.#fresh.delete(taskIndex)) return undefined;
    return this.#touch(taskIndex);
  }

  /** The entry of a touched, unsettled task, if it has one; never makes one. */
  peek(taskIndex: number): TaskEntry | undefined {
    return this.#live.get(taskIndex);
  }

  /** Whether a task this node holds settled (in this process or before a restart). */
  isSettled(taskIndex: number): boolean {
    if (!this.isClaimed(taskIndex)) return false;
    return !this.#live.has(taskIndex) && !this.#fresh.has(taskIndex);
  }

  /** Takes the lowest untouched task: it gets an entry and leaves the fresh ranges. */
  takeFresh(): number | undefined {
    const taskIndex = this.#fresh.shift();
    if (taskIndex !== undefined) this.#touch(taskIndex);
    return taskIndex;
  }

  /** Untouched tasks left: every one waits for its first copy. */
  get freshCount(): number {
    return this.#fresh.size;
  }

  /** Touched, unsettled tasks: the entries held. */
  get liveCount(): number {
    return this.#live.size;
  }

  /** Forgets a task that just settled; later reads see it as settled. */
  settle(taskIndex: number): void {
    this.#live.delete(taskIndex);
  }

  /**
   * An entry for a task another node holds, for one backup copy here; undefined if this node
   * holds the task, has an entry for it, or borrowed it before.
   */
  borrow(taskIndex: number): TaskEntry | undefined {
    if (!Number.isInteger(taskIndex) || taskIndex < 0 || taskIndex >= this.count) return undefined;
    if (this.#claimed.has(taskIndex) || this.#borrowed.has(taskIndex)) return undefined;
    this.#borrowed.add(taskIndex);
    const entry = this.#touch(taskIndex);
    entry.borrowed = true;
    entry.quorum = 1;
    return entry;
  }

  /** Borrowed tasks whose backup copy runs here now. */
  *borrowedRunning(): Generator<number> {
    for (const [taskIndex, entry] of this.#live) {
      if (entry.borrowed && entry.leases.length > 0) yield taskIndex;
    }
  }

  /** Tasks of other nodes borrowed here so far. */
  get borrowedCount(): number {
    return this.#borrowed.size;
  }

  /** Forgets a borrowed task once its copy ended; a no-op while it runs, and for any other. */
  forgetBorrowed(taskIndex: number): void {
    const entry = this.#live.get(taskIndex);
    if (entry?.borrowed && entry.leases.length === 0) this.#live.delete(taskIndex);
  }

  /** Touched, unsettled tasks with their entries. */
  live(): IterableIterator<[number, TaskEntry]> {
    return this.#live.entries();
  }

  #touch(taskIndex: number): TaskEntry {
    const entry: TaskEntry = {
      status: 'pending',
      attempts: 0,
      drops: 0,
      leases: [],
      queued: false,
      copies: 0,
    };
    this.#live.set(taskIndex, entry);
    return entry;
  }
}

/** The ranges of `[start, end)` not in `settledInOrder` (ascending; repeats and strays ignored). */
function* gaps(
  start: number,
  end: number,
  settledInOrder: Iterable<number>,
): Generator<[number, number]> {
  let next = start;
  for (const taskIndex of settledInOrder) {
    if (taskIndex < next || taskIndex >= end) continue;
    if (taskIndex > next) yield [next, taskIndex];
    next = taskIndex + 1;
  }
  if (next < end) yield [next, end];
}
