/**
 * @module How many queued tasks go to a worker in one message. Short tasks go in batches: once a
 * job's tasks are measured to take under BATCH_BELOW_MS, one message carries up to BATCH_MAX of
 * them, sized to about BATCH_TARGET_MS of work. A message to a worker and back costs the page,
 * Chromium's IPC and the worker more than a short task: at one message per 20-ms task, the
 * overhead was about a sixth of the tasks' own CPU time (measured with bench/tabs.ts).
 */
import { own } from './own.ts';
import type { Queued } from './pool-task.ts';

const BATCH_MAX = 256;
const BATCH_TARGET_MS = 100;
/** Tasks measured at least this long always run one per message. */
const BATCH_BELOW_MS = 50;
/** A batch takes at most this share of its job's timeout, which applies to the whole batch. */
const BATCH_TIMEOUT_SHARE = 0.25;

export class BatchPolicy {
  /** Measured run time of one task, per job (moving average). */
  readonly #taskMs = new Map<string, number>();
  /** Jobs with a batch that timed out: their tasks run one per message from then on. */
  readonly #unbatched = new Set<string>();

  /** A batch of the job ran to its end at this time per task. */
  measured(jobId: string, perTaskMs: number): void {
    const previous = this.#taskMs.get(jobId);
    this.#taskMs.set(
      jobId,
      previous === undefined ? perTaskMs : previous + 0.2 * (perTaskMs - previous),
    );
  }

  /** A batch of the job timed out: its tasks run one per message from now on. */
  unbatch(jobId: string): void {
    this.#unbatched.add(jobId);
  }

  /**
   * Takes from `queue` the first task of a job the worker already runs (else the queue's head),
   * and after it queued tasks of the same job while they are tiny.
   */
  take(queue: Queued[], preferred: ReadonlySet<string>, idleWorkers: () => number): Queued[] {
    let at = queue.findIndex((entry) => preferred.has(entry.task.jobId));
    if (at < 0) at = 0;
    const head = queue.splice(at, 1)[0];
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
    const share = Math.ceil((queue.length + 1) / Math.max(1, idleWorkers()));
    for (let i = 0; i < queue.length && batch.length < Math.min(limit, share);) {
      const entry = queue[i] as Queued;
      if (entry.task.jobId === head.task.jobId && !own(entry.task, 'checkpoint')) {
        batch.push(entry);
        queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }
}
