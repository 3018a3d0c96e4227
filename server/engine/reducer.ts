/**
 * @module Running a finished job's reduce, once, after its results are durable (the reduce reads
 * the committed results from the store). Kept apart from the engine so `close` can wait for the
 * reduces in flight and a restart can finish the ones a crash interrupted.
 */
import { runReduce } from '../jobs/reduce.ts';
import type { Log } from '../log.ts';
import { taskSpan } from '../scheduling/sharder.ts';
import type { JobStore } from '../store/store.ts';

export interface ReducerDeps {
  store: JobStore;
  log: Log;
  timeLimitMs: number;
  /** A reduce's outcome was recorded (the job's summary changed). */
  reduced(jobId: string): void;
}

export class Reducer {
  readonly #deps: ReducerDeps;
  /** Reduces running, so they are not started twice and `close` can wait for them. */
  readonly #running = new Map<string, Promise<void>>();
  #closing = false;

  constructor(deps: ReducerDeps) {
    this.#deps = deps;
  }

  /** Runs the job's reduce unless it has none, already ran, or is running. */
  start(jobId: string): void {
    if (this.#running.has(jobId) || this.#closing) return;
    const { store, log, timeLimitMs } = this.#deps;
    const run = (async () => {
      const job = await store.getJob(jobId);
      if (!job?.spec.reduce || job.reduced) return;
      const outcome =
        job.status === 'cancelled'
          ? { error: 'reduce skipped: the job was cancelled' }
          : await runReduce(
              store.results(jobId),
              (taskIndex) => taskSpan(job.items, job.spec.chunkSize, taskIndex).start,
              { source: job.spec.reduce.fn, initial: job.spec.reduce.initial, timeLimitMs },
            );
      await store.setReduced(jobId, outcome);
      this.#deps.reduced(jobId);
    })()
      .catch((error: unknown) => log.error({ err: error, jobId }, '[engine]: reduce failed'))
      .finally(() => this.#running.delete(jobId));
    this.#running.set(jobId, run);
  }

  /** Starts no more reduces and waits for those running. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled(this.#running.values());
  }
}
