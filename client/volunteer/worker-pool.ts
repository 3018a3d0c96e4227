/**
 * @module A pool of task-runner Web Workers, one per chosen core. Tasks queue FIFO; a task that
 * goes its job's `timeoutMs` without finishing or reporting progress gets its worker terminated
 * and replaced, so runaway job code never costs the tab more than one worker for `timeoutMs`.
 *
 * The page and a worker speak plain messages (shared/runner-protocol.ts), not an RPC proxy: the
 * worker runs job code, so nothing of the page is exposed to it, and each message it sends is
 * checked against the schema and against the batch it runs. A worker that sends anything else is
 * stopped, its batch ends as errors, and its job gets no more results from this tab.
 *
 * How many tasks go in one message is batch-policy.ts's; one batch's run on a worker is
 * batch-run.ts's. This file keeps the queue and the workers' lives.
 */
import { BatchPolicy } from './batch-policy.ts';
import { startBatch, type BatchHost, type Slot } from './batch-run.ts';
import { own } from './own.ts';
import { tampered, type PoolResult, type PoolTask, type Queued } from './pool-task.ts';
import { readRunnerMessage } from './runner-channel.ts';
import type { SandboxedWorker } from './sandbox-host.ts';

export type { PoolResult, PoolTask } from './pool-task.ts';

/** Starts one task-runner worker (in the sandbox frame, see sandbox-host.ts). */
export type WorkerFactory = () => SandboxedWorker;

export class WorkerPool {
  readonly #createWorker: WorkerFactory;
  #slots: Slot[] = [];
  #queue: Queued[] = [];
  #size = 0;
  readonly #policy = new BatchPolicy();
  /** What a batch run needs of this pool. */
  readonly #host: BatchHost;
  /** Share of the time each worker may compute, 0..1 (the volunteer's CPU cap). */
  #dutyCycle = 1;
  #restTimer: ReturnType<typeof setTimeout> | undefined;
  #nextBatchId = 0;
  /** Jobs whose code tampered with a worker's channel: their tasks end as errors here, unrun. */
  readonly #distrusted = new Set<string>();

  constructor(size: number, createWorker: WorkerFactory) {
    this.#createWorker = createWorker;
    this.#host = {
      policy: this.#policy,
      dutyCycle: () => this.#dutyCycle,
      nextBatchId: () => ++this.#nextBatchId,
      replace: (slot) => {
        this.#replace(slot);
      },
      requeue: (entries) => {
        this.#queue.unshift(...entries);
        this.#pump();
      },
      pump: () => this.#pump(),
    };
    this.resize(size);
  }

  get size(): number {
    return this.#size;
  }

  get busy(): number {
    return this.#slots.filter((slot) => slot.running).length;
  }

  /** Runs a task when a worker is free. Resolves undefined if the task was cancelled. */
  run(task: PoolTask): Promise<PoolResult | undefined> {
    if (this.#distrusted.has(task.jobId)) return Promise.resolve(tampered());
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

  /**
   * Drops queued tasks and stops running ones with these keys (their promises resolve undefined).
   * A task running alone has its worker replaced; one in a batch of tiny tasks is just dropped.
   */
  cancel(keys: Iterable<string>): void {
    const drop = new Set(keys);
    this.#queue = this.#queue.filter((entry) => {
      if (!drop.has(entry.task.key)) return true;
      entry.resolve(undefined);
      return false;
    });
    for (const slot of [...this.#slots]) {
      const running = slot.running;
      if (!running) continue;
      let dropped = false;
      for (const key of drop) {
        const entry = running.tasks.get(key);
        if (!entry) continue;
        running.tasks.delete(key);
        entry.resolve(undefined);
        dropped = true;
      }
      // Nothing left that anyone waits for: stop the worker rather than let it finish.
      if (dropped && running.tasks.size === 0) this.#replace(slot);
    }
    this.#pump();
  }

  terminate(): void {
    this.cancel(this.#queue.map((entry) => entry.task.key));
    for (const slot of this.#slots) this.#kill(slot);
    this.#slots = [];
  }

  #spawn(): Slot {
    const worker = this.#createWorker();
    const slot: Slot = { worker, loaded: new Set() };
    worker.port.onmessage = (event: MessageEvent<unknown>) => this.#onMessage(slot, event.data);
    return slot;
  }

  /** Ends a worker; whatever it was running resolves as cancelled. */
  #kill(slot: Slot): void {
    const running = slot.running;
    slot.running = undefined;
    slot.dead = true;
    slot.worker.port.onmessage = null;
    for (const entry of running?.tasks.values() ?? []) entry.resolve(undefined);
    slot.worker.terminate();
  }

  /** Acts on a worker's message once runner-channel.ts has found it the runner's own. */
  #onMessage(slot: Slot, data: unknown): void {
    if (slot.dead) return;
    const running = slot.running;
    const message = readRunnerMessage(data, running?.expected);
    if (message.type === 'tampered' || !running) {
      this.#distrust(slot);
      return;
    }
    switch (message.type) {
      case 'progress':
      case 'checkpoint': {
        // A task cancelled out of a running batch may still report: nobody waits for it.
        const entry = running.tasks.get(message.key);
        if (!entry) return;
        running.alive();
        if (message.type === 'checkpoint') own(entry.task, 'onCheckpoint')?.(message.checkpoint);
        else own(entry.task, 'onProgress')?.(message.fraction);
        return;
      }
      case 'results': {
        const { outcomes } = message;
        running.finish((_entry, i) => ({ status: 'ok', items: outcomes[i] ?? [] }));
        return;
      }
      case 'failed':
        running.settle(() => ({ status: 'error', message: `[runner]: ${message.message}` }));
        // The job's code may have run in this worker before it failed: no other job runs there.
        this.#replace(slot);
        this.#pump();
        return;
    }
  }

  /**
   * Stops a worker whose job code spoke on the runner's channel: its running tasks end as errors,
   * and the job's other tasks in this tab too, now and later, since its code would only try again.
   */
  #distrust(slot: Slot): void {
    const jobId = slot.running?.jobId ?? [...slot.loaded][0];
    if (jobId !== undefined) this.#distrusted.add(jobId);
    slot.running?.settle(() => tampered().outcome);
    this.#replace(slot);
    // The same code runs in the job's other workers here: none of their results is used either.
    for (const other of [...this.#slots]) {
      if (other.running?.jobId === undefined || !this.#distrusted.has(other.running.jobId))
        continue;
      other.running.settle(() => tampered().outcome);
      this.#replace(other);
    }
    this.#queue = this.#queue.filter((entry) => {
      if (!this.#distrusted.has(entry.task.jobId)) return true;
      entry.resolve(tampered());
      return false;
    });
    this.#pump();
  }

  #replace(slot: Slot): Slot {
    this.#kill(slot);
    const fresh = this.#spawn();
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots[index] = fresh;
    return fresh;
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

  /**
   * Caps each worker's busy share of time: after a task of d ms a worker rests
   * d x (1 / share - 1) ms. 1 computes flat out.
   */
  setDutyCycle(share: number): void {
    this.#dutyCycle = Math.min(1, Math.max(0.05, share));
    this.#pump();
  }

  #pump(): void {
    this.#retireExtra();
    const now = performance.now();
    let wake: number | undefined;
    for (const slot of this.#slots.slice(0, this.#size)) {
      if (slot.running) continue;
      if (slot.restUntil !== undefined && slot.restUntil > now) {
        wake = Math.min(wake ?? Infinity, slot.restUntil);
        continue;
      }
      const batch = this.#policy.take(this.#queue, slot.loaded, () => this.#idle());
      if (batch.length === 0) return;
      const jobId = (batch[0] as Queued).task.jobId;
      // One job per worker: job code can change a worker's globals, which must not reach
      // another job's tasks. A worker that ran another job is replaced first.
      const fresh = slot.loaded.size > 0 && !slot.loaded.has(jobId) ? this.#replace(slot) : slot;
      startBatch(this.#host, fresh, batch);
    }
    if (wake !== undefined && this.#queue.length > 0) {
      clearTimeout(this.#restTimer);
      this.#restTimer = setTimeout(() => this.#pump(), wake - now);
    }
  }

  /** Workers in use with no batch running. */
  #idle(): number {
    return this.#slots.slice(0, this.#size).filter((slot) => !slot.running).length;
  }
}
