/**
 * @module A misbehaving simulated volunteer tab for chaos tests: a real socket.io-client that
 * reconnects by itself and keeps every result in an in-memory outbox until the coordinator
 * acknowledges it, like the real tab does with IndexedDB. On every (re)connect it says hello
 * again and resends everything unacknowledged, so results computed while the coordinator was
 * down are delivered once it is back. Its behaviour (slow, staller, dropper) is driven by a
 * seeded PRNG so a failing run can be replayed.
 */
import { io, type Socket } from 'socket.io-client';
import type { ItemOutcome } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import {
  PROTOCOL_VERSION,
  type Ack,
  type AssignBatch,
  type Assignment,
  type ResultAck,
  type ServerToVolunteerEvents,
  type TaskResult,
  type VolunteerToServerEvents,
  type Welcome,
} from '../../shared/protocol.ts';

export type ChaosBehaviour = 'normal' | 'slow' | 'staller' | 'dropper';

export interface ChaosOptions {
  url: string;
  tabId: string;
  deviceId: string;
  slots: number;
  behaviour: ChaosBehaviour;
  /** A seeded PRNG in [0, 1): every random choice of this tab comes from it. */
  random: () => number;
  /** Time each task takes, before the behaviour's own slowdown. */
  taskDelayMs: number;
  /** Staller: chance that a task it starts hangs forever (never answered). */
  stallChance?: number;
  /** Dropper: chance, after each finished task, to lose its connection while holding tasks. */
  dropChance?: number;
  /** Slow: factor applied to `taskDelayMs`. */
  slowFactor?: number;
}

export interface ChaosStats {
  /** Task copies received. */
  received: number;
  /** Copies computed (a result went to the outbox). */
  computed: number;
  /** Copies computed while the tab had no registered connection. */
  computedOffline: number;
  /** Results acknowledged that had been computed while offline. */
  deliveredAfterReconnect: number;
  /** Copies this tab started and then hung on. */
  stalled: number;
  /** Connections this tab dropped on purpose. */
  drops: number;
  /** Successful hellos (first connect included). */
  hellos: number;
  /** Result batches sent, and result entries in them (resends included). */
  batchesSent: number;
  resultsSent: number;
  /** Leases the coordinator told this tab to forget. */
  acked: number;
  /** Leases cancelled by the coordinator. */
  cancelled: number;
}

type ChaosSocket = Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;

const RESULTS_PER_BATCH = 200;
const ACK_TIMEOUT_MS = 5_000;
/** How often leftovers (results not named in an ack) are offered again. */
const RETRY_INTERVAL_MS = 250;

export class ChaosVolunteer {
  readonly options: Required<ChaosOptions>;
  readonly socket: ChaosSocket;
  readonly stats: ChaosStats = {
    received: 0,
    computed: 0,
    computedOffline: 0,
    deliveredAfterReconnect: 0,
    stalled: 0,
    drops: 0,
    hellos: 0,
    batchesSent: 0,
    resultsSent: 0,
    acked: 0,
    cancelled: 0,
  };
  /** Results not yet acknowledged, by lease id. */
  readonly outbox = new Map<string, TaskResult>();
  readonly #offline = new Set<string>();
  readonly #maps = new Map<string, (input: JsonValue) => unknown>();
  readonly #queue: Assignment[] = [];
  readonly #cancelled = new Set<string>();
  /** Lease ids sent on the current connection and not yet answered. */
  readonly #sending = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #retryTimer: NodeJS.Timeout;
  #running = 0;
  #registered = false;
  /** Bumped on every connect and disconnect, so late answers from an old connection are ignored. */
  #generation = 0;
  #closed = false;
  /** Claimed at the first hello, then the one the coordinator issued. */
  #deviceId: string;

  constructor(options: ChaosOptions) {
    this.options = { stallChance: 0, dropChance: 0, slowFactor: 4, ...options };
    this.#deviceId = options.deviceId;
    this.socket = io(options.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      randomizationFactor: 0.5,
      timeout: 2_000,
    });
    this.socket.on('connect', () => this.#onConnect());
    this.socket.on('disconnect', () => {
      this.#registered = false;
      this.#generation++;
      this.#sending.clear();
    });
    this.socket.on('task:assign', (batch) => this.#onAssign(batch));
    this.socket.on('task:cancel', (batch) => {
      for (const leaseId of batch.leaseIds) this.#cancelled.add(leaseId);
      this.stats.cancelled += batch.leaseIds.length;
    });
    this.#retryTimer = setInterval(() => this.#flush(), RETRY_INTERVAL_MS);
  }

  /** Connected and registered with the coordinator. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Copies received and neither finished nor hung: still waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#retryTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.socket.disconnect();
  }

  #onConnect(): void {
    const generation = ++this.#generation;
    this.#sending.clear();
    const hello = this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: this.#deviceId,
      tabId: this.options.tabId,
      slots: this.options.slots,
    }) as Promise<Ack<Welcome>>;
    hello.then(
      (res) => {
        if (generation !== this.#generation || !res.ok) return;
        this.#registered = true;
        // Like a real tab: keep the id the coordinator issued and send it from now on.
        this.#deviceId = res.data.deviceId;
        this.stats.hellos++;
        this.#flush();
      },
      () => undefined, // disconnected or timed out: the next connect says hello again
    );
  }

  #onAssign(batch: AssignBatch): void {
    for (const job of batch.jobs) {
      this.#maps.set(
        job.jobId,
        new Function(`"use strict"; return (${job.map}\n);`)() as (input: JsonValue) => unknown,
      );
    }
    this.stats.received += batch.tasks.length;
    this.#queue.push(...batch.tasks);
    this.#pump();
  }

  /** Starts queued copies on free workers, FIFO, like the tab's worker pool. */
  #pump(): void {
    while (!this.#closed && this.#running < this.options.slots && this.#queue.length > 0) {
      const task = this.#queue.shift() as Assignment;
      if (this.#cancelled.has(task.leaseId)) continue;
      this.#reportStart(task);
      if (
        this.options.behaviour === 'staller' &&
        this.options.random() < this.options.stallChance
      ) {
        // A hung copy: reported as started, never answered. It does not hold a worker, so the
        // tab keeps making progress on the rest.
        this.stats.stalled++;
        continue;
      }
      this.#running++;
      const factor = this.options.behaviour === 'slow' ? this.options.slowFactor : 1;
      const delayMs = Math.round(this.options.taskDelayMs * factor * (0.5 + this.options.random()));
      const startedAt = Date.now();
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#running--;
        this.#finish(task, Date.now() - startedAt);
        this.#maybeDrop();
        this.#pump();
      }, delayMs);
      this.#timers.add(timer);
    }
  }

  #reportStart(task: Assignment): void {
    // Only on a registered connection: socket.io buffers emits made while disconnected and would
    // send them before the next hello.
    if (!this.#registered) return;
    this.socket.emit('task:progress', { updates: [{ leaseId: task.leaseId, elapsedMs: 0 }] });
  }

  #finish(task: Assignment, durationMs: number): void {
    const map = this.#maps.get(task.jobId);
    const items: ItemOutcome[] = task.inputs.map((input) => {
      try {
        return { output: map?.(input) as JsonValue };
      } catch (error) {
        return { error: String(error) };
      }
    });
    this.outbox.set(task.leaseId, {
      leaseId: task.leaseId,
      jobId: task.jobId,
      taskIndex: task.taskIndex,
      durationMs,
      outcome: { status: 'ok', items },
    });
    this.stats.computed++;
    if (!this.#registered) {
      this.stats.computedOffline++;
      this.#offline.add(task.leaseId);
    }
    this.#flush();
  }

  /** Dropper: now and then loses its connection while it still holds tasks; it reconnects alone. */
  #maybeDrop(): void {
    const holding = this.#queue.length + this.#running > 0;
    if (this.options.behaviour !== 'dropper' || !this.#registered || !holding) return;
    if (this.options.random() >= this.options.dropChance) return;
    this.stats.drops++;
    // Closing the transport (not socket.disconnect()) looks like a network loss to the client,
    // so its reconnection logic brings it back.
    this.socket.io.engine.close();
  }

  /** Sends every unacknowledged result not already on its way over this connection. */
  #flush(): void {
    if (!this.#registered || this.#closed) return;
    const pending = [...this.outbox.values()].filter((r) => !this.#sending.has(r.leaseId));
    for (let i = 0; i < pending.length; i += RESULTS_PER_BATCH) {
      this.#send(pending.slice(i, i + RESULTS_PER_BATCH));
    }
  }

  #send(results: TaskResult[]): void {
    const generation = this.#generation;
    for (const result of results) this.#sending.add(result.leaseId);
    this.stats.batchesSent++;
    this.stats.resultsSent += results.length;
    const sent = this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck('task:results', { results }) as Promise<Ack<ResultAck>>;
    sent
      .then(
        (res) => {
          if (!res.ok) return;
          for (const leaseId of res.data.leaseIds) {
            if (!this.outbox.delete(leaseId)) continue;
            this.stats.acked++;
            if (this.#offline.delete(leaseId)) this.stats.deliveredAfterReconnect++;
          }
        },
        () => undefined, // lost with the connection: resent after the next hello
      )
      .finally(() => {
        if (generation !== this.#generation) return;
        for (const result of results) this.#sending.delete(result.leaseId);
      });
  }
}
