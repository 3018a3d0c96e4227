/**
 * @module Borrowing: the I/O half of borrowing.ts. While a shared job's tail runs on other
 * nodes and this node's tabs sit idle, it asks the store now and then for tasks the others hold
 * and still owe, and hands them to the scheduler as backups; their results are forwarded to the
 * holders like any result of a task this node does not hold. Now and then it asks which of the
 * tasks it backs up the holders finished, and stops those copies.
 */
import { throttledWarn, WARN_EVERY_MS } from '../log.ts';
import type { Effect } from '../scheduling/scheduler.ts';
import type { ClaimerDeps } from './claimer.ts';

/**
 * How long a job's tail must have left this node's tabs idle before it borrows, and how long it
 * waits after an ask that found nothing: a task held elsewhere for less is likely on its way, and
 * a backup would only add work. While asks find tasks, the next goes out at the next tick.
 */
export const BORROW_WAIT_MS = 2_000;
/** Longest a job's low-water mark is trusted before an ask starts from the job's first task. */
const MARK_KEEP_MS = 30_000;

/** What a claimer works with, less its hook for claimed ranges. */
export type BorrowerDeps = Omit<ClaimerDeps, 'claimed'>;

export class Borrower {
  readonly #deps: BorrowerDeps;
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  /** When each job that could borrow may next ask the store. */
  readonly #nextAskAt = new Map<string, number>();
  readonly #asking = new Set<string>();
  /**
   * The lowest task each job's last ask found open, and when that mark was first set: every task
   * below it was closed then. A task below it can open again (a released range another node takes
   * over, a forwarded result that fails), so the mark is dropped when claims are released and
   * after `MARK_KEEP_MS`.
   */
  readonly #from = new Map<string, { task: number; since: number }>();
  /** When this node next asks which of its backups the holders finished. */
  #checkAt = 0;
  #checking = false;

  constructor(deps: BorrowerDeps) {
    this.#deps = deps;
    this.#warn = throttledWarn(deps.log, WARN_EVERY_MS, 'times');
  }

  /** Borrows for every job whose tail has left this node's tabs idle for a while. */
  pump(now: number): void {
    this.#checkBackups(now);
    const needs = this.#deps.scheduler.cluster.borrowNeeds();
    const needed = new Set(needs.map((need) => need.jobId));
    for (const jobId of this.#nextAskAt.keys()) {
      if (needed.has(jobId) || this.#asking.has(jobId)) continue;
      this.#nextAskAt.delete(jobId);
      this.#from.delete(jobId);
    }
    for (const { jobId, tasks, borrowed } of needs) {
      const askAt = this.#nextAskAt.get(jobId);
      if (askAt === undefined) this.#nextAskAt.set(jobId, now + BORROW_WAIT_MS);
      if (askAt === undefined || now < askAt || this.#asking.has(jobId)) continue;
      this.#asking.add(jobId);
      void this.#borrow(jobId, tasks, borrowed).finally(() => this.#asking.delete(jobId));
    }
  }

  /** Claims were released (a node died or handed a range back): tasks below a mark may be open. */
  released(): void {
    this.#from.clear();
  }

  /** Resolves once no borrow or check is under way (for a clean stop). */
  async idle(): Promise<void> {
    while (this.#asking.size > 0 || this.#checking) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Every `BORROW_WAIT_MS`: stops the backups of tasks their holders finished meanwhile. */
  #checkBackups(now: number): void {
    if (this.#checking || now < this.#checkAt) return;
    const running = this.#deps.scheduler.cluster.borrowedRunning();
    if (running.length === 0) return;
    this.#checkAt = now + BORROW_WAIT_MS;
    this.#checking = true;
    void this.#endFinished(running).finally(() => (this.#checking = false));
  }

  async #endFinished(running: Array<{ jobId: string; taskIndexes: number[] }>): Promise<void> {
    const { store, scheduler, effects, clock } = this.#deps;
    try {
      const changes: Effect[] = [];
      for (const { jobId, taskIndexes } of running) {
        const closed = await store.closedAmong(jobId, taskIndexes);
        if (closed.length > 0) scheduler.cluster.endBorrowed(jobId, closed, clock.now(), changes);
      }
      await effects.apply(changes);
    } catch (error) {
      this.#warn({ err: error }, '[cluster]: checking which backups are done failed');
    }
  }

  async #borrow(jobId: string, tasks: number, borrowed: number): Promise<void> {
    const { store, scheduler, effects, clock } = this.#deps;
    try {
      // Lowest first, so those borrowed before (still running, say) come first: look past them.
      const mark = this.#from.get(jobId);
      const fresh = mark !== undefined && clock.now() - mark.since < MARK_KEEP_MS;
      const from = fresh ? mark.task : 0;
      const open = await store.unsettledElsewhere(
        jobId,
        this.#deps.epoch(),
        from,
        tasks + borrowed,
      );
      const lowest = open[0];
      if (lowest !== undefined) {
        this.#from.set(jobId, { task: lowest, since: fresh ? mark.since : clock.now() });
      }
      const changes: Effect[] = [];
      const added = scheduler.cluster.addBorrowed(jobId, open, tasks, clock.now(), changes);
      if (added === 0) this.#nextAskAt.set(jobId, clock.now() + BORROW_WAIT_MS);
      await effects.apply(changes);
    } catch (error) {
      this.#nextAskAt.set(jobId, clock.now() + BORROW_WAIT_MS);
      this.#warn({ err: error, jobId }, '[cluster]: looking for tasks to back up failed');
    }
  }
}
