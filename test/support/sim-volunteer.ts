/**
 * @module A simulated volunteer tab: a real socket.io-client speaking the real protocol, which
 * runs job code in-process (Node) instead of Web Workers. Behaviour knobs let tests make it slow,
 * silent or crash-prone.
 */
import { io, type Socket } from 'socket.io-client';
import type { ItemOutcome } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { notJsonReason } from '../../shared/json-checks.ts';
import {
  PROTOCOL_VERSION,
  type Ack,
  type AssignBatch,
  type Control,
  type ResultAck,
  type ServerToVolunteerEvents,
  type TaskResult,
  type VolunteerToServerEvents,
  type Welcome,
} from '../../shared/protocol.ts';

export interface SimOptions {
  slots?: number;
  /** The device id the first hello claims; like a real tab it then keeps the one it is issued. */
  deviceId?: string;
  /** Local address to connect from (any of 127.0.0.0/8), to test rules on remote addresses. */
  localAddress?: string;
  tabId?: string;
  grid?: string;
  /** Delay before each task's result, in ms. */
  taskDelayMs?: number;
  /** When true, takes tasks and never answers (a hung tab). */
  silent?: boolean;
  /** When true, answers every copy with `{ status: 'error' }` (a device failing jobs on purpose). */
  failEvery?: boolean;
  /** Answers every item with this output instead of running the map (a forger). */
  forgeOutput?: JsonValue;
  /** Reports progress on every copy it holds this often (with `silent`: a hoarder). */
  progressEveryMs?: number;
}

type SimSocket = Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;

let counter = 0;

export class SimVolunteer {
  readonly socket: SimSocket;
  readonly options: Required<Pick<SimOptions, 'slots' | 'deviceId' | 'tabId'>> & SimOptions;
  /** Every assignment received, in order. */
  readonly received: AssignBatch['tasks'] = [];
  /** Job code messages received. */
  readonly codes: AssignBatch['jobs'] = [];
  readonly cancelled: string[] = [];
  /** `volunteer:control` messages received. */
  readonly controls: Control[] = [];
  /** Leases handed back after an admin pause. */
  readonly released: string[] = [];
  readonly acked = new Set<string>();
  readonly #maps = new Map<string, (input: JsonValue) => unknown>();
  #listeners: Array<() => void> = [];
  #progressTimer: ReturnType<typeof setInterval> | undefined;
  #deviceId: string;

  private constructor(url: string, options: SimOptions) {
    counter++;
    this.options = {
      slots: 2,
      deviceId: `sim-device-${counter}`,
      tabId: `sim-tab-${counter}`,
      ...options,
    };
    this.#deviceId = this.options.deviceId;
    this.socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      // engine.io-client hands this to the ws client in Node.
      ...(options.localAddress ? ({ localAddress: options.localAddress } as object) : {}),
    });
    this.socket.on('task:assign', (batch) => this.#onAssign(batch));
    if (this.options.progressEveryMs) {
      const startedAt = Date.now();
      this.#progressTimer = setInterval(() => {
        const done = new Set([...this.acked, ...this.cancelled, ...this.released]);
        const updates = this.received
          .filter((task) => !done.has(task.leaseId))
          .slice(0, 1_000)
          .map((task) => ({ leaseId: task.leaseId, elapsedMs: Date.now() - startedAt }));
        if (updates.length > 0) this.socket.emit('task:progress', { updates });
      }, this.options.progressEveryMs);
    }
    this.socket.on('task:cancel', (batch) => {
      this.cancelled.push(...batch.leaseIds);
      this.#notify();
    });
    // Like a real tab: a paused tab hands back everything it holds.
    this.socket.on('volunteer:control', (control) => {
      this.controls.push(control);
      if (control.paused) {
        const done = new Set([...this.acked, ...this.cancelled, ...this.released]);
        const held = this.received
          .map((task) => task.leaseId)
          .filter((leaseId) => !done.has(leaseId));
        if (held.length > 0) {
          this.released.push(...held);
          this.socket.emit('task:release', { leaseIds: held }, () => undefined);
        }
      }
      this.#notify();
    });
  }

  static async connect(url: string, options: SimOptions = {}): Promise<SimVolunteer> {
    const sim = new SimVolunteer(url, options);
    await new Promise<void>((resolve, reject) => {
      sim.socket.once('connect', () => resolve());
      sim.socket.once('connect_error', reject);
    });
    const res = await sim.hello();
    if (!res.ok) throw new Error(`hello refused: ${res.error.message}`);
    return sim;
  }

  /** The device id this tab counts as: the one its last welcome gave it. */
  get deviceId(): string {
    return this.#deviceId;
  }

  async hello(): Promise<Ack<Welcome>> {
    const res = await this.socket.emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: this.#deviceId,
      tabId: this.options.tabId,
      slots: this.options.slots,
      ...(this.options.grid ? { grid: this.options.grid } : {}),
    });
    if (res.ok && res.data.deviceId) this.#deviceId = res.data.deviceId;
    return res;
  }

  /** Sends results by hand (for duplicate and forgery tests). */
  report(results: TaskResult[]): Promise<Ack<ResultAck>> {
    return this.socket.emitWithAck('task:results', { results });
  }

  /** Resolves once `predicate` holds, re-checked on every message; rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((l) => l !== check);
        reject(new Error(`sim volunteer: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((l) => l !== check);
        resolve();
      };
      this.#listeners.push(check);
    });
  }

  close(): void {
    clearInterval(this.#progressTimer);
    this.socket.disconnect();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #onAssign(batch: AssignBatch): void {
    for (const job of batch.jobs) {
      this.codes.push(job);
      this.#maps.set(
        job.jobId,
        new Function(`"use strict"; return (${job.map}\n);`)() as (input: JsonValue) => unknown,
      );
    }
    this.received.push(...batch.tasks);
    this.#notify();
    if (this.options.silent) return;
    for (const task of batch.tasks) {
      const run = (): void => {
        const map = this.#maps.get(task.jobId);
        const items: ItemOutcome[] = task.inputs.map((input) => {
          try {
            if (this.options.forgeOutput !== undefined) return { output: this.options.forgeOutput };
            // What the page's worker checks (task-runner.worker.ts): over the bounds is an item error.
            const output = map?.(input);
            const reason = notJsonReason(output);
            return reason ? { error: `[runner]: ${reason}` } : { output: output as JsonValue };
          } catch (error) {
            return { error: String(error) };
          }
        });
        const result: TaskResult = {
          leaseId: task.leaseId,
          jobId: task.jobId,
          taskIndex: task.taskIndex,
          durationMs: this.options.taskDelayMs ?? 0,
          outcome: this.options.failEvery
            ? { status: 'error', message: 'sim volunteer: failing on purpose' }
            : { status: 'ok', items },
        };
        if (!this.socket.connected) return;
        this.report([result]).then(
          (res) => {
            if (res.ok) for (const leaseId of res.data.leaseIds) this.acked.add(leaseId);
            this.#notify();
          },
          // Closed before the ack: the result stays unacknowledged, as for a real tab.
          () => undefined,
        );
      };
      if (this.options.taskDelayMs) setTimeout(run, this.options.taskDelayMs);
      else queueMicrotask(run);
    }
  }
}
