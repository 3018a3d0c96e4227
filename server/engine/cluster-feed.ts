/**
 * @module What this node tells the others and does when they tell it something (the events of
 * shared/cluster-events.ts). Events are hints: each handler re-reads the store, so a lost or
 * repeated event costs a read, never a wrong state. A job's progress is told at most every
 * `changedEveryMs` per job, so a busy job does not flood the channel.
 */
import type { ClusterEvent } from '../../shared/cluster-events.ts';
import type { Log } from '../log.ts';
import { throttledWarn, WARN_EVERY_MS } from '../log.ts';
import type { ClusterEvents } from '../store/cluster.ts';

export type AdminChange = Extract<ClusterEvent, { type: 'admin-changed' }>['what'];

export interface ClusterFeedHandlers {
  /** A job this node does not run yet may have tasks for its tabs. */
  submitted(jobId: string): void;
  /** A job's progress or status changed (on any node): it may be finished. */
  changed(jobId: string): void;
  cancelled(jobId: string): void;
  /** Claims went back (of one job, or of any): jobs with nothing left to claim may have again. */
  released(jobId?: string): void;
  /** A result for a task this node may hold was left in the store. */
  forwarded(jobId: string): void;
  /** An admin on another node paused or resumed, banned or unbanned, or changed tokens. */
  adminChanged(what: AdminChange): void;
  /** A device was caught disagreeing (on any node, this one too). */
  distrusted(deviceId: string): void;
  /** Events may have been missed: re-read everything the events would have said. */
  resumed(): void;
}

export class ClusterFeed {
  readonly #events: ClusterEvents;
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  readonly #changedEveryMs: number;
  /** Jobs whose change is due to be told, by job id, with the timer that tells it. */
  readonly #pendingChanged = new Map<string, NodeJS.Timeout>();
  readonly #unsubscribe: Array<() => void>;

  constructor(
    events: ClusterEvents,
    log: Log,
    handlers: ClusterFeedHandlers,
    changedEveryMs = 200,
  ) {
    this.#events = events;
    this.#warn = throttledWarn(log, WARN_EVERY_MS, 'times');
    this.#changedEveryMs = changedEveryMs;
    this.#unsubscribe = [
      events.subscribe((event) => {
        switch (event.type) {
          case 'job-submitted':
            handlers.submitted(event.jobId);
            return;
          case 'job-changed':
            handlers.changed(event.jobId);
            return;
          case 'job-cancelled':
            handlers.cancelled(event.jobId);
            return;
          case 'claims-released':
            handlers.released(event.jobId);
            return;
          case 'result-forwarded':
            handlers.forwarded(event.jobId);
            return;
          case 'admin-changed':
            handlers.adminChanged(event.what);
            return;
          case 'device-distrusted':
            handlers.distrusted(event.deviceId);
            return;
        }
      }),
      events.onResumed(() => handlers.resumed()),
    ];
  }

  tell(event: ClusterEvent): void {
    void this.#events
      .publish(event)
      .catch((error: unknown) =>
        this.#warn({ err: error, event: event.type }, '[cluster]: could not tell the other nodes'),
      );
  }

  /** Tells the other nodes a job changed, at most once per `changedEveryMs` per job. */
  changed(jobId: string): void {
    if (this.#pendingChanged.has(jobId)) return;
    const timer = setTimeout(() => {
      this.#pendingChanged.delete(jobId);
      this.tell({ type: 'job-changed', jobId });
    }, this.#changedEveryMs);
    timer.unref();
    this.#pendingChanged.set(jobId, timer);
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const timer of this.#pendingChanged.values()) clearTimeout(timer);
    this.#pendingChanged.clear();
  }
}
