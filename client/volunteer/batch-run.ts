/**
 * @module One batch on one worker: the run message it sends, its timeout counted from the last
 * sign of life, and the settling of its tasks (measured, then rested for the duty cycle). A
 * batch of several tasks that times out is not charged: its tasks queue again, one per message.
 */
import type { TaskOutcome } from '../../shared/protocol.ts';
import type { RunBatch, RunnerTask } from '../../shared/runner-protocol.ts';
import type { BatchPolicy } from './batch-policy.ts';
import { own } from './own.ts';
import type { Queued } from './pool-task.ts';
import type { ExpectedBatch } from './runner-channel.ts';
import type { SandboxedWorker } from './sandbox-host.ts';

export interface Running {
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

export interface Slot {
  /** With a duty-cycle cap, the slot rests until this time (performance.now()) between tasks. */
  restUntil?: number;
  worker: SandboxedWorker;
  /** Jobs whose code this worker was sent (one at most: one job per worker). */
  loaded: Set<string>;
  running?: Running;
  /** Set when the worker is terminated: its late messages mean nothing. */
  dead?: boolean;
}

/** What a batch needs of its pool. */
export interface BatchHost {
  readonly policy: BatchPolicy;
  /** Share of the time each worker may compute, 0..1. */
  dutyCycle(): number;
  nextBatchId(): number;
  /** Terminates the slot's worker and puts a fresh one in its place. */
  replace(slot: Slot): void;
  /** Puts tasks back at the queue's head and starts what can start. */
  requeue(entries: Queued[]): void;
  pump(): void;
}

/** Sends a batch to a slot's worker and watches it until its tasks settle. */
export function startBatch(host: BatchHost, slot: Slot, batch: Queued[]): void {
  const startedAt = performance.now();
  const first = (batch[0] as Queued).task;
  const tasks = new Map(batch.map((entry) => [entry.task.key, entry]));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settle = (outcome: (entry: Queued, i: number) => TaskOutcome): void => {
    clearTimeout(timer);
    if (slot.running?.tasks === tasks) slot.running = undefined;
    const elapsed = performance.now() - startedAt;
    const durationMs = elapsed / batch.length;
    const dutyCycle = host.dutyCycle();
    slot.restUntil = dutyCycle < 1 ? performance.now() + elapsed * (1 / dutyCycle - 1) : undefined;
    batch.forEach((entry, i) => {
      if (!tasks.delete(entry.task.key)) return;
      entry.resolve({ outcome: outcome(entry, i), durationMs });
    });
    queueMicrotask(() => host.pump());
  };
  // Only a batch that ran to its end measures the job's task time.
  const finish = (outcome: (entry: Queued, i: number) => TaskOutcome): void => {
    host.policy.measured(first.jobId, (performance.now() - startedAt) / batch.length);
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
        host.policy.unbatch(first.jobId);
        const unsettled = batch.filter((entry) => tasks.delete(entry.task.key));
        if (slot.running?.tasks === tasks) slot.running = undefined;
        host.replace(slot);
        host.requeue(unsettled);
        return;
      }
      settle(() => ({
        status: 'error',
        message: `[runner]: task timed out after ${first.timeoutMs} ms without progress; its worker was replaced`,
      }));
      host.replace(slot);
    }, first.timeoutMs);
  };
  alive();
  const batchId = host.nextBatchId();
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
  // most the batch's own (about 100 ms, see batch-policy.ts), far under what speculation waits for.
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
