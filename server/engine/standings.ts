/**
 * @module Adaptive trust across nodes: every node's verdicts on a device reach the store in the
 * batches that settled the tasks (the applier writes them), and this part brings them back into
 * the scheduler. When a device's tab arrives here, its stored standing is read; when a
 * disagreement recorded here is durable, the other nodes are told ('device-distrusted'), and when
 * another node tells, the device's streak ends here at once and its standing is read again. A
 * disagreement is what keeps a cheater's results from committing alone, so it travels as an
 * event; agreements only ever add trust and wait for the next arrival.
 *
 * Reads are hints, never wrong: the scheduler keeps whichever standing is newer (trust.ts), so a
 * read that lands late, twice, or after a local verdict cannot raise a device it should not.
 */
import type { ClusterEvent } from '../../shared/cluster-events.ts';
import type { Log } from '../log.ts';
import type { Scheduler } from '../scheduling/scheduler.ts';
import type { JobStore } from '../store/store.ts';
import { throttledWarn, WARN_EVERY_MS } from '../log.ts';

/** Devices read in one query; tabs arriving together (a node lost, its tabs moving) share it. */
const DEVICES_PER_READ = 1_000;

export interface StandingsDeps {
  store: JobStore;
  scheduler: Scheduler;
  log: Log;
  /** Tells the other nodes. */
  tell(event: ClusterEvent): void;
}

export class Standings {
  readonly #deps: StandingsDeps;
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  /** Devices to read at the next turn; one read for all that arrive in the same turn. */
  readonly #due = new Set<string>();
  #reads: Promise<void> = Promise.resolve();

  constructor(deps: StandingsDeps) {
    this.#deps = deps;
    this.#warn = throttledWarn(deps.log, WARN_EVERY_MS, 'times');
  }

  /** A tab of `deviceId` arrived here: its standing may have been earned on other nodes. */
  arrived(deviceId: string): void {
    this.#read(deviceId);
  }

  /** Disagreements recorded here are durable: the other nodes end these devices' streaks. */
  distrustedHere(deviceIds: readonly string[]): void {
    for (const deviceId of deviceIds) this.#deps.tell({ type: 'device-distrusted', deviceId });
  }

  /**
   * Another node caught `deviceId` disagreeing (its disagreement is durable): its streak ends
   * here now, then the stored standing is read. Without an id (events may have been missed),
   * every device with a tab here is read again.
   */
  distrustedElsewhere(deviceId?: string): void {
    const { scheduler } = this.#deps;
    if (deviceId === undefined) {
      for (const volunteer of scheduler.volunteers) this.#read(volunteer.deviceId);
    } else if (scheduler.endStreak(deviceId)) {
      this.#read(deviceId);
    }
  }

  /** Resolves when the reads asked for so far are done (tests, shutdown). */
  idle(): Promise<void> {
    return this.#reads;
  }

  #read(deviceId: string): void {
    const first = this.#due.size === 0;
    this.#due.add(deviceId);
    if (!first) return;
    // After the turn's other arrivals, one read at a time: the next waits for the last.
    this.#reads = this.#reads
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.#readDue());
  }

  async #readDue(): Promise<void> {
    const deviceIds = [...this.#due];
    this.#due.clear();
    const { store, scheduler } = this.#deps;
    for (let from = 0; from < deviceIds.length; from += DEVICES_PER_READ) {
      try {
        const stored = await store.deviceStandings(deviceIds.slice(from, from + DEVICES_PER_READ));
        for (const standing of stored) scheduler.learnStanding(standing.deviceId, standing);
      } catch (error) {
        // This node keeps its own count; the device's next arrival, or another node's word
        // that it disagreed, reads again.
        this.#warn({ err: error }, "[trust]: could not read devices' stored standing");
      }
    }
  }
}
