/**
 * @module The job book: the one writer of which jobs are active, in what order, in what status.
 */
import type { JobStatus } from '../../shared/job.ts';
import type { Effect } from './effects.ts';
import type { JobEntry } from './state.ts';

export class JobBook {
  readonly #jobs = new Map<string, JobEntry>();
  /** Active jobs by priority (desc), then submission order. */
  #ordered: JobEntry[] = [];
  /** Round-robin cursor into each priority tier, by priority (fill.ts moves it). */
  readonly tierCursor = new Map<number, number>();
  #seq = 0;

  get(jobId: string): JobEntry | undefined {
    return this.#jobs.get(jobId);
  }

  get ordered(): readonly JobEntry[] {
    return this.#ordered;
  }

  /** The next submission number. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** A restored job keeps its number; later submissions come after it. */
  seen(seq: number): void {
    this.#seq = Math.max(this.#seq, seq);
  }

  /** Known by id from now on (results and cancels find it), not yet dispatched from. */
  admit(job: JobEntry): void {
    this.#jobs.set(job.jobId, job);
  }

  /** Dispatched from, in its place by priority and submission. */
  activate(job: JobEntry): void {
    this.#ordered.push(job);
    this.#ordered.sort((a, b) => b.spec.priority - a.spec.priority || a.seq - b.seq);
  }

  /** Forgotten: finished or cancelled. */
  retire(job: JobEntry): void {
    this.#jobs.delete(job.jobId);
    this.#ordered = this.#ordered.filter((entry) => entry !== job);
  }

  setStatus(job: JobEntry, status: JobStatus, now: number, effects: Effect[]): void {
    job.status = status;
    if (status === 'running') job.startedAt = now;
    if (status === 'completed' || status === 'failed' || status === 'cancelled')
      job.finishedAt = now;
    effects.push({ type: 'job', jobId: job.jobId, status, at: now, job });
  }

  /** Ends and retires a job whose every task settled; returns whether all had. */
  finishIfSettled(job: JobEntry, now: number, effects: Effect[]): boolean {
    // A shared job's other tasks settle on other nodes: the store says when it is finished.
    if (job.shared) return false;
    if (job.done + job.failed < job.taskCount) return false;
    if (!this.#jobs.has(job.jobId)) return true;
    this.setStatus(job, job.failed > 0 ? 'failed' : 'completed', now, effects);
    this.retire(job);
    return true;
  }
}
