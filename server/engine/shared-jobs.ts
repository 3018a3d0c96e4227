/**
 * @module The jobs this node runs alongside others: taking one up (at start, or when another
 * node submits it), and ending it when the store counts every task settled, whichever node
 * settled the last. The tasks themselves come in claimed ranges (claimer.ts).
 */
import { resolveInputs } from '../jobs/uploads.ts';
import type { Log } from '../log.ts';
import { claimSize } from '../scheduling/claims.ts';
import type { Effect, Scheduler } from '../scheduling/scheduler.ts';
import type { JobStore, StoredJob } from '../store/store.ts';
import type { Claimer } from './claimer.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';
import { isFinished } from '../../shared/job.ts';

export interface SharedJobsDeps {
  store: JobStore;
  scheduler: Scheduler;
  effects: EffectApplier;
  claimer: Claimer;
  clock: Clock;
  log: Log;
  closing: () => boolean;
}

export class SharedJobs {
  readonly #deps: SharedJobsDeps;
  /** Jobs whose finish is being checked, or which are being taken up, right now. */
  readonly #busy = new Set<string>();

  constructor(deps: SharedJobsDeps) {
    this.#deps = deps;
  }

  /**
   * Takes up every unfinished job in the store (a start), and claims some of each at once: the
   * ranges released when a node stopped come first, so results its tabs computed meanwhile
   * commit when they are sent again instead of being computed twice.
   */
  async takeUpAll(): Promise<void> {
    for (const job of await this.#deps.store.unfinishedJobs()) {
      if (this.#deps.scheduler.getJob(job.jobId)) continue; // held already (events resumed)
      await this.#takeUp(job);
      if (this.#deps.scheduler.getJob(job.jobId)) {
        await this.#deps.claimer.claimNow(job.jobId, claimSize(0));
      }
    }
    this.#deps.claimer.pump();
  }

  /**
   * Events may have been lost (the connection to the other nodes was down): whatever they said
   * (jobs submitted, finished or cancelled, claims released) is read from the store instead. A
   * failure waits for the next resume or event.
   */
  async resync(): Promise<void> {
    const { scheduler, claimer, log } = this.#deps;
    claimer.released(scheduler.jobIds());
    try {
      await this.takeUpAll();
      await this.checkAll();
    } catch (error) {
      log.warn({ err: error }, '[cluster]: could not re-read the jobs after a lost connection');
    }
  }

  /** Another node submitted a job, or may have: take it up if it is new here and unfinished. */
  async submitted(jobId: string): Promise<void> {
    const { store, scheduler, claimer } = this.#deps;
    if (scheduler.getJob(jobId) || this.#busy.has(jobId) || this.#deps.closing()) return;
    this.#busy.add(jobId);
    try {
      const job = await store.getJob(jobId);
      if (job && !isFinished(job.status) && !scheduler.getJob(jobId)) await this.#takeUp(job);
      claimer.pump();
    } catch (error) {
      this.#deps.log.warn({ err: error, jobId }, '[cluster]: could not take up a job');
    } finally {
      this.#busy.delete(jobId);
    }
  }

  /** Another node cancelled a job: its copies here stop too. */
  async cancelled(jobId: string): Promise<void> {
    const { scheduler, effects, clock } = this.#deps;
    const list: Effect[] = [];
    if (scheduler.cancelJob(jobId, clock.now(), list)) await effects.applyLogged(list);
  }

  /**
   * Ends a shared job once the store counts every task settled (by this node or any other). One
   * check per job at a time; a change seen during a check is looked at by the next one.
   */
  async checkFinished(jobId: string): Promise<void> {
    const { store, scheduler, effects, clock, log } = this.#deps;
    if (this.#busy.has(jobId) || this.#deps.closing()) return;
    if (!scheduler.getJob(jobId)?.shared) return;
    this.#busy.add(jobId);
    try {
      const stored = await store.getJob(jobId);
      if (!stored) return;
      const list: Effect[] = [];
      if (stored.status === 'cancelled') scheduler.cancelJob(jobId, clock.now(), list);
      else if (stored.done + stored.failed >= stored.tasks) {
        const status = stored.failed > 0 ? 'failed' : 'completed';
        const { done, failed } = stored;
        scheduler.finishJob(jobId, { status, done, failed }, clock.now(), list);
      }
      if (list.length > 0) await effects.apply(list);
    } catch (error) {
      log.warn({ err: error, jobId }, '[engine]: could not check whether a job finished');
    } finally {
      this.#busy.delete(jobId);
    }
  }

  /** Checks every job this node runs (events may have been missed). */
  async checkAll(): Promise<void> {
    for (const jobId of this.#deps.scheduler.jobIds()) await this.checkFinished(jobId);
  }

  async #takeUp(job: StoredJob): Promise<void> {
    const { store, scheduler, effects, clock, log } = this.#deps;
    const now = clock.now();
    const inputs = await resolveInputs(store, job.spec.inputs).catch((error: unknown) => {
      log.error({ jobId: job.jobId, err: error }, '[engine]: job inputs are gone');
    });
    if (!inputs) {
      await store.apply([{ type: 'job', jobId: job.jobId, status: 'failed', at: now }]);
      return;
    }
    const list: Effect[] = [];
    scheduler.restoreJob(
      {
        jobId: job.jobId,
        seq: job.seq,
        spec: job.spec,
        status: job.status,
        createdAt: job.createdAt,
        startedAt: job.startedAt,
        // What is settled, spent or saved comes with each range this node claims.
        settled: [],
        attempts: [],
        inputs,
        shared: true,
      },
      now,
      list,
    );
    await effects.apply(list);
    log.info({ jobId: job.jobId }, '[engine]: took up a job from the store');
    await this.checkFinished(job.jobId);
  }
}
