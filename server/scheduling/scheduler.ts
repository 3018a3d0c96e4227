/**
 * @module The scheduler: the one facade the engine calls for every scheduling decision.
 *
 * Pure logic over in-memory state with the time passed in: each call returns the effects
 * (messages to send, state to persist) for the engine to apply. It fills tabs and hands the rest
 * to its parts: the copy book (live copies), the job book, the tab roster, the jury (votes,
 * trust), the settler (the commit path) and, for jobs shared with other nodes, the cluster share
 * (claimed ranges and backups of other nodes' tasks). Re-dispatch, redundancy and speculation are one
 * mechanism: a task may have several live copies, and the settle rule decides which commits.
 */
import type { JobSpec } from '../../shared/job.ts';
import type { CheckpointReport, ProgressBatch, TaskResult } from '../../shared/protocol.ts';
import type { InputSource } from '../store/input-source.ts';
import { ClusterShare } from './cluster-share.ts';
import { CopyBook } from './copy-book.ts';
import type { SpreadView } from './device-spread.ts';
import type { Effect, PlannedTask } from './effects.ts';
import { JobBook } from './job-book.ts';
import { newJobEntry, restoredJobEntry, type RestoredJob } from './job-entry.ts';
import { requeue } from './job-queue.ts';
import { Jury } from './jury.ts';
import { ephemeralLeaseIds } from './lease-ids.ts';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './options.ts';
import { Settler, type ForwardedReport, type ReportVerdict } from './settler.ts';
import { inlineInputs } from '../jobs/inline-inputs.ts';
import { taskSpan } from './sharder.ts';
import { queueBackups } from './speculation.ts';
import { TabFiller } from './tab-filler.ts';
import { TabRoster, type TabHello } from './tab-roster.ts';
import type { JobEntry, Lease, VolunteerEntry } from './state.ts';
import type { DeviceTrustView, Standing } from './trust.ts';

export type { Effect, ForwardedReport, PlannedTask, ReportVerdict, RestoredJob };

export { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './options.ts';

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #jobs = new JobBook();
  readonly #tabs = new TabRoster();
  readonly #jury: Jury;
  readonly #book: CopyBook;
  readonly #spread: SpreadView;
  readonly #settler: Settler;
  readonly #filler: TabFiller;
  /** Claimed ranges and backups of other nodes' tasks (jobs shared with other nodes). */
  readonly cluster: ClusterShare;

  constructor(options: Partial<SchedulerOptions> = {}) {
    this.#options = {
      ...DEFAULT_SCHEDULER_OPTIONS,
      leaseIds: ephemeralLeaseIds(),
      random: Math.random,
      ...options,
    };
    this.#jury = new Jury(this.#options.trust);
    this.#book = new CopyBook(this.#options, {
      jobOf: (jobId) => this.#jobs.get(jobId),
      tabOf: (volunteerId) => this.#tabs.get(volunteerId),
      // It has room again; the next feed of hungry tabs tops it up.
      freed: (volunteerId) => this.#tabs.setHungry(volunteerId, true),
    });
    this.#spread = { census: this.#tabs.census, leaseOf: (leaseId) => this.#book.get(leaseId) };
    this.#filler = new TabFiller({
      options: this.#options,
      jobs: this.#jobs,
      tabs: this.#tabs,
      jury: this.#jury,
      book: this.#book,
      spread: this.#spread,
    });
    this.#settler = new Settler({
      jobs: this.#jobs,
      book: this.#book,
      jury: this.#jury,
      spread: this.#spread,
      leaseIds: this.#options.leaseIds,
      random: this.#options.random,
      feedHungry: (now, effects) => this.#feedHungry(now, effects),
    });
    this.cluster = new ClusterShare({
      jobs: this.#jobs,
      tabs: this.#tabs,
      book: this.#book,
      feedHungry: (now, effects) => this.#feedHungry(now, effects),
    });
  }

  // ---- jobs -------------------------------------------------------------------------------

  /**
   * Registers a new job; returns its size. Dispatch effects go to tabs waiting for work. An
   * uploaded job's `inputs` come from the store; inline ones are read from the spec.
   */
  addJob(
    jobId: string,
    spec: JobSpec,
    now: number,
    effects: Effect[],
    inputs: InputSource = inlineInputs(spec.inputs),
    shared = false,
  ): JobEntry {
    const job = newJobEntry(jobId, this.#jobs.nextSeq(), spec, 'queued', now, inputs, [], shared);
    this.#jobs.admit(job);
    this.#activate(job, now, effects);
    return job;
  }

  /** Rebuilds an unfinished job from the store after a restart. Leases open at the crash are gone:
   * their tasks are queued again, and a late result from such a copy still commits if it arrives
   * first (results are accepted from stale leases), so re-adoption needs no lease bookkeeping. */
  restoreJob(restored: RestoredJob, now: number, effects: Effect[]): JobEntry {
    this.#jobs.seen(restored.seq);
    const job = restoredJobEntry(restored, restored.inputs ?? inlineInputs(restored.spec.inputs));
    this.#jobs.admit(job);
    if (!this.#jobs.finishIfSettled(job, now, effects)) this.#activate(job, now, effects);
    return job;
  }

  cancelJob(jobId: string, now: number, effects: Effect[]): boolean {
    return this.#end(jobId, 'cancelled', now, effects);
  }

  /**
   * A shared job the store found finished (its last tasks settled on any node): ends it here,
   * with the whole job's counts, which this node alone does not see.
   */
  finishJob(
    jobId: string,
    outcome: { status: 'completed' | 'failed'; done: number; failed: number },
    now: number,
    effects: Effect[],
  ): boolean {
    const job = this.#jobs.get(jobId);
    if (job) Object.assign(job, { done: outcome.done, failed: outcome.failed });
    return this.#end(jobId, outcome.status, now, effects);
  }

  /** Ids of the jobs this node runs (admitted, not finished). */
  jobIds(): string[] {
    return this.#jobs.ordered.map((job) => job.jobId);
  }

  getJob(jobId: string): Readonly<JobEntry> | undefined {
    return this.#jobs.get(jobId);
  }

  // ---- tabs -------------------------------------------------------------------------------

  /** A tab (re)connects. A tab id seen before keeps its leases: a reloaded tab reclaims them. */
  connect(hello: TabHello, now: number, effects: Effect[]): VolunteerEntry {
    const volunteer = this.#tabs.join(hello);
    this.#filler.fill(volunteer, now, effects);
    return volunteer;
  }

  /** A tab's connection closed: its copies are lost, their tasks go back to the queue. */
  disconnect(volunteerId: string, now: number, effects: Effect[]): void {
    const left = this.#tabs.leave(volunteerId);
    if (!left) return;
    const { volunteer, seatLost } = left;
    for (const lease of this.#book.heldBy(volunteer)) {
      const job = this.#jobs.get(lease.jobId);
      const task = job?.tasks.at(lease.taskIndex);
      this.#book.drop(lease, 'dropped', now, effects);
      if (job && task?.status === 'pending')
        this.#settler.lost(job, lease, this.#options.maxDrops, now, effects);
    }
    const hadCopies = volunteer.leases.size > 0;
    this.#book.forgetTab(volunteer);
    // Its copies went back, or a device left the census: one that waited as the last resort for
    // a task may now take it. (Not on every close: a class leaving would feed every tab each time.)
    if (hadCopies || seatLost) this.#feedHungry(now, effects);
  }

  /** A paused tab hands copies back unrun: they go to other tabs and cost no attempt. */
  release(volunteerId: string, leaseIds: readonly string[], now: number, effects: Effect[]): void {
    let released = false;
    for (const leaseId of leaseIds) {
      const lease = this.#book.get(leaseId);
      if (!lease || lease.volunteerId !== volunteerId) continue;
      this.#book.drop(lease, 'released', now, effects);
      const job = this.#jobs.get(lease.jobId);
      if (job) requeue(job, lease.taskIndex, true);
      released = true;
    }
    if (released) this.#feedHungry(now, effects);
  }

  setSlots(volunteerId: string, slots: number, now: number, effects: Effect[]): void {
    const volunteer = this.#tabs.get(volunteerId);
    if (!volunteer) return;
    const seatLost = this.#tabs.resize(volunteer, slots);
    this.#filler.fill(volunteer, now, effects);
    // A paused tab may have been all that kept a last-resort device waiting.
    if (seatLost) this.#feedHungry(now, effects);
  }

  getVolunteer(volunteerId: string): Readonly<VolunteerEntry> | undefined {
    return this.#tabs.get(volunteerId);
  }

  get volunteers(): IterableIterator<Readonly<VolunteerEntry>> {
    return this.#tabs.values();
  }

  /** Changes whenever a tab came or went, or changed its slots or grid. */
  get tabsVersion(): number {
    return this.#tabs.version;
  }

  // ---- results ----------------------------------------------------------------------------

  /**
   * A tab reports finished copies. Results are accepted from stale leases (expired, dropped,
   * issued before a restart) while the task is still open, if the lease id proves it was issued
   * to this browser for this task: the work is valid, and taking it is what lets a reconnecting or
   * reloaded tab deliver what it computed offline. The tab is topped
   * up once for the whole batch, so a batch of results brings back one batch of tasks.
   */
  report(
    volunteerId: string,
    results: readonly TaskResult[],
    now: number,
    effects: Effect[],
  ): ReportVerdict[] {
    const volunteer = this.#tabs.get(volunteerId);
    const verdicts = results.map((result) =>
      this.#settler.report(volunteer, volunteerId, result, now, effects),
    );
    this.#refill(volunteer, now, effects);
    return verdicts;
  }

  /** A result forwarded by another node, whose tab sent it there; see `Settler.reportForwarded`. */
  reportForwarded(forwarded: ForwardedReport, now: number, effects: Effect[]): ReportVerdict {
    return this.#settler.reportForwarded(forwarded, now, effects);
  }

  /**
   * A tab reports copies that started or moved on. The first report fixes the copy's start; each
   * one restarts its `timeoutMs`, so a long task that reports progress is not taken for dead,
   * while one that stays silent for `timeoutMs` is.
   */
  progress(volunteerId: string, updates: ProgressBatch['updates'], now: number): void {
    for (const update of updates) {
      const lease = this.#book.get(update.leaseId);
      if (!lease || lease.volunteerId !== volunteerId) continue;
      const job = this.#jobs.get(lease.jobId);
      if (!job) continue;
      this.#book.progress(lease, job, update.elapsedMs, update.fraction, now);
    }
  }

  /** Keeps a copy's latest checkpoint for the next copy of its task; a sign of life too. */
  checkpoint(
    volunteerId: string,
    report: CheckpointReport,
    now: number,
    effects: Effect[],
  ): boolean {
    const lease = this.#book.get(report.leaseId);
    if (!lease || lease.volunteerId !== volunteerId) return false;
    if (lease.jobId !== report.jobId || lease.taskIndex !== report.taskIndex) return false;
    const job = this.#jobs.get(lease.jobId);
    const task = job?.tasks.at(lease.taskIndex);
    if (!job || task?.status !== 'pending') return false;
    if (report.checkpoint.item >= taskSpan(job.items, job.spec.chunkSize, lease.taskIndex).count)
      return false;
    this.#book.extend(lease, job, now);
    // A checkpoint carries the outputs of the items before it: handed to a replica on another
    // device, it would let one device decide what the others "compute". With redundancy the
    // coordinator keeps none (each browser still resumes from its own IndexedDB).
    if (job.spec.redundancy > 1) return true;
    // Another node's task: the tab resumes from its own IndexedDB; the holder keeps its own.
    if (task.borrowed) return true;
    task.checkpoint = report.checkpoint;
    effects.push({
      type: 'checkpoint',
      jobId: job.jobId,
      taskIndex: lease.taskIndex,
      checkpoint: report.checkpoint,
    });
    return true;
  }

  /** Live copies of a job's task, for the timeline. */
  liveCopies(jobId: string): Lease[] {
    const job = this.#jobs.get(jobId);
    return job ? this.#book.liveCopies(job) : [];
  }

  // ---- time -------------------------------------------------------------------------------

  /** Starts backup copies where a job's speculation policy says a backup finishes sooner. */
  speculate(now: number, effects: Effect[]): void {
    // Takes that stopped at their bound of retries may have left eligible work further back.
    let started = this.#jobs.ordered.some((job) => job.retryCut);
    for (const job of this.#jobs.ordered) {
      job.retryCut = false;
      if (!job.speculation || job.running.size === 0) continue;
      const idle = this.#tabs.idleFor(job.spec.grid);
      if (queueBackups(job, job.speculation, (id) => this.#book.get(id), idle, now)) started = true;
    }
    if (started) this.#feedHungry(now, effects);
  }

  /** Ends every copy whose deadline has passed; each counts as a failed attempt. */
  expire(now: number, effects: Effect[]): void {
    this.#settler.expire(now, effects);
  }

  /** When the next lease deadline falls, for the coordinator's timer. */
  nextDeadline(): number | undefined {
    return this.#book.nextDeadline();
  }

  // ---- internals --------------------------------------------------------------------------

  #end(
    jobId: string,
    status: 'cancelled' | 'completed' | 'failed',
    now: number,
    effects: Effect[],
  ): boolean {
    const job = this.#jobs.get(jobId);
    if (!job) return false;
    for (const [taskIndex, task] of job.tasks.live()) {
      if (task.leases.length > 0)
        this.#book.endAll(task, status === 'cancelled' ? 'cancelled' : 'committed', now, effects);
      if (task.votes) this.#jury.dismiss(job, taskIndex);
      task.queued = false;
    }
    job.inFlight = 0;
    this.#jobs.setStatus(job, status, now, effects);
    this.#jobs.retire(job);
    this.#feedHungry(now, effects);
    return true;
  }

  #activate(job: JobEntry, now: number, effects: Effect[]): void {
    this.#jobs.activate(job);
    this.#jobs.finishIfSettled(job, now, effects);
    this.#feedHungry(now, effects);
  }

  /** Bans a device: its tabs are dropped and get nothing more, its open votes are discarded. */
  ban(deviceId: string, now: number, effects: Effect[]): void {
    this.#jury.ban(deviceId, (voter) => this.#settler.discardVotes(voter, now, effects));
    for (const volunteer of [...this.#tabs.values()]) {
      if (volunteer.deviceId === deviceId) this.disconnect(volunteer.volunteerId, now, effects);
    }
    effects.push({ type: 'distrust', deviceId, banned: true });
  }

  unban(deviceId: string): boolean {
    return this.#jury.unban(deviceId);
  }

  isBanned(deviceId: string): boolean {
    return this.#jury.isBanned(deviceId);
  }

  /** A device's standing as stored, with every node's verdicts (adaptive trust across nodes). */
  learnStanding(deviceId: string, stored: Standing): void {
    this.#jury.learn(deviceId, stored);
  }

  /** Another node caught the device disagreeing: its streak ends here. False if never seen here. */
  endStreak(deviceId: string): boolean {
    return this.#jury.endStreak(deviceId);
  }

  get devices(): DeviceTrustView[] {
    return this.#jury.view();
  }

  #refill(volunteer: VolunteerEntry | undefined, now: number, effects: Effect[]): void {
    if (volunteer && this.#tabs.isConnected(volunteer)) this.#filler.fill(volunteer, now, effects);
  }

  #feedHungry(now: number, effects: Effect[]): void {
    for (const volunteer of this.#tabs.hungry()) this.#filler.fill(volunteer, now, effects);
  }
}
