/**
 * @module The engine applies the scheduler's decisions: it persists state changes through the
 * group commit, sends dispatches and cancels to tabs through their links, and publishes job
 * progress. HTTP routes and socket handlers call it; it never parses wire input (they validate)
 * and never decides (the scheduler does).
 */
import { randomUUID } from 'node:crypto';
import type { DeviceView } from '../../shared/devices.ts';
import type { JobSpec, JobSummary, RosterEntry } from '../../shared/job.ts';
import { isFinished } from '../../shared/job.ts';
import type { CheckpointReport, ProgressBatch, TaskResult } from '../../shared/protocol.ts';
import type { TaskTimeline } from '../../shared/timeline.ts';
import { checkTaskSize, resolveInputs } from '../jobs/uploads.ts';
import { CoordinatorError } from '../errors.ts';
import { checkMapSource } from '../jobs/map-source.ts';
import type { Log } from '../log.ts';
import {
  Scheduler,
  type Effect,
  type ReportVerdict,
  type SchedulerOptions,
} from '../scheduling/scheduler.ts';
import { runReduce } from '../jobs/reduce.ts';
import { countTasks, taskSpan } from '../scheduling/sharder.ts';
import type { JobStore, StoreChange, StoredGrid, StoredJob } from '../store/store.ts';
import { GroupCommit } from './group-commit.ts';
import { byContribution, goneEntry, liveEntry, newGridCode } from './roster.ts';
import { copyView, liveSummary, storedSummary } from './summaries.ts';
import { TabRegistry, type VolunteerLink } from './tab-registry.ts';

/** How long a single tab's pause is kept for a tab that has not come back since. */
const TAB_PAUSE_KEEP_MS = 24 * 60 * 60_000;

export interface Clock {
  now(): number;
}

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
   * Called when the store fails a write. Memory is then ahead of the durable record (a task
   * settled in memory but not on disk would be dropped as a duplicate when its tab resends it),
   * so the default stops the process: a restart rebuilds memory from the store, and the tabs
   * resend what was not acknowledged.
   */
  onStoreFailure?: (error: unknown) => void;
}

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

type ProgressListener = (summary: JobSummary) => void;

export class Engine {
  readonly #store: JobStore;
  readonly #log: Log;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #commit: GroupCommit;
  readonly #tabs = new TabRegistry();
  readonly #observe: EngineObserver;
  readonly #reduceTimeLimitMs: number;
  readonly #onStoreFailure: (error: unknown) => void;
  /** Reduces running, so they are not started twice and `close` can wait for them. */
  readonly #reducing = new Map<string, Promise<void>>();
  /** Final summaries of jobs that just left the scheduler, until their last change is durable. */
  readonly #settling = new Map<string, JobSummary>();
  readonly #listeners = new Set<ProgressListener>();
  readonly #dirtyJobs = new Set<string>();
  #closing = false;
  readonly #expiryTimer: NodeJS.Timeout;
  readonly #progressTimer: NodeJS.Timeout;
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

  private constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#scheduler = new Scheduler(options.scheduler);
    this.#observe = options.observe ?? {};
    this.#reduceTimeLimitMs = options.reduceTimeLimitMs ?? 60_000;
    this.#onStoreFailure =
      options.onStoreFailure ??
      ((error: unknown) => {
        this.#log.fatal(
          { err: error },
          '[engine]: store write failed; stopping so a restart rebuilds from the store',
        );
        process.exit(1);
      });
    this.#commit = new GroupCommit(options.store, (changes, ms) =>
      this.#observe.commit?.(changes, ms),
    );
    this.#expiryTimer = setInterval(() => this.#tick(), options.expiryTickMs ?? 250);
    this.#progressTimer = setInterval(
      () => this.#publishProgress(),
      options.progressIntervalMs ?? 200,
    );
    this.#expiryTimer.unref();
    this.#progressTimer.unref();
  }

  /** Creates an engine and resumes every unfinished job in the store. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.#restore();
    return engine;
  }

  /** Stops reacting to tabs leaving: a coordinator shutting down must not charge their tasks a drop. */
  beginShutdown(): void {
    this.#closing = true;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled(this.#reducing.values());
    clearInterval(this.#expiryTimer);
    clearInterval(this.#progressTimer);
    await this.#commit.drain();
  }

  // ---- jobs -------------------------------------------------------------------------------

  async submit(spec: JobSpec): Promise<{ id: string; tasks: number; items: number }> {
    checkMapSource(spec.map);
    if (spec.reduce && checkMapSource(spec.reduce.fn, 'reduce.fn') !== 'function') {
      throw new CoordinatorError(
        'invalid_input',
        '[jobs]: reduce.fn must be a function expression such as "(acc, x) => acc + x"',
        { field: 'reduce.fn' },
      );
    }
    if (spec.grid !== undefined && !(await this.#store.getGrid(spec.grid))) {
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
    this.#scheduler.addJob(jobId, spec, now, effects, inputs);
    await this.#apply(effects);
    this.#log.info({ jobId, items, tasks, grid: spec.grid }, '[engine]: job submitted');
    return { id: jobId, tasks, items };
  }

  async cancel(jobId: string): Promise<JobSummary> {
    const summary = await this.summary(jobId);
    if (isFinished(summary.status)) {
      throw new CoordinatorError('conflict', `[engine]: job ${jobId} is already ${summary.status}`);
    }
    const effects: Effect[] = [];
    this.#scheduler.cancelJob(jobId, this.#clock.now(), effects);
    await this.#apply(effects);
    return this.summary(jobId);
  }

  async summary(jobId: string): Promise<JobSummary> {
    const live = this.#scheduler.getJob(jobId);
    if (live) return liveSummary(live);
    const settling = this.#settling.get(jobId);
    if (settling) return settling;
    const stored = await this.#store.getJob(jobId);
    if (!stored) throw new CoordinatorError('not_found', `[engine]: no job ${jobId}`);
    return storedSummary(stored);
  }

  async list(): Promise<JobSummary[]> {
    const stored = await this.#store.listJobs();
    return stored.map((job) => {
      const live = this.#scheduler.getJob(job.jobId);
      if (live) return liveSummary(live);
      return this.#settling.get(job.jobId) ?? storedSummary(job);
    });
  }

  /** The job as stored (its spec included), for results export. */
  async storedJob(jobId: string): Promise<StoredJob> {
    await this.#commit.drain();
    const stored = await this.#store.getJob(jobId);
    if (!stored) throw new CoordinatorError('not_found', `[engine]: no job ${jobId}`);
    return stored;
  }

  get store(): JobStore {
    return this.#store;
  }

  onProgress(listener: ProgressListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- tabs -------------------------------------------------------------------------------

  connect(
    hello: {
      volunteerId: string;
      deviceId: string;
      /** The connection's remote address, for jobs that count distinct addresses. */
      address?: string;
      slots: number;
      grid?: string;
      userAgent?: string;
    },
    link: VolunteerLink,
  ): void {
    const now = this.#clock.now();
    this.#tabs.register(
      {
        volunteerId: hello.volunteerId,
        deviceId: hello.deviceId,
        ...(hello.grid !== undefined ? { grid: hello.grid } : {}),
        ...(hello.userAgent !== undefined ? { userAgent: hello.userAgent } : {}),
        requestedSlots: hello.slots,
        connectedAt: now,
        lastSeen: now,
      },
      link,
    );
    // A tab an admin paused stays paused across reconnects and reloads.
    const paused = this.#tabs.isPaused(hello.volunteerId);
    if (paused) link.control({ paused: true, reason: 'paused by the grid admin' });
    const effects: Effect[] = [];
    this.#scheduler.connect(
      { ...hello, slots: this.#tabs.effectiveSlots(hello.volunteerId) },
      now,
      effects,
    );
    void this.#applyLogged(effects);
  }

  /** Whether a live connection already speaks for this tab id. */
  isConnected(volunteerId: string): boolean {
    return this.#tabs.has(volunteerId);
  }

  /** A link closed. Ignored when a newer link has taken the tab id over (a reload raced its own close). */
  disconnect(volunteerId: string, link: VolunteerLink): void {
    const now = this.#clock.now();
    const volunteer = this.#scheduler.getVolunteer(volunteerId);
    const done = { tasksDone: volunteer?.tasksDone ?? 0, cpuMs: volunteer?.cpuMs ?? 0 };
    if (!this.#tabs.unregister(volunteerId, link, now, done)) return;
    if (this.#closing) return;
    const effects: Effect[] = [];
    this.#scheduler.disconnect(volunteerId, now, effects);
    void this.#applyLogged(effects);
  }

  /** The tab's own request (its volunteer's pause, or a change of cores). */
  setSlots(volunteerId: string, slots: number): void {
    const info = this.#tabs.info(volunteerId);
    if (info) info.requestedSlots = slots;
    const effects: Effect[] = [];
    this.#scheduler.setSlots(
      volunteerId,
      this.#tabs.effectiveSlots(volunteerId),
      this.#clock.now(),
      effects,
    );
    void this.#applyLogged(effects);
  }

  /** A paused tab hands back what it held; those copies go to other tabs. */
  release(volunteerId: string, leaseIds: readonly string[]): void {
    const effects: Effect[] = [];
    this.#scheduler.release(volunteerId, leaseIds, this.#clock.now(), effects);
    void this.#applyLogged(effects);
  }

  // ---- devices ----------------------------------------------------------------------------

  isBanned(deviceId: string): boolean {
    return this.#scheduler.isBanned(deviceId);
  }

  /** The engine's clock, for every rule about time outside it (device-id allowances). */
  now(): number {
    return this.#clock.now();
  }

  /** Trust and ban state of every device seen since the start, with its live tabs. */
  devices(): DeviceView[] {
    const tabs = new Map<string, number>();
    for (const volunteer of this.#scheduler.volunteers) {
      tabs.set(volunteer.deviceId, (tabs.get(volunteer.deviceId) ?? 0) + 1);
    }
    const known = new Map(this.#scheduler.devices.map((device) => [device.deviceId, device]));
    for (const deviceId of tabs.keys()) {
      if (!known.has(deviceId)) {
        known.set(deviceId, {
          deviceId,
          streak: 0,
          trusted: false,
          disagreements: 0,
          banned: false,
        });
      }
    }
    return [...known.values()].map((device) => ({
      ...device,
      tabs: tabs.get(device.deviceId) ?? 0,
    }));
  }

  /** Bans a device for good (kept in the store): its tabs are closed and refused from now on. */
  async ban(deviceId: string): Promise<void> {
    await this.#store.banDevice(deviceId, this.#clock.now());
    const effects: Effect[] = [];
    const links = [...this.#scheduler.volunteers]
      .filter((volunteer) => volunteer.deviceId === deviceId)
      .map((volunteer) => this.#tabs.link(volunteer.volunteerId));
    this.#scheduler.ban(deviceId, this.#clock.now(), effects);
    await this.#apply(effects);
    for (const link of links) link?.close("banned by the coordinator's admin");
  }

  async unban(deviceId: string): Promise<void> {
    await this.#store.unbanDevice(deviceId);
    if (!this.#scheduler.unban(deviceId)) {
      throw new CoordinatorError('not_found', `[devices]: device ${deviceId} is not banned`);
    }
  }

  // ---- grids ------------------------------------------------------------------------------

  async createGrid(name: string): Promise<StoredGrid> {
    for (let attempt = 0; ; attempt++) {
      const grid: StoredGrid = { code: newGridCode(), name, createdAt: this.#clock.now() };
      try {
        await this.#store.createGrid(grid);
        return grid;
      } catch (error) {
        if (!(error instanceof CoordinatorError && error.code === 'conflict') || attempt >= 5)
          throw error;
      }
    }
  }

  async hasGrid(code: string): Promise<boolean> {
    return (await this.#store.getGrid(code)) !== undefined;
  }

  async listGrids(): Promise<StoredGrid[]> {
    return this.#store.listGrids();
  }

  async grid(code: string): Promise<StoredGrid> {
    const grid = await this.#store.getGrid(code);
    if (!grid) throw new CoordinatorError('not_found', `[grids]: no grid ${code}`);
    return grid;
  }

  /** The grid's tabs, live and recently gone, with what each has done, biggest contributor first. */
  roster(code: string): { paused: boolean; devices: RosterEntry[] } {
    const now = this.#clock.now();
    const live = this.#tabs
      .inGrid(code)
      .map((info) =>
        liveEntry(
          info,
          this.#scheduler.getVolunteer(info.volunteerId),
          this.#tabs.isPaused(info.volunteerId),
          now,
        ),
      );
    const gone = this.#tabs.departedFrom(code, now).map(goneEntry);
    return { paused: this.#tabs.isGridPaused(code), devices: byContribution([...live, ...gone]) };
  }

  /**
   * Pauses or resumes a grid's tabs (one, or all). A paused tab is told at once, stops taking
   * work and hands back what it holds; the coordinator gives it no slots until resumed, across
   * reconnects too.
   */
  setPaused(target: { grid: string; volunteerId?: string }, paused: boolean): number {
    const now = this.#clock.now();
    const effects: Effect[] = [];
    const touched = this.#tabs.setPaused(target, paused);
    if (!touched) {
      throw new CoordinatorError(
        'not_found',
        `[grids]: no live tab ${target.volunteerId ?? ''} in grid ${target.grid}`,
        { field: 'volunteerId' },
      );
    }
    // A paused room, or tab, stays paused across a coordinator restart.
    const { grid, volunteerId } = target;
    const recorded =
      volunteerId === undefined
        ? this.#store.setGridPaused(grid, paused)
        : this.#store.setTabPaused({ volunteerId, grid, pausedAt: now }, paused);
    void recorded.catch((error: unknown) =>
      this.#log.error({ err: error }, '[engine]: could not record a pause'),
    );
    for (const volunteerId of touched) {
      const effective = this.#tabs.isPaused(volunteerId);
      this.#tabs.link(volunteerId)?.control({
        paused: effective,
        ...(effective ? { reason: 'paused by the grid admin' } : {}),
      });
      this.#scheduler.setSlots(volunteerId, this.#tabs.effectiveSlots(volunteerId), now, effects);
    }
    void this.#applyLogged(effects);
    return touched.length;
  }

  /**
   * Takes a batch of finished copies; resolves, once every commit among them is durable, with the
   * leases the tab may forget and those refused (another tab's lease).
   */
  async report(
    volunteerId: string,
    results: readonly TaskResult[],
  ): Promise<{ leaseIds: string[]; refused: string[] }> {
    const effects: Effect[] = [];
    const forget: string[] = [];
    const refused: string[] = [];
    const now = this.#clock.now();
    const verdicts = this.#scheduler.report(volunteerId, results, now, effects);
    verdicts.forEach((verdict: ReportVerdict, i) => {
      const { leaseId } = results[i] as TaskResult;
      if (verdict === 'foreign-lease') {
        this.#log.warn(
          { volunteerId, leaseId },
          '[engine]: result for a lease held by another tab refused',
        );
        refused.push(leaseId);
        return;
      }
      if (verdict === 'duplicate' || verdict === 'unknown-job') this.counters.duplicates++;
      forget.push(leaseId);
    });
    await this.#apply(effects);
    return { leaseIds: forget, refused };
  }

  progress(volunteerId: string, updates: ProgressBatch['updates']): void {
    this.#scheduler.progress(volunteerId, updates, this.#clock.now());
  }

  checkpoint(volunteerId: string, report: CheckpointReport): boolean {
    const effects: Effect[] = [];
    const accepted = this.#scheduler.checkpoint(volunteerId, report, this.#clock.now(), effects);
    void this.#applyLogged(effects);
    return accepted;
  }

  /**
   * The copies of tasks `[fromTask, fromTask + tasks)`: dispatch, tab, start, progress, end, and
   * whether each won. Ended copies come from the store, live ones from memory.
   */
  async timeline(jobId: string, fromTask: number, tasks: number): Promise<TaskTimeline[]> {
    await this.summary(jobId);
    await this.#commit.drain();
    const rows = new Map<number, TaskTimeline>();
    const row = (taskIndex: number): TaskTimeline => {
      let entry = rows.get(taskIndex);
      if (!entry) rows.set(taskIndex, (entry = { taskIndex, copies: [] }));
      return entry;
    };
    for (const copy of await this.#store.copies(jobId, { fromTask, tasks })) {
      const { jobId: _job, taskIndex, ...rest } = copy;
      row(taskIndex).copies.push(rest);
    }
    for (const lease of this.#scheduler.liveCopies(jobId)) {
      if (lease.taskIndex < fromTask || lease.taskIndex >= fromTask + tasks) continue;
      row(lease.taskIndex).copies.push({ ...copyView(lease), won: false });
    }
    return [...rows.values()].sort((a, b) => a.taskIndex - b.taskIndex);
  }

  get volunteerCount(): number {
    return this.#tabs.size;
  }

  get volunteers() {
    return this.#scheduler.volunteers;
  }

  // ---- internals --------------------------------------------------------------------------

  /** Runs a finished job's reduce once (durable first: it reads the committed results). */
  #startReduce(jobId: string): void {
    if (this.#reducing.has(jobId) || this.#closing) return;
    const run = (async () => {
      const job = await this.#store.getJob(jobId);
      if (!job?.spec.reduce || job.reduced) return;
      const outcome =
        job.status === 'cancelled'
          ? { error: 'reduce skipped: the job was cancelled' }
          : await runReduce(
              this.#store.results(jobId),
              (taskIndex) => taskSpan(job.items, job.spec.chunkSize, taskIndex).start,
              {
                source: job.spec.reduce.fn,
                initial: job.spec.reduce.initial,
                timeLimitMs: this.#reduceTimeLimitMs,
              },
            );
      await this.#store.setReduced(jobId, outcome);
      this.#dirtyJobs.add(jobId);
    })()
      .catch((error: unknown) => this.#log.error({ err: error, jobId }, '[engine]: reduce failed'))
      .finally(() => this.#reducing.delete(jobId));
    this.#reducing.set(jobId, run);
  }

  async #restore(): Promise<void> {
    const now = this.#clock.now();
    const effects: Effect[] = [];
    for (const deviceId of await this.#store.bannedDevices())
      this.#scheduler.ban(deviceId, now, []);
    for (const grid of await this.#store.listGrids()) {
      if (grid.paused) this.#tabs.setPaused({ grid: grid.code }, true);
    }
    for (const tab of await this.#store.pausedTabs()) {
      // A tab paused so long ago is not coming back (a reloaded one keeps its id for the session).
      if (now - tab.pausedAt > TAB_PAUSE_KEEP_MS) await this.#store.setTabPaused(tab, false);
      else this.#tabs.restorePaused(tab.volunteerId);
    }
    for (const job of await this.#store.unfinishedJobs()) {
      const inputs = await resolveInputs(this.#store, job.spec.inputs).catch((error: unknown) => {
        this.#log.error({ jobId: job.jobId, err: error }, '[engine]: job inputs are gone');
      });
      if (!inputs) {
        await this.#store.apply([{ type: 'job', jobId: job.jobId, status: 'failed', at: now }]);
        continue;
      }
      this.#scheduler.restoreJob(
        {
          jobId: job.jobId,
          seq: job.seq,
          spec: job.spec,
          status: job.status,
          createdAt: job.createdAt,
          startedAt: job.startedAt,
          settled: await this.#store.settledTasks(job.jobId),
          attempts: await this.#store.taskAttempts(job.jobId),
          checkpoints: await this.#store.checkpoints(job.jobId),
          inputs,
        },
        now,
        effects,
      );
      this.#log.info({ jobId: job.jobId }, '[engine]: resumed job from the store');
    }
    await this.#apply(effects);
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
    if (effects.length > 0) void this.#applyLogged(effects);
  }

  #applyLogged(effects: Effect[]): Promise<void> {
    // A failed write has already been handled by #onStoreFailure.
    return this.#apply(effects).catch(() => undefined);
  }

  /** Sends messages at once and resolves when the state changes among `effects` are durable. */
  #apply(effects: readonly Effect[]): Promise<void> {
    const changes: StoreChange[] = [];
    const finished: JobSummary[] = [];
    for (const effect of effects) {
      switch (effect.type) {
        case 'dispatch':
          this.counters.dispatched += effect.tasks.length;
          this.#tabs.link(effect.volunteerId)?.assign({ jobs: effect.jobs, tasks: effect.tasks });
          break;
        case 'cancel':
          this.#tabs
            .link(effect.volunteerId)
            ?.cancel({ leaseIds: effect.leaseIds, reason: effect.reason });
          break;
        case 'settle':
          if (effect.status === 'committed') this.counters.committed++;
          else this.counters.failedTasks++;
          changes.push({ ...effect, at: this.#clock.now() });
          this.#dirtyJobs.add(effect.jobId);
          break;
        case 'attempt':
          changes.push(effect);
          break;
        case 'job': {
          changes.push({ type: 'job', jobId: effect.jobId, status: effect.status, at: effect.at });
          this.#dirtyJobs.add(effect.jobId);
          if (isFinished(effect.status)) finished.push(liveSummary(effect.job));
          break;
        }
        case 'copy-ended': {
          const { lease } = effect;
          if (effect.end === 'expired') this.counters.expired++;
          if (effect.end === 'dropped') this.counters.dropped++;
          if (lease.kind === 'backup') this.counters.backups++;
          if (lease.kind === 'backup' && effect.won) this.counters.backupsWon++;
          if (effect.won) this.#observe.taskLatency?.(effect.at - lease.dispatchedAt);
          changes.push({
            type: 'copy',
            jobId: lease.jobId,
            taskIndex: lease.taskIndex,
            ...copyView(lease),
            endedAt: effect.at,
            end: effect.end,
            won: effect.won,
          });
          break;
        }
        case 'checkpoint':
          changes.push(effect);
          break;
        case 'distrust':
          this.counters.distrusted++;
          this.#log.warn(
            { deviceId: effect.deviceId, banned: effect.banned },
            effect.banned
              ? '[engine]: device banned; its uncommitted results were discarded'
              : '[engine]: device disagreed with its peers and lost its trust; its uncommitted results were discarded',
          );
          break;
      }
    }
    for (const summary of finished) this.#settling.set(summary.id, summary);
    if (changes.length === 0) return Promise.resolve();
    const durable = this.#commit.commit(changes).catch((error: unknown) => {
      this.#onStoreFailure(error);
      throw error;
    });
    return durable.finally(() => {
      for (const summary of finished) {
        this.#settling.delete(summary.id);
        this.#startReduce(summary.id);
      }
    });
  }

  #publishProgress(): void {
    if (this.#dirtyJobs.size === 0) return;
    const jobIds = [...this.#dirtyJobs];
    this.#dirtyJobs.clear();
    for (const jobId of jobIds) {
      void this.summary(jobId).then(
        (summary) => {
          for (const listener of this.#listeners) listener(summary);
        },
        () => undefined,
      );
    }
  }
}
