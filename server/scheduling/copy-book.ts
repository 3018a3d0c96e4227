/**
 * @module The copy book: the one writer of live copies, their deadlines and each tab's copies.
 *
 * A copy is live while its id is a key of the book; then, and only then, it is also in its task's
 * `leases`, its tab's `leases` (while the tab is connected), counted in its job's `inFlight` and
 * `running`, and armed in the deadline heap (lazily: stale heap entries are skipped when popped).
 */
import { maxRuntimeMsOf } from '../../shared/job.ts';
import type { CopyEnd, CopyKind } from '../../shared/timeline.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import type { Effect } from './effects.ts';
import { taskBytes } from './fill.ts';
import type { LeaseIds } from './lease-ids.ts';
import type { JobEntry, Lease, TaskEntry, VolunteerEntry } from './state.ts';

export interface CopyBookOptions {
  /** Slack added to every deadline for network and clock jitter. */
  leaseGraceMs: number;
  leaseIds: LeaseIds;
}

/** What the book reads of the scheduler's other state, and whom it tells that a tab has room. */
export interface CopyBookLinks {
  jobOf(jobId: string): JobEntry | undefined;
  tabOf(volunteerId: string): VolunteerEntry | undefined;
  /** A copy held by this connected tab ended: it has room again. */
  freed(volunteerId: string): void;
}

/** What the next copy of a task is, for the timeline: decided before it is issued. */
export function copyKind(job: JobEntry, task: TaskEntry): CopyKind {
  if (task.borrowed || task.leases.length > 0)
    return job.spec.redundancy > 1 && !task.backup ? 'replica' : 'backup';
  if (task.copies > 0) return 'retry';
  return job.spec.redundancy > 1 ? 'replica' : 'first';
}

/** Stale heap entries tolerated beyond the live copies before a sweep. */
const STALE_SWEEP_SLACK = 1_024;

export class CopyBook {
  readonly #options: CopyBookOptions;
  readonly #links: CopyBookLinks;
  readonly #leases = new Map<string, Lease>();
  readonly #deadlines = new DeadlineHeap();

  constructor(options: CopyBookOptions, links: CopyBookLinks) {
    this.#options = options;
    this.#links = links;
  }

  /** The live copy with this id, if any. */
  get(leaseId: string): Lease | undefined {
    return this.#leases.get(leaseId);
  }

  /** Live copies in all. */
  get size(): number {
    return this.#leases.size;
  }

  /** Issues a copy of a task to a tab and indexes it everywhere. */
  issue(
    job: JobEntry,
    taskIndex: number,
    volunteer: VolunteerEntry,
    kind: CopyKind,
    now: number,
  ): Lease {
    const task = job.tasks.at(taskIndex) as TaskEntry;
    // The tab runs its copies FIFO on `slots` workers and kills any that outlive timeoutMs, so a
    // copy queued behind `ahead` others must finish within this bound or the tab is not working.
    // The runtime cap bounds it too: `ahead` follows the run times the tab reports, which a tab
    // may invent to hold hundreds of copies for hours.
    const ahead = Math.floor(volunteer.leases.size / Math.max(1, volunteer.slots));
    task.copies++;
    const lease: Lease = {
      kind,
      leaseId: this.#options.leaseIds.issue(job.jobId, taskIndex, volunteer.deviceId),
      jobId: job.jobId,
      taskIndex,
      volunteerId: volunteer.volunteerId,
      deviceId: volunteer.deviceId,
      ...(volunteer.address !== undefined ? { address: volunteer.address } : {}),
      dispatchedAt: now,
      deadline:
        now +
        Math.min(job.spec.timeoutMs * (ahead + 1), maxRuntimeMsOf(job.spec)) +
        this.#options.leaseGraceMs,
      bytes: taskBytes(job),
    };
    this.#leases.set(lease.leaseId, lease);
    this.#arm(lease);
    volunteer.leases.add(lease.leaseId);
    volunteer.heldBytes += lease.bytes;
    if (task.leases.length === 0) {
      job.inFlight++;
      job.running.add(taskIndex);
    }
    task.leases.push(lease.leaseId);
    return lease;
  }

  /** Forgets a live copy everywhere it is indexed. Dropping a copy no longer live does nothing. */
  drop(lease: Lease, end: CopyEnd, now: number, effects: Effect[], won = false): void {
    if (!this.#leases.delete(lease.leaseId)) return;
    const volunteer = this.#links.tabOf(lease.volunteerId);
    if (volunteer) {
      volunteer.leases.delete(lease.leaseId);
      volunteer.heldBytes -= lease.bytes;
      this.#links.freed(volunteer.volunteerId);
    }
    const job = this.#links.jobOf(lease.jobId);
    const task = job?.tasks.at(lease.taskIndex);
    if (job && task) {
      const at = task.leases.indexOf(lease.leaseId);
      if (at >= 0) task.leases.splice(at, 1);
      if (task.leases.length === 0 && at >= 0) {
        job.inFlight--;
        job.running.delete(lease.taskIndex);
      }
    }
    effects.push({ type: 'copy-ended', lease, end, won, at: now });
  }

  /** Ends every live copy of a settled or cancelled task and tells their tabs to stop. */
  endAll(task: TaskEntry, reason: 'committed' | 'cancelled', now: number, effects: Effect[]): void {
    const byVolunteer = new Map<string, string[]>();
    for (const leaseId of [...task.leases]) {
      const lease = this.#leases.get(leaseId);
      if (!lease) continue;
      this.drop(lease, reason === 'committed' ? 'superseded' : 'cancelled', now, effects);
      const list = byVolunteer.get(lease.volunteerId) ?? [];
      list.push(leaseId);
      byVolunteer.set(lease.volunteerId, list);
    }
    for (const [volunteerId, leaseIds] of byVolunteer) {
      effects.push({ type: 'cancel', volunteerId, leaseIds, reason });
    }
  }

  /**
   * A copy reported progress: the first report fixes its start, each one restarts its timeout.
   */
  progress(
    lease: Lease,
    job: JobEntry,
    elapsedMs: number,
    fraction: number | undefined,
    now: number,
  ): void {
    if (lease.startedAt === undefined) {
      lease.startedAt = Math.max(lease.dispatchedAt, now - Math.round(elapsedMs));
    }
    if (fraction !== undefined) lease.fraction = fraction;
    this.extend(lease, job, now);
  }

  /**
   * A copy's result came in. One too short to have reported its start (the tab's reports are
   * throttled) gets one from the run time its tab measured, so the timeline tells the copy's
   * wait in the tab's queue from its run instead of drawing both as run.
   */
  ran(lease: Lease, durationMs: number, now: number): void {
    if (lease.startedAt === undefined) {
      lease.startedAt = Math.max(lease.dispatchedAt, now - Math.round(durationMs));
    }
  }

  /** Restarts a copy's timeout, but never past its job's runtime cap from its start. */
  extend(lease: Lease, job: JobEntry, now: number): void {
    const start = lease.startedAt ?? lease.dispatchedAt;
    lease.deadline =
      Math.min(now + job.spec.timeoutMs, start + maxRuntimeMsOf(job.spec)) +
      this.#options.leaseGraceMs;
    this.#arm(lease);
  }

  /**
   * Puts the copy's deadline in the heap. Ended and re-armed copies leave stale entries there
   * until their deadline passes (at 30,000 results/s and a 30 s timeout, about a million): once
   * they outnumber the live copies, they are swept, amortized O(1) per push.
   */
  #arm(lease: Lease): void {
    this.#deadlines.push(lease.deadline, lease.leaseId);
    if (this.#deadlines.size <= 2 * this.#leases.size + STALE_SWEEP_SLACK) return;
    this.#deadlines.retain((deadline, leaseId) => this.#leases.get(leaseId)?.deadline === deadline);
  }

  /**
   * Ends, one at a time, every copy whose deadline has passed, tells its tab, and yields it for
   * its task to be charged. Lazy: charging one copy may end others before they are reached.
   */
  *expire(now: number, effects: Effect[]): Generator<Lease> {
    for (const leaseId of this.#deadlines.popDue(now)) {
      const lease = this.#leases.get(leaseId);
      if (!lease || lease.deadline > now) continue;
      this.drop(lease, 'expired', now, effects);
      effects.push({
        type: 'cancel',
        volunteerId: lease.volunteerId,
        leaseIds: [lease.leaseId],
        reason: 'expired',
      });
      yield lease;
    }
  }

  /** When the next deadline falls (possibly a stale one: expiring then finds nothing). */
  nextDeadline(): number | undefined {
    return this.#deadlines.peek();
  }

  /** The live copies a tab holds, looked up one at a time as the caller moves on. */
  *heldBy(volunteer: VolunteerEntry): Generator<Lease> {
    for (const leaseId of volunteer.leases) {
      const lease = this.#leases.get(leaseId);
      if (lease) yield lease;
    }
  }

  /** A tab that left holds nothing: its copies were dropped while it was no longer connected. */
  forgetTab(volunteer: VolunteerEntry): void {
    volunteer.leases.clear();
  }

  /** Live copies of a job's running tasks, for the timeline. */
  liveCopies(job: JobEntry): Lease[] {
    const copies: Lease[] = [];
    for (const taskIndex of job.running) {
      for (const leaseId of (job.tasks.at(taskIndex) as TaskEntry).leases) {
        const lease = this.#leases.get(leaseId);
        if (lease) copies.push(lease);
      }
    }
    return copies;
  }
}
