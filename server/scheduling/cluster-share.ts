/**
 * @module A node's share of the jobs it runs with other nodes: the ranges it claims (claims.ts)
 * and the backups it runs of tasks other nodes hold (borrowing.ts). A part of the scheduler,
 * reached as `scheduler.cluster`; pure, like the rest of it.
 */
import type { ClaimedRange, RangeState } from '../store/cluster.ts';
import { addBorrowedTasks, borrowNeeds, isOpen, type BorrowNeed } from './borrowing.ts';
import { addClaimedRange, claimNeeds } from './claims.ts';
import type { CopyBook } from './copy-book.ts';
import type { Effect } from './effects.ts';
import type { JobBook } from './job-book.ts';
import type { JobEntry } from './state.ts';
import type { TabRoster } from './tab-roster.ts';

export interface ClusterShareParts {
  jobs: JobBook;
  tabs: TabRoster;
  book: CopyBook;
  /** Tops up tabs waiting for work, once tasks were added or copies ended. */
  feedHungry(now: number, effects: Effect[]): void;
}

export class ClusterShare {
  readonly #jobs: JobBook;
  readonly #tabs: TabRoster;
  readonly #book: CopyBook;
  readonly #feedHungry: (now: number, effects: Effect[]) => void;

  constructor(parts: ClusterShareParts) {
    this.#jobs = parts.jobs;
    this.#tabs = parts.tabs;
    this.#book = parts.book;
    this.#feedHungry = parts.feedHungry;
  }

  /** Shared jobs this node should claim more tasks of, and how many. */
  claimNeeds(): Array<{ jobId: string; tasks: number }> {
    return claimNeeds(this.#jobs.ordered, (grid) => this.#tabs.slotsFor(grid));
  }

  /** Adds tasks this node claimed; tabs waiting for work get them. False if the job is gone. */
  addRange(range: ClaimedRange, state: RangeState, now: number, effects: Effect[]): boolean {
    const job = this.#jobs.get(range.jobId);
    if (!job?.shared || job.status === 'cancelled') return false;
    // A backup run here of a task that settled meanwhile ends now; the others become this node's.
    this.#endBorrowed(job, state.settled, now, effects);
    addClaimedRange(job, range, state);
    this.#feedHungry(now, effects);
    return true;
  }

  /** Whether this node runs the range (it added it), for a claimer checking what it holds. */
  holdsRange(range: ClaimedRange): boolean {
    return this.#jobs.get(range.jobId)?.tasks.isClaimed(range.start) ?? false;
  }

  /** The job had nothing left to claim (or, `false`, ranges were released since). */
  setClaimsExhausted(jobId: string, exhausted: boolean): void {
    const job = this.#jobs.get(jobId);
    if (job) job.claimsExhausted = exhausted;
  }

  /** Shared jobs whose last tasks on other nodes this node's idle tabs could back up. */
  borrowNeeds(): BorrowNeed[] {
    return borrowNeeds(this.#jobs.ordered, (grid) => this.#tabs.idleSlotsFor(grid));
  }

  /** Queues one backup copy of up to `max` of these tasks other nodes hold (borrowing.ts). */
  addBorrowed(
    jobId: string,
    taskIndexes: readonly number[],
    max: number,
    now: number,
    effects: Effect[],
  ): number {
    const job = this.#jobs.get(jobId);
    if (!job?.shared || !isOpen(job)) return 0;
    const added = addBorrowedTasks(job, taskIndexes, max);
    if (added > 0) this.#feedHungry(now, effects);
    return added;
  }

  /** Shared jobs' borrowed tasks whose backup copies run here, by job. */
  borrowedRunning(): Array<{ jobId: string; taskIndexes: number[] }> {
    const running: Array<{ jobId: string; taskIndexes: number[] }> = [];
    for (const job of this.#jobs.ordered) {
      if (!job.shared) continue;
      const taskIndexes = [...job.tasks.borrowedRunning()];
      if (taskIndexes.length > 0) running.push({ jobId: job.jobId, taskIndexes });
    }
    return running;
  }

  /** Ends the backup copies of borrowed tasks the holder finished; their tabs are told to stop. */
  endBorrowed(jobId: string, taskIndexes: readonly number[], now: number, effects: Effect[]): void {
    const job = this.#jobs.get(jobId);
    if (job && this.#endBorrowed(job, taskIndexes, now, effects)) this.#feedHungry(now, effects);
  }

  /** Ends the copies of those of `taskIndexes` borrowed here and forgets them; whether any. */
  #endBorrowed(
    job: JobEntry,
    taskIndexes: Iterable<number>,
    now: number,
    effects: Effect[],
  ): boolean {
    let ended = false;
    for (const taskIndex of taskIndexes) {
      const task = job.tasks.peek(taskIndex);
      if (!task?.borrowed) continue;
      this.#book.endAll(task, 'committed', now, effects);
      job.tasks.forgetBorrowed(taskIndex);
      ended = true;
    }
    return ended;
  }
}
