/**
 * @module Whether this node can reach its database right now, as its group commit and heartbeat
 * find out. The one owner of that state: it logs once when the database goes away and once when
 * it is back, and holds new work (see EffectApplier's gate) until then.
 */
import type { Log } from '../log.ts';
import { isStoreUnreachable } from '../store/unreachable.ts';

export class StoreReachability {
  readonly #log: Log;
  /** performance.now() when the outage was first seen; undefined while reachable. */
  #downSinceMs: number | undefined;
  #waiters: Array<() => void> = [];

  constructor(log: Log) {
    this.#log = log;
  }

  get down(): boolean {
    return this.#downSinceMs !== undefined;
  }

  /**
   * A store call failed: true if only because the database cannot be reached (worth retrying),
   * false for any other failure, which the caller must surface.
   */
  failed(error: unknown): boolean {
    if (!isStoreUnreachable(error)) return false;
    if (this.#downSinceMs === undefined) {
      this.#downSinceMs = performance.now();
      this.#log.warn(
        { err: error },
        '[store]: the database is unreachable; results wait uncommitted and unacknowledged, and new work is held, until it is back',
      );
    }
    return true;
  }

  /** A store call succeeded: the database is back if it was away. */
  succeeded(): void {
    if (this.#downSinceMs === undefined) return;
    const outageMs = Math.round(performance.now() - this.#downSinceMs);
    this.#downSinceMs = undefined;
    this.#log.info({ outageMs }, '[store]: the database is reachable again; resuming');
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once the database is reachable (at once if it is). */
  reachable(): Promise<void> {
    if (this.#downSinceMs === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
