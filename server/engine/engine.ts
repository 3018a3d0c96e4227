/**
 * @module The engine: the one object the edges (HTTP routes, socket handlers) talk to. It feeds
 * jobs and tab events to the scheduler and hands the effects it returns to the applier; grids,
 * devices and the timeline are its parts, each in its own file. It never parses wire input (the
 * edges validate) and never decides (the scheduler does).
 */
import { randomUUID } from 'node:crypto';
import type { JobSpec, JobSummary } from '../../shared/job.ts';
import type { WorkerView } from '../../shared/workers.ts';
import { isFinished } from '../../shared/job.ts';
import { checkTaskSize, resolveInputs } from '../jobs/uploads.ts';
import { CoordinatorError } from '../errors.ts';
import { checkMapSource, functionExpressionOf } from '../jobs/map-source.ts';
import type { Log } from '../log.ts';
import {
  DEFAULT_SCHEDULER_OPTIONS,
  Scheduler,
  type Effect,
  type SchedulerOptions,
} from '../scheduling/scheduler.ts';
import { countTasks } from '../scheduling/sharder.ts';
import type { JobStore, StoredJob, StoredTaskResult } from '../store/store.ts';
import { systemClock, type Clock } from './clock.ts';
import type { AdminChange } from './cluster-feed.ts';
import { AdminSync } from './admin-sync.ts';
import { ClusterNode, type NodeOptions } from './cluster-node.ts';
import { Devices } from './devices.ts';
import { EffectApplier, type EngineCounters, type EngineObserver } from './effects.ts';
import { Grids } from './grids.ts';
import { logJobEnd } from './job-end-log.ts';
import { ProgressFeed } from './progress-feed.ts';
import { Standings } from './standings.ts';
import { StoreReachability } from './reachability.ts';
import { Reducer } from './reducer.ts';
import { liveSummary, storedSummary } from './summaries.ts';
import { TabRegistry } from './tab-registry.ts';
import { Tabs } from './tabs.ts';
import { Timeline } from './timeline.ts';

export type { Clock } from './clock.ts';
export type { EngineCounters, EngineObserver } from './effects.ts';

export interface EngineOptions {
  store: JobStore;
  log: Log;
  clock?: Clock;
  scheduler?: Partial<SchedulerOptions>;
  /** How often lease deadlines are checked. */
  expiryTickMs?: number;
  /** Least time between two progress events of one job. */
  progressIntervalMs?: number;
  observe?: EngineObserver;
  /** How long a job's reduce may run. */
  reduceTimeLimitMs?: number;
  /**
   * Called once when the store fails a write. Memory is then ahead of the durable record (a task
   * settled in memory but not on disk would be dropped as a duplicate when its tab resends it), so
   * the engine has already stopped taking work; whether the process stops is the caller's choice
   * (`main.ts` exits: a restart rebuilds memory from the store, and tabs resend what was not
   * acknowledged).
   */
  onFatal?: (error: unknown) => void;
  /** This coordinator as a node of the cluster (node-life.ts); defaults suit one node. */
  node?: NodeOptions;
}

/** A map or reduce written as a statement (`(x) => x;`, as a formatted file holds it) is its expression. */
function withBareFunctions(spec: JobSpec): JobSpec {
  const map = functionExpressionOf(spec.map);
  const reduce = spec.reduce && { ...spec.reduce, fn: functionExpressionOf(spec.reduce.fn) };
  return { ...spec, map, ...(reduce ? { reduce } : {}) };
}

export class Engine {
  readonly #store: JobStore;
  readonly #log: Log;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #effects: EffectApplier;
  readonly #reducer: Reducer;
  readonly #progress: ProgressFeed;
  readonly #onFatal: (error: unknown) => void;
  readonly #cluster: ClusterNode;
  readonly #reachability: StoreReachability;
  readonly #standings: Standings;
  #closing = false;
  readonly #expiryTimer: NodeJS.Timeout;
  readonly tabs: Tabs;
  readonly grids: Grids;
  readonly devices: Devices;
  /** Admin changes every node follows. */
  readonly admin: AdminSync;
  readonly timeline: Timeline;
  readonly counters: EngineCounters;

  private constructor(options: EngineOptions) {
    const store = options.store;
    const log = options.log;
    const clock = options.clock ?? systemClock;
    const scheduler = new Scheduler(options.scheduler);
    const registry = new TabRegistry();
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
    this.#scheduler = scheduler;
    this.#onFatal = options.onFatal ?? (() => undefined);
    this.#reachability = new StoreReachability(log);
    this.#progress = new ProgressFeed(options.progressIntervalMs ?? 200, (jobId) =>
      this.summary(jobId),
    );
    this.#reducer = new Reducer({
      store,
      log,
      timeLimitMs: options.reduceTimeLimitMs ?? 60_000,
      reduced: (jobId) => this.#progress.changed(jobId),
    });
    const effects = new EffectApplier({
      store,
      tabs: registry,
      clock,
      log,
      observe: options.observe ?? {},
      changed: (jobId) => this.#progress.changed(jobId),
      finished: (summary) => {
        logJobEnd(log, summary);
        this.#startReduce(summary.id);
      },
      storeFailed: (error) => this.#halt(error),
      settled: (jobIds) => this.#cluster.settled(jobIds),
      distrusted: (deviceIds) => this.#standings.distrustedHere(deviceIds),
      fence: () => this.#cluster.fence(),
      reachability: this.#reachability,
    });
    this.#effects = effects;
    this.counters = effects.counters;
    this.#cluster = new ClusterNode({
      store,
      scheduler,
      effects,
      clock,
      log,
      closing: () => this.#closing,
      // Another node committed some of it: admin pages here show it too.
      changed: (jobId) => this.#progress.changed(jobId),
      adminChanged: (what) => this.admin.changed(what),
      deviceDistrusted: (deviceId) => this.#standings.distrustedElsewhere(deviceId),
      rosterEntry: (volunteerId) => this.grids.entry(volunteerId),
    });
    this.tabs = new Tabs({
      registry,
      scheduler,
      effects,
      clock,
      log,
      closing: () => this.#closing,
      forward: (sender, results) => this.#cluster.forwarder.forward(sender, results),
      arrived: (deviceId) => this.#standings.arrived(deviceId),
    });
    this.#standings = new Standings({
      store,
      scheduler,
      log,
      tell: (event) => this.#cluster.feed.tell(event),
    });
    const tell = (what: AdminChange): void =>
      this.#cluster.feed.tell({ type: 'admin-changed', what });
    this.grids = new Grids({
      ...{ store, tabs: registry, scheduler, effects, clock, log },
      changed: () => tell('pause'),
      elsewhere: (volunteerId, grid) => this.#cluster.hasTab(volunteerId, grid),
      elsewhereIn: (grid) => this.#cluster.rosterElsewhere(grid),
    });
    this.devices = new Devices({
      ...{ store, tabs: registry, scheduler, effects, clock },
      trust: options.scheduler?.trust ?? DEFAULT_SCHEDULER_OPTIONS.trust,
      clusterTabs: () => this.#cluster.clusterWorkers(),
      changed: () => tell('ban'),
    });
    this.admin = new AdminSync({ grids: this.grids, devices: this.devices, log, tell });
    this.timeline = new Timeline({
      store,
      scheduler,
      effects,
      requireJob: (jobId) => this.summary(jobId),
    });
    this.#expiryTimer = setInterval(() => this.#tick(), options.expiryTickMs ?? 250);
    this.#expiryTimer.unref();
  }

  /** Creates an engine, joins the cluster as a node and resumes every unfinished job. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.#cluster.join(
      options.node ?? {},
      (error) => engine.#halt(error),
      engine.#reachability,
    );
    await engine.#restore();
    engine.#cluster.claimer.pump();
    return engine;
  }

  /** Stops reacting to tabs leaving: a coordinator shutting down must not charge their tasks a drop. */
  beginShutdown(): void {
    this.#closing = true;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#reducer.close();
    clearInterval(this.#expiryTimer);
    this.#progress.stop();
    // A stopping node does not wait out an outage: results it could not commit were never
    // acknowledged, so their tabs send them again to whichever node takes their range. Before
    // the claimer's idle: a claim in progress waits on a commit too.
    this.#effects.giveUp();
    await this.#cluster.quiet();
    await this.#standings.idle();
    await this.#effects.drainLogged();
    // After the last commit, which the fence still let through: then the claims go back.
    await this.#cluster.leave();
  }

  // ---- jobs -------------------------------------------------------------------------------

  async submit(submitted: JobSpec): Promise<{ id: string; tasks: number; items: number }> {
    this.#effects.assertWorking();
    const spec = withBareFunctions(submitted);
    checkMapSource(spec.map);
    if (spec.reduce && checkMapSource(spec.reduce.fn, 'reduce.fn') !== 'function') {
      throw new CoordinatorError(
        'invalid_input',
        '[jobs]: reduce.fn must be a function expression such as "(acc, x) => acc + x"',
        { field: 'reduce.fn' },
      );
    }
    if (spec.grid !== undefined && !(await this.grids.has(spec.grid))) {
      throw new CoordinatorError(
        'invalid_input',
        `[jobs]: grid ${spec.grid} does not exist; create it with POST /api/grids first`,
        { field: 'grid' },
      );
    }
    const inputs = await resolveInputs(this.#store, spec.inputs);
    checkTaskSize(spec.chunkSize, inputs.itemBytes);
    const jobId = randomUUID();
    const { items } = inputs;
    const tasks = countTasks(items, spec.chunkSize);
    const now = this.#clock.now();
    // Durable first: no result may commit for a job the store does not have.
    await this.#store.createJob({ jobId, spec, status: 'queued', items, tasks, createdAt: now });
    const effects: Effect[] = [];
    this.#scheduler.addJob(jobId, spec, now, effects, inputs, true);
    await this.#effects.apply(effects);
    this.#cluster.claimer.pump();
    this.#cluster.feed.tell({ type: 'job-submitted', jobId });
    void this.#cluster.shared.checkFinished(jobId); // a job of no tasks is finished at once
    return { id: jobId, tasks, items };
  }

  async cancel(jobId: string): Promise<JobSummary> {
    this.#effects.assertWorking();
    const summary = await this.summary(jobId);
    if (isFinished(summary.status)) {
      throw new CoordinatorError('conflict', `[engine]: job ${jobId} is already ${summary.status}`);
    }
    const effects: Effect[] = [];
    this.#scheduler.cancelJob(jobId, this.#clock.now(), effects);
    await this.#effects.apply(effects);
    this.#cluster.feed.tell({ type: 'job-cancelled', jobId });
    return this.summary(jobId);
  }

  async summary(jobId: string): Promise<JobSummary> {
    const live = this.#scheduler.getJob(jobId);
    if (live && !live.shared) return liveSummary(live);
    const settling = this.#effects.settling(jobId);
    if (settling) return settling;
    const stored = await this.#store.getJob(jobId);
    if (!stored) throw new CoordinatorError('not_found', `[engine]: no job ${jobId}`);
    return this.#withLive(storedSummary(stored));
  }

  /** A shared job's counts are the store's (every node's commits); what is in flight is ours. */
  #withLive(summary: JobSummary): JobSummary {
    const live = this.#scheduler.getJob(summary.id);
    if (!live) return summary;
    return { ...summary, inFlight: live.inFlight };
  }

  /**
   * Newest first, at most `limit` (default 1000); `before` (a job id) starts after that job, so
   * the last id of one page asks for the next.
   */
  async list(page: { limit?: number; before?: string } = {}): Promise<JobSummary[]> {
    let beforeSeq: number | undefined;
    if (page.before !== undefined) {
      const cursor = await this.#store.getJob(page.before);
      if (!cursor) {
        throw new CoordinatorError('invalid_input', `[engine]: before: no job ${page.before}`, {
          field: 'before',
        });
      }
      beforeSeq = cursor.seq;
    }
    const stored = await this.#store.listJobs({
      ...(page.limit !== undefined ? { limit: page.limit } : {}),
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
    });
    return stored.map((job) => {
      const live = this.#scheduler.getJob(job.jobId);
      if (live && !live.shared) return liveSummary(live);
      return this.#effects.settling(job.jobId) ?? this.#withLive(storedSummary(job));
    });
  }

  /** The job as stored (its spec included), for results export. */
  async storedJob(jobId: string): Promise<StoredJob> {
    await this.#effects.drain();
    const stored = await this.#store.getJob(jobId);
    if (!stored) throw new CoordinatorError('not_found', `[engine]: no job ${jobId}`);
    return stored;
  }

  /**
   * The job's committed results from task `fromTask` on, in task order. Read after the group
   * commit drains, so an export sees every result its summary counted.
   */
  async *results(jobId: string, fromTask = 0): AsyncIterable<StoredTaskResult> {
    await this.#effects.drain();
    yield* this.#store.results(jobId, fromTask);
  }

  /** The outcomes of the job's first `limit` failed tasks, read after the group commit drains. */
  async failedTasks(jobId: string, limit: number): Promise<StoredTaskResult[]> {
    await this.#effects.drain();
    return this.#store.failedTasks(jobId, limit);
  }

  onProgress(listener: (summary: JobSummary) => void): () => void {
    return this.#progress.listen(listener);
  }

  /** The engine's clock, for every rule about time outside it (device-id allowances). */
  now(): number {
    return this.#clock.now();
  }

  get volunteerCount(): number {
    return this.tabs.size;
  }

  get volunteers() {
    return this.#scheduler.volunteers;
  }

  /** This node's tabs, as `GET /api/workers` lists them. */
  workers(): WorkerView[] {
    return this.#cluster.workers();
  }

  /** Where tabs reach the live nodes, this one first: a tab whose node is lost moves to another. */
  nodeUrls(): readonly string[] {
    return this.#cluster.urls;
  }

  /** Calls `listener` with the live nodes' URLs when a node joined or was lost. */
  onNodesChanged(listener: (urls: readonly string[]) => void): () => void {
    return this.#cluster.onUrlsChanged(listener);
  }

  /** Says where tabs reach this node, once it listens. */
  async announce(url: string): Promise<void> {
    await this.#cluster.announce(url);
  }

  /** Every live node's tabs (see `ClusterNode.clusterWorkers`). */
  clusterWorkers(): Promise<WorkerView[]> {
    return this.#cluster.clusterWorkers();
  }

  // ---- internals --------------------------------------------------------------------------

  /** The store failed a write: no more ticks (the applier already refuses work), then tell the owner. */
  #halt(error: unknown): void {
    clearInterval(this.#expiryTimer);
    this.#log.error({ err: error }, '[engine]: store write failed; taking no more work');
    // A node already stopping (close() gave up on an unreachable database) ends by itself.
    if (!this.#closing) this.#onFatal(error);
  }

  #startReduce(jobId: string): void {
    if (!this.#closing) this.#reducer.start(jobId);
  }

  async #restore(): Promise<void> {
    await this.devices.restore();
    await this.grids.restore();
    await this.#cluster.shared.takeUpAll();
    // Reduces a crash interrupted: finished jobs whose reduce never ran.
    for (const job of await this.#store.listJobs()) {
      if (isFinished(job.status) && job.spec.reduce && !job.reduced) this.#startReduce(job.jobId);
    }
  }

  /** The periodic tick: ends overdue copies, then starts backups where speculation says so. */
  #tick(): void {
    const now = this.#clock.now();
    const effects: Effect[] = [];
    const next = this.#scheduler.nextDeadline();
    if (next !== undefined && next <= now) this.#scheduler.expire(now, effects);
    this.#scheduler.speculate(now, effects);
    if (effects.length > 0) void this.#effects.applyLogged(effects);
    this.#cluster.tick(now);
  }
}
