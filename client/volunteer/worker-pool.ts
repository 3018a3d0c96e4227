/**
 * @module A pool of task-runner Web Workers, one per chosen core, driven through comlink. Tasks
 * queue FIFO; a task that goes its job's `timeoutMs` without finishing or reporting progress gets
 * its worker terminated and replaced, so runaway job code never costs the tab more than one worker
 * for `timeoutMs`.
 */
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { ItemOutcome } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import type { SandboxedWorker } from './sandbox-host.ts';
import type { RunnerHooks, TaskRunnerApi } from './task-runner.worker.ts';

export type TaskOutcome =
  { status: 'ok'; items: ItemOutcome[] } | { status: 'error'; message: string };

export interface PoolTask {
  /** Identifies the task for cancel. */
  key: string;
  jobId: string;
  source: string;
  timeoutMs: number;
  inputs: JsonValue[];
  /** Resume from here (see TaskCheckpoint). */
  checkpoint?: TaskCheckpoint;
  onStart?: () => void;
  onProgress?: (fraction: number) => void;
  onCheckpoint?: (checkpoint: TaskCheckpoint) => void;
}

export interface PoolResult {
  outcome: TaskOutcome;
  durationMs: number;
}

interface Slot {
  worker: SandboxedWorker;
  api: Remote<TaskRunnerApi>;
  loaded: Set<string>;
  running?: {
    task: PoolTask;
    finish: (result: PoolResult | undefined) => void;
    /** Restarts the timeout: the task showed a sign of life. */
    alive: () => void;
  };
}

interface Queued {
  task: PoolTask;
  resolve: (result: PoolResult | undefined) => void;
}

/** Starts one task-runner worker (in the sandbox frame, see sandbox-host.ts). */
export type WorkerFactory = () => SandboxedWorker;

export class WorkerPool {
  readonly #createWorker: WorkerFactory;
  #slots: Slot[] = [];
  #queue: Queued[] = [];
  #size = 0;

  constructor(size: number, createWorker: WorkerFactory) {
    this.#createWorker = createWorker;
    this.resize(size);
  }

  get size(): number {
    return this.#size;
  }

  get busy(): number {
    return this.#slots.filter((slot) => slot.running).length;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Runs a task when a worker is free. Resolves undefined if the task was cancelled. */
  run(task: PoolTask): Promise<PoolResult | undefined> {
    return new Promise((resolve) => {
      this.#queue.push({ task, resolve });
      this.#pump();
    });
  }

  /** Grows or shrinks the pool; shrinking lets running tasks finish on the workers it retires. */
  resize(size: number): void {
    this.#size = size;
    while (this.#slots.length < size) this.#slots.push(this.#spawn());
    this.#pump();
    this.#retireExtra();
  }

  /** Drops queued tasks and stops running ones with these keys (their promises resolve undefined). */
  cancel(keys: Iterable<string>): void {
    const drop = new Set(keys);
    this.#queue = this.#queue.filter((entry) => {
      if (!drop.has(entry.task.key)) return true;
      entry.resolve(undefined);
      return false;
    });
    for (const slot of [...this.#slots]) {
      if (slot.running && drop.has(slot.running.task.key)) {
        slot.running.finish(undefined);
        this.#replace(slot);
      }
    }
    this.#pump();
  }

  terminate(): void {
    this.cancel(this.#queue.map((entry) => entry.task.key));
    for (const slot of this.#slots) {
      slot.running?.finish(undefined);
      this.#kill(slot);
    }
    this.#slots = [];
  }

  #spawn(): Slot {
    const worker = this.#createWorker();
    const api = wrap<TaskRunnerApi>(worker.port);
    const slot: Slot = { worker, api, loaded: new Set() };
    const hooks: RunnerHooks = {
      progress: (key, fraction) => {
        if (slot.running?.task.key !== key) return;
        slot.running.alive();
        slot.running.task.onProgress?.(fraction);
      },
      checkpoint: (key, checkpoint) => {
        if (slot.running?.task.key !== key) return;
        slot.running.alive();
        slot.running.task.onCheckpoint?.(checkpoint);
      },
    };
    void api.setHooks(proxy(hooks));
    return slot;
  }

  #kill(slot: Slot): void {
    slot.running?.finish(undefined);
    slot.api[releaseProxy]();
    slot.worker.terminate();
  }

  #replace(slot: Slot): void {
    this.#kill(slot);
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots[index] = this.#spawn();
  }

  #retireExtra(): void {
    for (let i = this.#slots.length - 1; i >= 0 && this.#slots.length > this.#size; i--) {
      const slot = this.#slots[i] as Slot;
      if (!slot.running) {
        this.#kill(slot);
        this.#slots.splice(i, 1);
      }
    }
  }

  #pump(): void {
    this.#retireExtra();
    for (const slot of this.#slots.slice(0, this.#size)) {
      if (slot.running) continue;
      const next = this.#queue.shift();
      if (!next) return;
      this.#start(slot, next);
    }
  }

  #start(slot: Slot, { task, resolve }: Queued): void {
    const startedAt = performance.now();
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (result: PoolResult | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (slot.running?.task === task) slot.running = undefined;
      resolve(result);
      queueMicrotask(() => this.#pump());
    };
    // The timeout counts from the last sign of life: a task that reports progress may run long.
    const alive = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish({
          outcome: {
            status: 'error',
            message: `[runner]: task timed out after ${task.timeoutMs} ms without progress; its worker was replaced`,
          },
          durationMs: performance.now() - startedAt,
        });
        this.#replace(slot);
      }, task.timeoutMs);
    };
    alive();
    slot.running = { task, finish, alive };
    task.onStart?.();
    const load = slot.loaded.has(task.jobId)
      ? Promise.resolve()
      : slot.api.load(task.jobId, task.source);
    load
      .then(() => {
        slot.loaded.add(task.jobId);
        return slot.api.run(task.key, task.jobId, task.inputs, task.checkpoint);
      })
      .then(
        (items) =>
          finish({ outcome: { status: 'ok', items }, durationMs: performance.now() - startedAt }),
        (error: unknown) =>
          finish({
            outcome: {
              status: 'error',
              message: `[runner]: ${error instanceof Error ? error.message : String(error)}`,
            },
            durationMs: performance.now() - startedAt,
          }),
      );
  }
}
