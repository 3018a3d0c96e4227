/**
 * @module Group commit: changes queued during one turn of the event loop are written in one
 * store transaction, and each caller's promise resolves only once its changes are durable. This
 * is what lets a tab be acknowledged after its result is committed without one transaction per
 * result.
 *
 * While the database cannot be reached, a batch is kept and written again with a growing pause,
 * its callers still waiting: a restarted PostgreSQL costs time, not a coordinator. Every change
 * is idempotent (results and copies insert once by key, the rest upsert or move a status one
 * way), so a batch whose commit was cut off unanswered may be written again. Any other failure
 * rejects the batch's callers at once.
 */
import type { Fence } from '../store/cluster.ts';
import type { JobStore, StoreChange } from '../store/store.ts';
import type { StoreReachability } from './reachability.ts';

/** First pause before writing a batch again while the database is away; doubled up to the max. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1_000;

export class GroupCommit {
  readonly #store: JobStore;
  #pending: StoreChange[] = [];
  #waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #scheduled = false;
  /** The flush in progress; batches are written one after another, in order. */
  #flushing: Promise<void> = Promise.resolve();
  /** Changes of the batch being written. */
  #writing = 0;
  /** Callers waiting for the backlog to fall to their level. */
  #belowWaiters: Array<{ changes: number; resolve: () => void }> = [];

  readonly #onBatch?: (changes: number, ms: number) => void;

  /** Whose claims each batch's settles must lie in (this node's epoch), once it has joined. */
  readonly #fence: () => Fence | undefined;

  /** Hears whether writes reach the database; without it every failure rejects at once. */
  readonly #reachability: StoreReachability | undefined;
  /** Set by `giveUp`: a write the database cannot take now rejects instead of waiting. */
  #givenUp = false;
  /** Ends the pause before the next try early. */
  #wake: (() => void) | undefined;

  /** `onBatch` hears each written batch's size and time (metrics). */
  constructor(
    store: JobStore,
    onBatch?: (changes: number, ms: number) => void,
    fence: () => Fence | undefined = () => undefined,
    reachability?: StoreReachability,
  ) {
    this.#store = store;
    this.#onBatch = onBatch;
    this.#fence = fence;
    this.#reachability = reachability;
  }

  /** Queues changes; resolves when they are committed. An empty list waits for earlier ones. */
  commit(changes: readonly StoreChange[]): Promise<void> {
    for (const change of changes) this.#pending.push(change);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#flushing = this.#flushing.then(() => this.#flush());
      });
    }
    return done;
  }

  /** Changes queued or being written: how far the store is behind. */
  get backlog(): number {
    return this.#pending.length + this.#writing;
  }

  /** Resolves once the backlog is at most `changes` (at once if it is already). */
  below(changes: number): Promise<void> {
    if (this.backlog <= changes) return Promise.resolve();
    return new Promise((resolve) => this.#belowWaiters.push({ changes, resolve }));
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    if (this.#scheduled) await this.commit([]);
    await this.#flushing;
  }

  /**
   * From now on a batch the database cannot take is refused rather than kept: a node that is
   * stopping does not wait out an outage (its tabs keep what was not acknowledged).
   */
  giveUp(): void {
    this.#givenUp = true;
    this.#wake?.();
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const changes = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    this.#writing = changes.length;
    try {
      await this.#write(changes);
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    } finally {
      this.#writing = 0;
      this.#wakeBelow();
    }
  }

  /** Writes one batch, again and again while the database is away. */
  async #write(changes: StoreChange[]): Promise<void> {
    for (let pauseMs = RETRY_FIRST_MS; ; pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS)) {
      try {
        const started = performance.now();
        // The fence is read per try: it is the same epoch, checked anew once the database is back.
        await this.#store.apply(changes, this.#fence());
        this.#onBatch?.(changes.length, performance.now() - started);
        this.#reachability?.succeeded();
        return;
      } catch (error) {
        if (!this.#reachability?.failed(error) || this.#givenUp) throw error;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #wakeBelow(): void {
    if (this.#belowWaiters.length === 0) return;
    const backlog = this.backlog;
    const waiting = this.#belowWaiters;
    this.#belowWaiters = [];
    for (const waiter of waiting) {
      if (backlog <= waiter.changes) waiter.resolve();
      else this.#belowWaiters.push(waiter);
    }
  }
}
