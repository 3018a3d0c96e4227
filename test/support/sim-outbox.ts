/**
 * @module A simulated tab's result sender. With `resend` it works as the page's outbox does: a
 * result is kept until the coordinator acknowledges or refuses it, and everything kept goes out
 * again on every new registration. Without, a result is sent once (lost if the tab is not
 * connected when it finishes), as the cheapest load generator needs. Either way acks are counted
 * once per lease, so a test can tell lost from doubled.
 */
import type { Socket } from 'socket.io-client';
import type {
  Ack,
  ResultAck,
  ServerToVolunteerEvents,
  TaskResult,
  VolunteerToServerEvents,
} from '../../shared/protocol.ts';
import type { SimStats } from './sim-stats.ts';

/** Wait before a batch refused for the event rate goes again. */
const RATE_LIMIT_RETRY_MS = 50;

export interface SimOutboxOptions {
  /** The tab's current socket (a tab that moves nodes gets a new one). */
  socket: () => Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;
  stats: SimStats;
  /** Whether the coordinator has welcomed the tab on its current connection. */
  registered: () => boolean;
  /** See `SimTabOptions.resend`. */
  resend?: { ackTimeoutMs: number; retryEveryMs?: number };
  /** Results per `task:results` message. Default 1. */
  resultsPerMessage?: number;
  /** Where acknowledged lease ids are recorded, if anywhere. */
  acked?: Set<string>;
  onAck: () => void;
}

export class SimOutbox {
  /** Results sent or to be sent and not yet acknowledged, by lease id. */
  readonly results = new Map<string, TaskResult>();
  readonly #options: SimOutboxOptions;
  /** Without `resend`: results finished, not yet sent. */
  #fresh: TaskResult[] = [];
  /** Lease ids sent on the current connection and not yet answered. */
  readonly #sending = new Set<string>();
  /** Results computed while the tab had no registered connection. */
  readonly #offline = new Set<string>();
  readonly #retryTimer: ReturnType<typeof setInterval> | undefined;
  #flushQueued = false;
  /** Bumped on every connect and disconnect, so late answers from an old connection are ignored. */
  #generation = 0;
  #closed = false;

  constructor(options: SimOutboxOptions) {
    this.#options = options;
    if (options.resend?.retryEveryMs) {
      this.#retryTimer = setInterval(() => this.flush(), options.resend.retryEveryMs);
    }
  }

  /** Takes a finished result; those finished in the same turn go out in one message. */
  add(result: TaskResult): void {
    const { stats } = this.#options;
    stats.computed++;
    this.results.set(result.leaseId, result);
    if (!this.#options.registered()) {
      stats.computedOffline++;
      this.#offline.add(result.leaseId);
    }
    if (!this.#options.resend) this.#fresh.push(result);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** The connection changed (lost, or a new one): what was in flight is no longer. */
  reset(): void {
    this.#generation++;
    this.#sending.clear();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#retryTimer);
  }

  /**
   * With `resend`: sends every unacknowledged result not already on its way over this
   * connection. Without: sends what finished since the last flush, or loses it if disconnected.
   */
  flush(): void {
    this.#flushQueued = false;
    if (this.#closed) return;
    let pending: TaskResult[];
    if (this.#options.resend) {
      if (!this.#options.registered()) return;
      pending = [...this.results.values()].filter((r) => !this.#sending.has(r.leaseId));
    } else {
      pending = this.#fresh.splice(0);
      if (!this.#options.socket().connected) {
        for (const result of pending) this.results.delete(result.leaseId);
        return;
      }
    }
    const size = this.#options.resultsPerMessage ?? 1;
    for (let i = 0; i < pending.length; i += size) this.#send(pending.slice(i, i + size));
  }

  #send(results: TaskResult[]): void {
    const { stats } = this.#options;
    const socket = this.#options.socket();
    const generation = this.#generation;
    for (const result of results) this.#sending.add(result.leaseId);
    stats.batchesSent++;
    stats.resultsSent += results.length;
    const ackTimeoutMs = this.#options.resend?.ackTimeoutMs;
    const sent = (
      ackTimeoutMs
        ? socket.timeout(ackTimeoutMs).emitWithAck('task:results', { results })
        : socket.emitWithAck('task:results', { results })
    ) as Promise<Ack<ResultAck>>;
    void sent
      .then(
        (res) => {
          if (!res.ok && res.error.code === 'rate_limited') this.#retryLater(results);
          else this.#onAck(res);
        },
        () => undefined, // lost with the connection: with `resend`, sent again after the next hello
      )
      .finally(() => {
        if (generation !== this.#generation) return;
        for (const result of results) this.#sending.delete(result.leaseId);
      });
  }

  /**
   * A batch refused for the tab's event rate was not judged: as the page does, it goes again a
   * little later instead of being lost.
   */
  #retryLater(results: TaskResult[]): void {
    const { stats } = this.#options;
    stats.rateLimited++;
    if (!this.#options.resend) this.#fresh.push(...results);
    setTimeout(() => this.flush(), RATE_LIMIT_RETRY_MS).unref();
  }

  #onAck(res: Ack<ResultAck>): void {
    if (!res.ok) return;
    const { stats, acked } = this.#options;
    for (const leaseId of res.data.leaseIds) {
      acked?.add(leaseId);
      if (!this.results.delete(leaseId)) continue;
      stats.acked++;
      if (this.#offline.delete(leaseId)) stats.deliveredAfterReconnect++;
    }
    for (const leaseId of res.data.refused) {
      if (!this.results.delete(leaseId)) continue;
      stats.refused++;
      this.#offline.delete(leaseId);
    }
    this.#options.onAck();
  }
}
