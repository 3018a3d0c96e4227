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
 * Short tasks go to a worker in batches: once a job's tasks are measured to take under
 * BATCH_BELOW_MS, one message carries up to BATCH_MAX of them, sized to about BATCH_TARGET_MS of
 * work. A message to a worker and back costs the page, Chromium's IPC and the worker more than
 * a short task: at one message per 20-ms task, the overhead was about a sixth of the tasks' own
 * CPU time (measured with bench/tabs.ts).
 */
import type { JsonValue } from '../../shared/json.ts';
import type { MapKind, TaskCheckpoint, TaskOutcome } from '../../shared/protocol.ts';
import { TAMPERED_MESSAGE, type RunBatch, type RunnerTask } from '../../shared/runner-protocol.ts';
import { own } from './own.ts';
import { readRunnerMessage, type ExpectedBatch } from './runner-channel.ts';
import type { SandboxedWorker } from './sandbox-host.ts';

export interface PoolTask {
  /** Identifies the task for cancel, and in the worker's messages (the lease id). */
  key: string;
  jobId: string;
  source: string;
  mapKind: MapKind;
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

interface Queued {
  task: PoolTask;
  resolve: (result: PoolResult | undefined) => void;
}

interface Running {
  /** What the worker's messages may speak of. */
  expected: ExpectedBatch;
  jobId: string;
  /** The tasks of the batch not yet settled, by key. */
  tasks: Map<string, Queued>;
  /** Restarts the timeout: the batch showed a sign of life. */
  alive: () => void;
  /** Ends the batch with these outcomes, one per task of `batch`. */
  settle: (outcome: (entry: Queued, i: number) => TaskOutcome) => void;
  /** The same, for a batch that ran to its end (its time is measured). */
  finish: (outcome: (entry: Queued, i: number) => TaskOutcome) => void;
}

interface Slot {
  /** With a duty-cycle cap, the slot rests until this time (performance.now()) between tasks. */
  restUntil?: number;
  worker: SandboxedWorker;
  /** Jobs whose code this worker was sent (one at most: one job per worker). */
  loaded: Set<string>;
  running?: Running;
  /** Set when the worker is terminated: its late messages mean nothing. */
  dead?: boolean;
}

/** Starts one task-runner worker (in the sandbox frame, see sandbox-host.ts). */
export type WorkerFactory = () => SandboxedWorker;

const BATCH_MAX = 256;
const BATCH_TARGET_MS = 100;
/** Tasks measured at least this long always run one per message. */
const BATCH_BELOW_MS = 50;
/** A batch takes at most this share of its job's timeout, which applies to the whole batch. */
const BATCH_TIMEOUT_SHARE = 0.25;

export class WorkerPool {
  readonly #createWorker: WorkerFactory;
  #slots: Slot[] = [];
  #queue: Queued[] = [];
  #size = 0;
  /** Measured run time of one task, per job (moving average). */
  readonly #taskMs = new Map<string, number>();
  /** Jobs with a batch that timed out: their tasks run one per message from then on. */
  readonly #unbatched = new Set<string>();
  /** Share of the time each worker may compute, 0..1 (the volunteer's CPU cap). */
  #dutyCycle = 1;
  #restTimer: ReturnType<typeof setTimeout> | undefined;
  #nextBatchId = 0;
  /** Jobs whose code tampered with a worker's channel: their tasks end as errors here, unrun. */
  readonly #distrusted = new Set<string>();

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
      const batch = this.#takeBatch(slot.loaded);
      if (batch.length === 0) return;
      const jobId = (batch[0] as Queued).task.jobId;
      // One job per worker: job code can change a worker's globals, which must not reach
      // another job's tasks. A worker that ran another job is replaced first.
      const fresh = slot.loaded.size > 0 && !slot.loaded.has(jobId) ? this.#replace(slot) : slot;
      this.#start(fresh, batch);
    }
    if (wake !== undefined && this.#queue.length > 0) {
      clearTimeout(this.#restTimer);
      this.#restTimer = setTimeout(() => this.#pump(), wake - now);
    }
  }

  /**
   * The first queued task of a job the worker already runs (else the queue's head), and after it
   * queued tasks of the same job while they are tiny.
   */
  #takeBatch(preferred: ReadonlySet<string>): Queued[] {
    let at = this.#queue.findIndex((entry) => preferred.has(entry.task.jobId));
    if (at < 0) at = 0;
    const head = this.#queue.splice(at, 1)[0];
    if (!head) return [];
    const batch = [head];
    const taskMs = this.#taskMs.get(head.task.jobId);
    if (
      taskMs === undefined ||
      taskMs >= BATCH_BELOW_MS ||
      own(head.task, 'checkpoint') ||
      this.#unbatched.has(head.task.jobId)
    )
      return batch;
    const targetMs = Math.min(BATCH_TARGET_MS, head.task.timeoutMs * BATCH_TIMEOUT_SHARE);
    const limit = Math.min(BATCH_MAX, Math.max(1, Math.floor(targetMs / Math.max(taskMs, 0.01))));
    // Leave work for idle workers: a batch takes at most its share of the queue.
    const idle = this.#slots.slice(0, this.#size).filter((slot) => !slot.running).length;
    const share = Math.ceil((this.#queue.length + 1) / Math.max(1, idle));
    for (let i = 0; i < this.#queue.length && batch.length < Math.min(limit, share);) {
      const entry = this.#queue[i] as Queued;
      if (entry.task.jobId === head.task.jobId && !own(entry.task, 'checkpoint')) {
        batch.push(entry);
        this.#queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  #start(slot: Slot, batch: Queued[]): void {
    const startedAt = performance.now();
    const first = (batch[0] as Queued).task;
    const tasks = new Map(batch.map((entry) => [entry.task.key, entry]));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (outcome: (entry: Queued, i: number) => TaskOutcome): void => {
      clearTimeout(timer);
      if (slot.running?.tasks === tasks) slot.running = undefined;
      const elapsed = performance.now() - startedAt;
      const durationMs = elapsed / batch.length;
      slot.restUntil =
        this.#dutyCycle < 1 ? performance.now() + elapsed * (1 / this.#dutyCycle - 1) : undefined;
      batch.forEach((entry, i) => {
        if (!tasks.delete(entry.task.key)) return;
        entry.resolve({ outcome: outcome(entry, i), durationMs });
      });
      queueMicrotask(() => this.#pump());
    };
    // Only a batch that ran to its end measures the job's task time.
    const finish = (outcome: (entry: Queued, i: number) => TaskOutcome): void => {
      const perTask = (performance.now() - startedAt) / batch.length;
      const previous = this.#taskMs.get(first.jobId);
      this.#taskMs.set(
        first.jobId,
        previous === undefined ? perTask : previous + 0.2 * (perTask - previous),
      );
      settle(outcome);
    };
    // The timeout counts from the last sign of life: a task that reports progress may run long.
    const alive = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (batch.length > 1) {
          // Which task ran long is unknown, and the others may each be fine: none of them is
          // charged. They run again alone (this job is never batched again in this tab), and
          // only the culprit times out, as itself.
          this.#unbatched.add(first.jobId);
          const unsettled = batch.filter((entry) => tasks.delete(entry.task.key));
          if (slot.running?.tasks === tasks) slot.running = undefined;
          this.#replace(slot);
          this.#queue.unshift(...unsettled);
          this.#pump();
          return;
        }
        settle(() => ({
          status: 'error',
          message: `[runner]: task timed out after ${first.timeoutMs} ms without progress; its worker was replaced`,
        }));
        this.#replace(slot);
      }, first.timeoutMs);
    };
    alive();
    const batchId = ++this.#nextBatchId;
    slot.running = {
      expected: {
        batchId,
        items: new Map(batch.map((entry) => [entry.task.key, entry.task.inputs.length])),
        counts: batch.map((entry) => entry.task.inputs.length),
      },
      jobId: first.jobId,
      tasks,
      alive,
      settle,
      finish,
    };
    // A batch's tasks are reported started together: a task's elapsed time is overstated by at
    // most the batch's own (about BATCH_TARGET_MS), far under what speculation waits for.
    for (const entry of batch) own(entry.task, 'onStart')?.();
    const request: RunBatch = {
      type: 'run',
      batchId,
      jobId: first.jobId,
      mapKind: first.mapKind,
      // From here on the job's code has been in this worker, whether or not it compiles.
      ...(slot.loaded.has(first.jobId) ? {} : { source: first.source }),
      tasks: batch.map(({ task }): RunnerTask => {
        const checkpoint = own(task, 'checkpoint');
        return { key: task.key, inputs: task.inputs, ...(checkpoint ? { checkpoint } : {}) };
      }),
    };
    slot.loaded.add(first.jobId);
    slot.worker.port.postMessage(request);
  }
}

function tampered(): PoolResult {
  return { outcome: { status: 'error', message: TAMPERED_MESSAGE }, durationMs: 0 };
}
