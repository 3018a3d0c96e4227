/**
 * @module Claiming: the I/O half of claims.ts. When the scheduler says a shared job's waiting
 * work runs low on this node, it claims more of the job's tasks from the store, reads what the
 * store kept for them, and hands the range to the scheduler, whose hungry tabs then get them.
 * One claim per job at a time; a claim that finds nothing marks the job exhausted until claims
 * are released (a node died or handed a range back). A range claimed whose state could not be
 * read (the database went away in between) is this node's in the store, and no other node will
 * run it: it is kept and read again before anything new is claimed for its job. A claim that
 * failed may still have been committed (its answer was lost): before the next claim for its job,
 * the node asks the store which ranges it holds and takes up any it does not run. A claim that
 * found nothing while claims were being released (its read may predate the release) marks
 * nothing exhausted: the next pump claims again.
 */
import type { Log } from '../log.ts';
import type { Effect, Scheduler } from '../scheduling/scheduler.ts';
import type { ClaimedRange, ClusterStore } from '../store/cluster.ts';
import type { Clock } from './clock.ts';
import type { EffectApplier } from './effects.ts';
import { throttledWarn, WARN_EVERY_MS } from '../log.ts';

export interface ClaimerDeps {
  store: ClusterStore;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  log: Log;
  epoch: () => number;
  /** A range was added: results forwarded for its tasks may be waiting. */
  claimed?: () => void;
}

export class Claimer {
  readonly #deps: ClaimerDeps;
  readonly #claiming = new Set<string>();
  /** Ranges claimed and not yet handed to the scheduler, by job id. */
  readonly #unread = new Map<string, ClaimedRange[]>();
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  /** Jobs whose last claim failed: the store may hold a range for this node it never heard of. */
  readonly #unsure = new Set<string>();
  /** Counts `released` calls, so a claim can tell whether one came while it ran. */
  #releases = 0;

  constructor(deps: ClaimerDeps) {
    this.#deps = deps;
    this.#warn = throttledWarn(deps.log, WARN_EVERY_MS, 'times');
  }

  /**
   * Starts a claim for every shared job that needs one and has none under way, and takes up the
   * ranges a failed claim or read left in doubt whether or not the job needs more: a range held
   * and not run would keep its tasks from every node (their forwarded results included).
   */
  pump(): void {
    for (const { jobId, tasks } of this.#deps.scheduler.cluster.claimNeeds())
      this.#start(jobId, tasks);
    for (const jobId of new Set([...this.#unsure, ...this.#unread.keys()])) {
      if (this.#deps.scheduler.getJob(jobId)) this.#start(jobId, 0);
      else {
        this.#unsure.delete(jobId);
        this.#unread.delete(jobId);
      }
    }
  }

  #start(jobId: string, tasks: number): void {
    if (this.#claiming.has(jobId)) return;
    this.#claiming.add(jobId);
    void this.#claim(jobId, tasks).finally(() => this.#claiming.delete(jobId));
  }

  /**
   * Claims at once, tabs or not (a start): released ranges come first, so the tasks that were out
   * when a coordinator stopped are held again before its tabs reconnect and send what they
   * computed meanwhile.
   */
  async claimNow(jobId: string, tasks: number): Promise<void> {
    if (this.#claiming.has(jobId)) return;
    this.#claiming.add(jobId);
    await this.#claim(jobId, tasks).finally(() => this.#claiming.delete(jobId));
  }

  /** Claims were released: jobs that had nothing left to claim may have again. */
  released(jobIds: Iterable<string>): void {
    this.#releases++;
    for (const jobId of jobIds) this.#deps.scheduler.cluster.setClaimsExhausted(jobId, false);
    this.pump();
  }

  /** Resolves once no claim is under way (for a clean stop). */
  async idle(): Promise<void> {
    while (this.#claiming.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  async #claim(jobId: string, tasks: number): Promise<void> {
    const { store, scheduler, effects, clock } = this.#deps;
    const releases = this.#releases;
    try {
      const ranges =
        this.#unread.get(jobId) ??
        (await this.#heldUnknown(jobId)) ??
        (tasks > 0 ? await this.#claimOrDoubt(jobId, tasks) : undefined);
      this.#unread.delete(jobId);
      if (ranges === undefined) return;
      if (ranges.length === 0) {
        if (releases === this.#releases) scheduler.cluster.setClaimsExhausted(jobId, true);
        return;
      }
      for (const [index, range] of ranges.entries()) {
        const state = await store.rangeState(range).catch((error: unknown) => {
          this.#unread.set(jobId, ranges.slice(index));
          throw error;
        });
        const changes: Effect[] = [];
        if (!scheduler.cluster.addRange(range, state, clock.now(), changes)) {
          // The job ended meanwhile: the range goes back (a no-op if the job's claims are gone).
          await store.releaseRange(range, this.#deps.epoch());
          continue;
        }
        await effects.apply(changes);
      }
      this.#deps.claimed?.();
    } catch (error) {
      this.#warn({ err: error, jobId }, '[cluster]: claiming tasks failed; trying again shortly');
    }
  }

  /** Claims, noting a failure: the claim may have been committed all the same. */
  async #claimOrDoubt(jobId: string, tasks: number): Promise<ClaimedRange[]> {
    try {
      return await this.#deps.store.claimTasks(jobId, this.#deps.epoch(), tasks);
    } catch (error) {
      this.#unsure.add(jobId);
      throw error;
    }
  }

  /**
   * After a failed claim: the ranges the store says this node holds and it does not run, or
   * undefined when there are none (and a new claim may go ahead).
   */
  async #heldUnknown(jobId: string): Promise<ClaimedRange[] | undefined> {
    if (!this.#unsure.has(jobId)) return undefined;
    const held = await this.#deps.store.heldRanges(jobId, this.#deps.epoch());
    this.#unsure.delete(jobId);
    const unknown = held.filter((range) => !this.#deps.scheduler.cluster.holdsRange(range));
    return unknown.length > 0 ? unknown : undefined;
  }
}
