/**
 * @module Job progress for admin pages: jobs whose summary changed are collected and published at
 * most once per interval, so a job committing thousands of tasks a second sends a few events.
 */
import type { JobSummary } from '../../shared/job.ts';

type ProgressListener = (summary: JobSummary) => void;

export class ProgressFeed {
  readonly #listeners = new Set<ProgressListener>();
  readonly #dirty = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  /** `summary` reads a job's current summary; a job it cannot read is skipped. */
  constructor(intervalMs: number, summary: (jobId: string) => Promise<JobSummary>) {
    this.#timer = setInterval(() => this.#publish(summary), intervalMs);
    this.#timer.unref();
  }

  changed(jobId: string): void {
    this.#dirty.add(jobId);
  }

  listen(listener: ProgressListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #publish(summary: (jobId: string) => Promise<JobSummary>): void {
    if (this.#dirty.size === 0) return;
    const jobIds = [...this.#dirty];
    this.#dirty.clear();
    for (const jobId of jobIds) {
      void summary(jobId).then(
        (current) => {
          for (const listener of this.#listeners) listener(current);
        },
        () => undefined,
      );
    }
  }
}
