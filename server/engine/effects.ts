/**
 * @module Applying the scheduler's effects: messages go to tabs through their outbox (which reads
 * an assignment's items first), state changes go to the store through the group commit, and the caller learns when they are durable. This is the only
 * place that turns a decision into I/O, so it also keeps the counters and the final summaries of
 * jobs whose last change is not yet durable.
 */
import type { JobSummary } from '../../shared/job.ts';
import { isFinished } from '../../shared/job.ts';
import { CoordinatorError } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Effect } from '../scheduling/scheduler.ts';
import type { Fence } from '../store/cluster.ts';
import { addStanding } from '../store/standing.ts';
import type { JobStore, StandingDelta, StoreChange } from '../store/store.ts';
import type { Clock } from './clock.ts';
import { GroupCommit } from './group-commit.ts';
import { TabOutbox } from './outbox.ts';
import type { StoreReachability } from './reachability.ts';
import { copyView, liveSummary } from './summaries.ts';
import type { TabRegistry } from './tab-registry.ts';

/**
 * Store changes waiting to be written past which assignments are held (about two per task: its
 * settle and its copy), and the level at which they go out again. Without this a 400,000-task
 * job ran 100,000 changes ahead of SQLite and peaked at 460 MiB of heap.
 */
const BACKLOG_HIGH_WATER = 20_000;
const BACKLOG_LOW_WATER = 5_000;

/** Where the engine reports timings (metrics); every method optional. */
export interface EngineObserver {
  /** A group commit wrote `changes` changes in `ms`. */
  commit?(changes: number, ms: number): void;
  /** A task committed `ms` after its winning copy was dispatched. */
  taskLatency?(ms: number): void;
}

export interface EngineCounters {
  dispatched: number;
  committed: number;
  failedTasks: number;
  duplicates: number;
  expired: number;
  dropped: number;
  /** Speculative backup copies that ended, and those whose result committed. */
  backups: number;
  backupsWon: number;
  /** Devices that lost trust or were banned. */
  distrusted: number;
}

export interface EffectsDeps {
  store: JobStore;
  tabs: TabRegistry;
  clock: Clock;
  log: Log;
  observe: EngineObserver;
  /** A job's progress changed (its summary is worth publishing). */
  changed(jobId: string): void;
  /** A finished job's last change is durable (its reduce may read the results); its summary then. */
  finished(summary: JobSummary): void;
  /** The store failed a write (called once); memory is now ahead of the durable record. */
  storeFailed(error: unknown): void;
  /** Tasks of these jobs settled and are durable: the store may find a shared job finished. */
  settled?(jobIds: ReadonlySet<string>): void;
  /** These devices' disagreements are durable: the other nodes may be told. */
  distrusted?(deviceIds: readonly string[]): void;
  /** This node's fence for every batch (see server/store/cluster.ts), once it joined. */
  fence?(): Fence | undefined;
  /** Whether the database is reachable: while it is not, batches wait and new work is held. */
  reachability?: StoreReachability;
}

export class EffectApplier {
  readonly #deps: EffectsDeps;
  readonly #commit: GroupCommit;
  readonly #outbox: TabOutbox;
  /** Final summaries of jobs that just left the scheduler, until their last change is durable. */
  readonly #settling = new Map<string, JobSummary>();
  /** Set by the first failed write: from then on nothing is sent or written. */
  #failed = false;
  readonly counters: EngineCounters = {
    dispatched: 0,
    committed: 0,
    failedTasks: 0,
    duplicates: 0,
    expired: 0,
    dropped: 0,
    backups: 0,
    backupsWon: 0,
    distrusted: 0,
  };

  constructor(deps: EffectsDeps) {
    this.#deps = deps;
    this.#commit = new GroupCommit(
      deps.store,
      (changes, ms) => deps.observe.commit?.(changes, ms),
      () => deps.fence?.(),
      deps.reachability,
    );
    // Backpressure: while the store is far behind, or away, new work waits, so results, and the
    // memory they hold until committed, cannot pile up faster than the store writes them.
    const gate = (): Promise<void> | undefined => {
      if (deps.reachability?.down) return deps.reachability.reachable().then(gate);
      return this.#commit.backlog > BACKLOG_HIGH_WATER
        ? this.#commit.below(BACKLOG_LOW_WATER)
        : undefined;
    };
    this.#outbox = new TabOutbox(deps.tabs, deps.log, gate);
  }

  /** The final summary of a job that left the scheduler and is not yet durable, if any. */
  settling(jobId: string): JobSummary | undefined {
    return this.#settling.get(jobId);
  }

  /** Resolves when every change queued so far is durable. */
  drain(): Promise<void> {
    return this.#commit.drain();
  }

  /** A stopping node: changes the database cannot take now fail instead of waiting for it. */
  giveUp(): void {
    this.#commit.giveUp();
  }

  /** `drain` for a stop: changes the store did not take are logged, not thrown. */
  drainLogged(): Promise<void> {
    return this.drain().catch((error: unknown) =>
      this.#deps.log.warn(
        { err: error },
        '[engine]: stopping with changes the database did not take; their tabs send those results again',
      ),
    );
  }

  /**
   * Throws once a store write has failed. Memory may then hold commits the store lacks, so work
   * taken now could be lost or committed twice; only a restart, which rebuilds from the store, is
   * safe.
   */
  assertWorking(): void {
    if (this.#failed) {
      throw new CoordinatorError(
        'internal',
        '[engine]: a store write failed; this coordinator takes no more work until it restarts',
      );
    }
  }

  /** For callers with no one to tell: a failed write has already reached `storeFailed`. */
  applyLogged(effects: Effect[]): Promise<void> {
    return this.apply(effects).catch(() => undefined);
  }

  /** Queues messages to tabs and resolves when the state changes among `effects` are durable. */
  apply(effects: readonly Effect[]): Promise<void> {
    try {
      this.assertWorking();
    } catch (error) {
      return Promise.reject(error);
    }
    const changes: StoreChange[] = [];
    const finished: JobSummary[] = [];
    const standings = new Map<string, StandingDelta>();
    for (const effect of effects) {
      const change = this.#one(effect, finished, standings);
      if (change) changes.push(change);
    }
    // One change per device per call, however many of its results were judged.
    const distrusted: string[] = [];
    for (const [deviceId, delta] of standings) {
      changes.push({ type: 'standing', deviceId, ...delta, at: this.#deps.clock.now() });
      if (delta.disagreed > 0) distrusted.push(deviceId);
    }
    for (const summary of finished) this.#settling.set(summary.id, summary);
    if (changes.length === 0) return Promise.resolve();
    const settledJobs = new Set<string>();
    for (const change of changes) if (change.type === 'settle') settledJobs.add(change.jobId);
    const durable = this.#commit.commit(changes).catch((error: unknown) => {
      if (!this.#failed) {
        this.#failed = true;
        this.#deps.storeFailed(error);
      }
      throw error;
    });
    if (settledJobs.size > 0)
      void durable.then(
        () => this.#deps.settled?.(settledJobs),
        () => undefined,
      );
    if (distrusted.length > 0)
      void durable.then(
        () => this.#deps.distrusted?.(distrusted),
        () => undefined,
      );
    return durable.finally(() => {
      for (const summary of finished) {
        this.#settling.delete(summary.id);
        this.#deps.finished(summary);
      }
    });
  }

  /**
   * Sends or counts one effect; returns the store change it makes, if any. Judged devices go
   * into `standings`, to be written once per device.
   */
  #one(
    effect: Effect,
    finished: JobSummary[],
    standings: Map<string, StandingDelta>,
  ): StoreChange | undefined {
    const { clock, log, observe } = this.#deps;
    const counters = this.counters;
    switch (effect.type) {
      case 'dispatch':
        counters.dispatched += effect.tasks.length;
        this.#outbox.assign(effect.volunteerId, effect.jobs, effect.tasks);
        return undefined;
      case 'cancel':
        this.#outbox.cancel(effect.volunteerId, {
          leaseIds: effect.leaseIds,
          reason: effect.reason,
        });
        return undefined;
      case 'settle':
        if (effect.status === 'committed') counters.committed++;
        else counters.failedTasks++;
        this.#deps.changed(effect.jobId);
        return { ...effect, at: clock.now() };
      case 'attempt':
        return effect;
      case 'job':
        this.#deps.changed(effect.jobId);
        if (isFinished(effect.status)) finished.push(liveSummary(effect.job));
        return { type: 'job', jobId: effect.jobId, status: effect.status, at: effect.at };
      case 'copy-ended': {
        const { lease } = effect;
        if (effect.end === 'expired') counters.expired++;
        if (effect.end === 'dropped') counters.dropped++;
        if (lease.kind === 'backup') counters.backups++;
        if (lease.kind === 'backup' && effect.won) counters.backupsWon++;
        if (effect.won) observe.taskLatency?.(effect.at - lease.dispatchedAt);
        return {
          type: 'copy',
          jobId: lease.jobId,
          taskIndex: lease.taskIndex,
          ...copyView(lease),
          endedAt: effect.at,
          end: effect.end,
          won: effect.won,
        };
      }
      case 'checkpoint':
      case 'forward-taken':
        return effect;
      case 'judged':
        for (const deviceId of effect.agreed) judge(standings, deviceId, AGREED);
        for (const deviceId of effect.disagreed) judge(standings, deviceId, DISAGREED);
        return undefined;
      case 'distrust':
        counters.distrusted++;
        log.warn(
          { deviceId: effect.deviceId, banned: effect.banned },
          effect.banned
            ? '[engine]: device banned; its uncommitted results were discarded'
            : '[engine]: device disagreed with its peers and lost its trust; its uncommitted results were discarded',
        );
        return undefined;
    }
  }
}

const AGREED: StandingDelta = { agreed: 1, disagreed: 0 };
const DISAGREED: StandingDelta = { agreed: 0, disagreed: 1 };

function judge(
  standings: Map<string, StandingDelta>,
  deviceId: string,
  verdict: StandingDelta,
): void {
  const before = standings.get(deviceId);
  standings.set(deviceId, before ? addStanding(before, verdict) : verdict);
}
