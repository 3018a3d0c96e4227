/**
 * @module Results that reach the wrong node. A tab whose node was lost reconnects to another and
 * sends what it holds; its lease verifies anywhere (one shared key), but only the node holding
 * the task's claim may commit it. The receiving node leaves such a result in the store for the
 * holder (or whoever claims the range next) and tells the nodes; the holder takes it, settles it
 * as the sending device's, and deletes its row in the same transaction as that settle, so a
 * crash in between loses nothing and commits nothing twice.
 */
import type { ClusterEvent } from '../../shared/cluster-events.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import type { Log } from '../log.ts';
import { throttledWarn, WARN_EVERY_MS } from '../log.ts';
import type { Effect, Scheduler } from '../scheduling/scheduler.ts';
import type { ClusterStore } from '../store/cluster.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';

/** Forwarded results taken per store read. */
const TAKE_BATCH = 256;
/** Lease ids forwarded lately, so a tab resending one does not write it again. */
const RECENT_LIMIT = 10_000;

export interface ForwarderDeps {
  store: ClusterStore;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  log: Log;
  epoch(): number;
  tell(event: ClusterEvent): void;
}

/** The tab a result came from, as this node saw it. */
export interface ResultSender {
  volunteerId: string;
  deviceId: string;
  address?: string;
}

export class Forwarder {
  readonly #deps: ForwarderDeps;
  readonly #recent = new Set<string>();
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  /** The take under way, and whether another was asked for meanwhile. */
  #taking: Promise<void> | undefined;
  #again = false;

  constructor(deps: ForwarderDeps) {
    this.#deps = deps;
    this.#warn = throttledWarn(deps.log, WARN_EVERY_MS, 'times');
  }

  /**
   * Leaves results of tasks this node does not hold for the node that does; resolves once they
   * are durable, so the tab may forget them. Rejects if the store refused: the tab keeps them.
   */
  async forward(sender: ResultSender, results: readonly TaskResult[]): Promise<void> {
    const fresh = new Map<string, TaskResult>();
    for (const result of results) {
      if (!this.#recent.has(result.leaseId)) fresh.set(result.leaseId, result);
    }
    if (fresh.size === 0) return;
    await this.#deps.store.forwardResults(
      [...fresh.values()].map((result) => ({
        jobId: result.jobId,
        taskIndex: result.taskIndex,
        volunteerId: sender.volunteerId,
        deviceId: sender.deviceId,
        ...(sender.address !== undefined ? { address: sender.address } : {}),
        result,
      })),
    );
    const jobs = new Set<string>();
    for (const result of fresh.values()) {
      if (this.#recent.size >= RECENT_LIMIT) this.#recent.clear();
      this.#recent.add(result.leaseId);
      jobs.add(result.jobId);
    }
    for (const jobId of jobs) {
      this.#deps.tell({ type: 'result-forwarded', jobId, epoch: this.#deps.epoch() });
    }
  }

  /**
   * Takes every result forwarded to tasks this node holds. Called when told of one, after a claim
   * (a claimed range may have some waiting) and now and then in case an event was lost.
   */
  take(): void {
    if (this.#taking) {
      this.#again = true;
      return;
    }
    this.#taking = this.#takeAll()
      .catch((error: unknown) =>
        this.#warn({ err: error }, '[cluster]: taking forwarded results failed; trying again'),
      )
      .finally(() => {
        this.#taking = undefined;
        if (this.#again) {
          this.#again = false;
          this.take();
        }
      });
  }

  /** Resolves once no take is under way (for a clean stop). */
  async idle(): Promise<void> {
    while (this.#taking) await this.#taking;
  }

  /** One pass over the rows in this node's ranges, a page at a time, rows left behind skipped. */
  async #takeAll(): Promise<void> {
    const { store, scheduler, effects, clock } = this.#deps;
    let afterId = 0;
    for (;;) {
      const batch = await store.forwardedResults(this.#deps.epoch(), TAKE_BATCH, afterId);
      const list: Effect[] = [];
      for (const forwarded of batch) {
        afterId = forwarded.forwardId;
        const verdict = scheduler.reportForwarded(forwarded, clock.now(), list);
        // Released meanwhile: it stays for whoever claims the range next.
        if (verdict === 'not-held') continue;
        list.push({ type: 'forward-taken', forwardId: forwarded.forwardId });
      }
      await effects.apply(list);
      if (batch.length < TAKE_BATCH) return;
    }
  }
}
