/**
 * @module The commit path: results, failures and expiries become verdicts, and a task settles once.
 *
 * Results are accepted from stale leases (expired, dropped, issued before a restart) while the
 * task is still open, if the lease id proves it was issued to this browser for this task.
 */
import { maxRuntimeMsOf, type ItemOutcome } from '../../shared/job.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import type { CopyBook } from './copy-book.ts';
import { recordDrop, recordFailure, type SpreadView } from './device-spread.ts';
import type { Effect } from './effects.ts';
import type { JobBook } from './job-book.ts';
import { requeue, sampleDuration } from './job-queue.ts';
import type { Jury } from './jury.ts';
import type { LeaseIds } from './lease-ids.ts';
import { updateEwma } from './prefetch.ts';
import { readResult, revokesQuorum, ruleOnAnswer } from './settle-rule.ts';
import { taskSpan } from './sharder.ts';
import type { JobEntry, Lease, TaskEntry, VolunteerEntry } from './state.ts';

/**
 * What happened to one reported result. The tab may forget the lease in every case but
 * 'not-held': the task belongs to a shared job whose range this node does not hold (yet), so the
 * tab keeps the result and sends it again on its next connection.
 */
export type ReportVerdict =
  | 'committed'
  | 'failed'
  | 'retrying'
  | 'voted'
  | 'duplicate'
  | 'unknown-job'
  | 'not-held'
  | 'foreign-lease';

/** A result a tab sent to another node, forwarded to this one (see server/store/cluster.ts). */
export interface ForwardedReport {
  deviceId: string;
  address?: string;
  result: TaskResult;
}

/** Who sent a result, as far as its verdict cares: the device votes, the address spreads. */
interface Reporter {
  deviceId: string | undefined;
  address: string | undefined;
}

/** The parts of the scheduler the commit path reads and changes. */
export interface SettlerParts {
  jobs: JobBook;
  book: CopyBook;
  jury: Jury;
  spread: SpreadView;
  leaseIds: LeaseIds;
  /** For sampling durations; injected so tests can decide. */
  random: () => number;
  /** Tops up tabs waiting for work, once copies ended or tasks went back to the queue. */
  feedHungry(now: number, effects: Effect[]): void;
}

export class Settler {
  readonly #jobs: JobBook;
  readonly #book: CopyBook;
  readonly #jury: Jury;
  readonly #spread: SpreadView;
  readonly #leaseIds: LeaseIds;
  readonly #random: () => number;
  readonly #feedHungry: (now: number, effects: Effect[]) => void;

  constructor(parts: SettlerParts) {
    this.#jobs = parts.jobs;
    this.#book = parts.book;
    this.#jury = parts.jury;
    this.#spread = parts.spread;
    this.#leaseIds = parts.leaseIds;
    this.#random = parts.random;
    this.#feedHungry = parts.feedHungry;
  }

  /** One reported result; `volunteer` is the reporting tab while it is connected. */
  report(
    volunteer: VolunteerEntry | undefined,
    volunteerId: string,
    result: TaskResult,
    now: number,
    effects: Effect[],
  ): ReportVerdict {
    const job = this.#jobs.get(result.jobId);
    // Looked at, not touched: an untouched task gets an entry only for a result whose lease holds.
    let task = job?.tasks.peek(result.taskIndex);
    const lease = this.#book.get(result.leaseId);
    // Another tab's live lease is refused, unless that tab is this browser's: a tab reconnected
    // before the coordinator saw its old connection drop (it got a new id), or a sibling tab
    // sending what the shared IndexedDB holds.
    if (lease && lease.volunteerId !== volunteerId && lease.deviceId !== volunteer?.deviceId) {
      return 'foreign-lease';
    }
    if (lease && (lease.jobId !== result.jobId || lease.taskIndex !== result.taskIndex))
      return 'foreign-lease';
    // An untracked lease counts if it was issued to this browser (any of its tabs: a tab closed
    // and opened again delivers what the old one computed).
    if (
      !lease &&
      (volunteer === undefined ||
        !this.#leaseIds.verify(result.leaseId, result.jobId, result.taskIndex, volunteer.deviceId))
    ) {
      return 'foreign-lease';
    }
    if (lease) this.#book.ran(lease, result.durationMs, now);
    if (volunteer && result.outcome.status === 'ok') {
      volunteer.ewmaTaskMs = updateEwma(volunteer.ewmaTaskMs, result.durationMs);
    }
    if (job && task?.borrowed) {
      // A backup of another node's task: its copy ends here (if this result is its copy's: it
      // may be the holder's, sent here by the same browser), and the holder judges the result.
      if (lease) this.#book.drop(lease, 'result', now, effects);
      job.tasks.forgetBorrowed(result.taskIndex);
      return 'not-held';
    }
    if (job?.shared && !task && !job.tasks.isClaimed(result.taskIndex)) return 'not-held';
    const from = { deviceId: volunteer?.deviceId, address: volunteer?.address ?? lease?.address };
    const verdict = this.#settleHeld(job, task, result, lease, from, now, effects);
    if (volunteer && verdict === 'committed') {
      volunteer.tasksDone++;
      volunteer.cpuMs += result.durationMs;
    }
    return verdict;
  }

  /**
   * A result another node took from one of its tabs and left for this node, which holds the
   * task (the tab moved nodes). That node checked the lease against the tab's device; it is
   * checked again here, with the shared key, and then settles as that device's result, exactly
   * as if the tab had sent it here.
   */
  reportForwarded(forwarded: ForwardedReport, now: number, effects: Effect[]): ReportVerdict {
    const { result, deviceId } = forwarded;
    const job = this.#jobs.get(result.jobId);
    const task = job?.tasks.peek(result.taskIndex);
    const lease = this.#book.get(result.leaseId);
    if (lease) {
      if (lease.jobId !== result.jobId || lease.taskIndex !== result.taskIndex) {
        return 'foreign-lease';
      }
      if (lease.deviceId !== deviceId) return 'foreign-lease';
    } else if (!this.#leaseIds.verify(result.leaseId, result.jobId, result.taskIndex, deviceId)) {
      return 'foreign-lease';
    }
    if (job?.shared && !task && !job.tasks.isClaimed(result.taskIndex)) return 'not-held';
    const from = { deviceId, address: forwarded.address ?? lease?.address };
    return this.#settleHeld(job, task, result, lease, from, now, effects);
  }

  /** A checked result for a task this node holds (or an unknown job's): its verdict. */
  #settleHeld(
    job: JobEntry | undefined,
    held: TaskEntry | undefined,
    result: TaskResult,
    lease: Lease | undefined,
    from: Reporter,
    now: number,
    effects: Effect[],
  ): ReportVerdict {
    let task = held;
    if (job && !task) task = this.#touchForLateResult(job, result.taskIndex);
    if (!job || (!task && !job.tasks.isSettled(result.taskIndex))) {
      if (lease) this.#book.drop(lease, 'superseded', now, effects);
      return 'unknown-job';
    }
    if (!task || task.status !== 'pending') {
      if (lease) this.#book.drop(lease, 'superseded', now, effects);
      return 'duplicate';
    }
    return this.#settleRule(job, result, lease, from, now, effects);
  }

  /**
   * A verified result for a task no copy touched in this process (its lease is from before a
   * restart): the task gets an entry, queued as it was, so it still runs if this result does not
   * settle it. Undefined when the task settled or lies outside the job.
   */
  #touchForLateResult(job: JobEntry, taskIndex: number): TaskEntry | undefined {
    const task = job.tasks.at(taskIndex);
    if (task && !task.queued) {
      task.queued = true;
      job.queue.push(taskIndex);
    }
    return task;
  }

  #settleRule(
    job: JobEntry,
    result: TaskResult,
    lease: Lease | undefined,
    from: Reporter,
    now: number,
    effects: Effect[],
  ): ReportVerdict {
    const task = job.tasks.at(result.taskIndex) as TaskEntry;
    const reading = readResult(job, result);
    if (reading.failure !== undefined) {
      // A stale copy's failure was already counted when its lease ended.
      if (!lease) return 'retrying';
      this.#book.drop(lease, 'error', now, effects);
      task.lastError = reading.failure;
      if (recordFailure(job, result.taskIndex, lease, this.#spread, effects)) {
        this.giveUp(job, result.taskIndex, reading.failure, now, effects, reading.items);
        return 'failed';
      }
      requeue(job, result.taskIndex, true);
      this.#feedHungry(now, effects);
      return 'retrying';
    }
    const { items } = reading;
    const { deviceId } = from;
    if (revokesQuorum(task, deviceId)) {
      task.quorum = job.spec.redundancy;
      task.quorumDevice = undefined;
    }
    const quorum = task.quorum ?? job.spec.redundancy;
    const agreeing =
      quorum === 1
        ? 1
        : this.#jury.cast(job, result.taskIndex, items, {
            deviceId,
            leaseId: result.leaseId,
            address: from.address,
          });
    const ruling = ruleOnAnswer(job, task, items, quorum, agreeing);
    const won = ruling.verdict === 'committed' && ruling.won;
    if (lease) this.#book.drop(lease, 'result', now, effects, won);
    if (won) sampleDuration(job, result.durationMs, this.#random);
    if (ruling.verdict === 'committed') {
      this.#settle(job, result.taskIndex, 'committed', ruling.items, now, effects);
    } else if (ruling.verdict === 'failed') {
      this.giveUp(job, result.taskIndex, ruling.reason, now, effects);
    } else {
      requeue(job, result.taskIndex, true);
      this.#feedHungry(now, effects);
    }
    return ruling.verdict;
  }

  /** Ends every copy whose deadline has passed; each counts as a failed attempt. */
  expire(now: number, effects: Effect[]): void {
    let expired = false;
    for (const lease of this.#book.expire(now, effects)) {
      const job = this.#jobs.get(lease.jobId);
      const task = job?.tasks.at(lease.taskIndex);
      if (!job || !task || task.status !== 'pending') continue;
      // Another node's task: its attempts are the holder's to count.
      if (task.borrowed) {
        job.tasks.forgetBorrowed(lease.taskIndex);
        continue;
      }
      expired = true;
      const ranMs = lease.startedAt === undefined ? 0 : now - lease.startedAt;
      task.lastError =
        ranMs >= maxRuntimeMsOf(job.spec)
          ? `ran past maxRuntimeMs (${maxRuntimeMsOf(job.spec)} ms)`
          : `timed out after ${job.spec.timeoutMs} ms`;
      if (recordFailure(job, lease.taskIndex, lease, this.#spread, effects)) {
        this.giveUp(job, lease.taskIndex, task.lastError, now, effects);
      } else {
        requeue(job, lease.taskIndex, true);
      }
    }
    if (expired) this.#feedHungry(now, effects);
  }

  #settle(
    job: JobEntry,
    taskIndex: number,
    status: 'committed' | 'failed',
    items: ItemOutcome[],
    now: number,
    effects: Effect[],
  ): void {
    const task = job.tasks.at(taskIndex) as TaskEntry;
    this.#jury.judge(
      job,
      taskIndex,
      status === 'committed' ? items : undefined,
      (voter) => this.discardVotes(voter, now, effects),
      effects,
    );
    // Invariant: a task settles once; everything after is a duplicate.
    task.status = status;
    task.queued = false;
    task.votes = undefined;
    task.backup = false;
    task.checkpoint = undefined;
    if (status === 'committed') job.done++;
    else job.failed++;
    const hadCopies = task.leases.length > 0;
    if (hadCopies) this.#book.endAll(task, 'committed', now, effects);
    job.tasks.settle(taskIndex);
    effects.push({
      type: 'settle',
      jobId: job.jobId,
      taskIndex,
      status,
      items,
      attempts: task.attempts,
    });
    this.#jobs.finishIfSettled(job, now, effects);
    // Tabs whose copies were just cancelled have room again.
    if (hadCopies) this.#feedHungry(now, effects);
  }

  giveUp(
    job: JobEntry,
    taskIndex: number,
    reason: string,
    now: number,
    effects: Effect[],
    items?: ItemOutcome[],
  ): void {
    const { count } = taskSpan(job.items, job.spec.chunkSize, taskIndex);
    const error = `[task]: gave up after ${job.tasks.at(taskIndex)?.attempts ?? 0} failed attempts: ${reason}`;
    const outcomes = items ?? Array.from({ length: count }, () => ({ error }));
    this.#settle(job, taskIndex, 'failed', outcomes, now, effects);
  }

  /** Takes back a device's votes on open tasks; those tasks get another copy. */
  discardVotes(deviceId: string, now: number, effects: Effect[]): void {
    const touched = this.#jury.takeBack(deviceId, (jobId) => this.#jobs.get(jobId));
    for (const { job, taskIndex } of touched) requeue(job, taskIndex, true);
    if (touched.length > 0) this.#feedHungry(now, effects);
  }

  /**
   * A copy was lost with its tab: the task goes back to the queue, or ends once `maxDrops` drops
   * were charged (device-spread.ts charges a drop like a failure).
   */
  lost(job: JobEntry, lease: Lease, maxDrops: number, now: number, effects: Effect[]): void {
    if (job.tasks.peek(lease.taskIndex)?.borrowed) {
      job.tasks.forgetBorrowed(lease.taskIndex);
      return;
    }
    const gaveUp = recordDrop(job, lease, maxDrops, this.#spread, effects);
    if (gaveUp) this.giveUp(job, lease.taskIndex, gaveUp, now, effects);
    else requeue(job, lease.taskIndex, true);
  }
}
