/**
 * @module Simulated tabs for fault benchmarks: real socket.io clients speaking the real protocol,
 * one slot each, whose tasks take a fixed time (a timer, not CPU), so a 2-core machine can
 * model tabs of different speeds. A tab reports when it starts a copy (as a real tab's progress
 * report would), stops a copy it is told to, and can be dropped mid-job.
 */
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type Assignment,
  type AssignBatch,
  type CancelBatch,
} from '../shared/protocol.ts';

let counter = 0;

export class SimTab {
  readonly #socket: Socket;
  readonly #taskMs: number;
  #queue: Assignment[] = [];
  #current?: { task: Assignment; timer: NodeJS.Timeout };

  private constructor(url: string, taskMs: number) {
    this.#taskMs = taskMs;
    this.#socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    this.#socket.on('task:assign', (batch: AssignBatch) => {
      this.#queue.push(...batch.tasks);
      this.#next();
    });
    this.#socket.on('task:cancel', (batch: CancelBatch) => {
      const drop = new Set(batch.leaseIds);
      this.#queue = this.#queue.filter((task) => !drop.has(task.leaseId));
      if (this.#current && drop.has(this.#current.task.leaseId)) {
        clearTimeout(this.#current.timer);
        this.#current = undefined;
        this.#next();
      }
    });
  }

  static async connect(url: string, taskMs: number): Promise<SimTab> {
    const tab = new SimTab(url, taskMs);
    await new Promise<void>((resolve, reject) => {
      tab.#socket.once('connect', () => resolve());
      tab.#socket.once('connect_error', reject);
    });
    const id = `fleet-${++counter}`;
    await tab.#socket.emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: id,
      tabId: id,
      slots: 1,
    });
    return tab;
  }

  close(): void {
    if (this.#current) clearTimeout(this.#current.timer);
    this.#current = undefined;
    this.#queue = [];
    this.#socket.disconnect();
  }

  #next(): void {
    if (this.#current || !this.#socket.connected) return;
    const task = this.#queue.shift();
    if (!task) return;
    this.#socket.emit('task:progress', { updates: [{ leaseId: task.leaseId, elapsedMs: 0 }] });
    const timer = setTimeout(() => {
      this.#current = undefined;
      this.#socket.emit(
        'task:results',
        {
          results: [
            {
              leaseId: task.leaseId,
              jobId: task.jobId,
              taskIndex: task.taskIndex,
              durationMs: this.#taskMs,
              outcome: { status: 'ok', items: task.inputs.map((x) => ({ output: x })) },
            },
          ],
        },
        () => undefined,
      );
      this.#next();
    }, this.#taskMs);
    this.#current = { task, timer };
  }
}
