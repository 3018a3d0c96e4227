/**
 * @module The engine's side of sharing a database with other coordinators: its life as a node
 * (node-life.ts), the ranges it claims (claimer.ts), the backups it runs of other nodes' last
 * tasks (borrower.ts), the jobs it takes up (shared-jobs.ts), the results it forwards and takes
 * (forwarder.ts) and the events that tie them (cluster-feed.ts).
 * On SQLite the same parts run with one node.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinatorError } from '../errors.ts';
import type { Log } from '../log.ts';
import type { Scheduler } from '../scheduling/scheduler.ts';
import type { Fence } from '../store/cluster.ts';
import type { JobStore } from '../store/store.ts';
import type { RosterEntry } from '../../shared/job.ts';
import type { WorkerView } from '../../shared/workers.ts';
import { Borrower } from './borrower.ts';
import { Claimer } from './claimer.ts';
import type { Clock } from './clock.ts';
import { ClusterFeed, type AdminChange } from './cluster-feed.ts';
import type { EffectApplier } from './effects.ts';
import { Forwarder } from './forwarder.ts';
import { NodeLife, type NodeLifeOptions } from './node-life.ts';
import type { StoreReachability } from './reachability.ts';
import { SharedJobs } from './shared-jobs.ts';

/** Heartbeat period and the silence after which a node is declared dead. */
const HEARTBEAT_MS = 1_000;
const SILENT_MS = 5_000;
/** How often the store is asked for forwarded results, in case an event about one was lost. */
const FORWARD_SWEEP_MS = 2_000;

export type NodeOptions = Partial<
  Pick<NodeLifeOptions, 'nodeId' | 'url' | 'heartbeatMs' | 'silentMs' | 'soleNode'>
>;

export interface ClusterNodeDeps {
  store: JobStore;
  scheduler: Scheduler;
  effects: EffectApplier;
  clock: Clock;
  log: Log;
  closing(): boolean;
  /** A job changed on another node: admin pages here show it too. */
  changed(jobId: string): void;
  /** A grid tab of this node as its grid's roster shows it, published with the node's tabs. */
  rosterEntry?(volunteerId: string): RosterEntry | undefined;
  /** An admin's change on another node (or, after a lost connection, maybe any): re-read it. */
  adminChanged(what: AdminChange): void;
  /** A device was caught disagreeing (without an id: events were missed, maybe any). */
  deviceDistrusted(deviceId?: string): void;
}

export class ClusterNode {
  readonly claimer: Claimer;
  readonly borrower: Borrower;
  readonly shared: SharedJobs;
  readonly forwarder: Forwarder;
  readonly feed: ClusterFeed;
  readonly #deps: ClusterNodeDeps;
  readonly #urlListeners = new Set<(urls: readonly string[]) => void>();
  #life: NodeLife | undefined;
  #forwardSweepAt = 0;

  constructor(deps: ClusterNodeDeps) {
    this.#deps = deps;
    const { store, scheduler, effects, clock, log } = deps;
    const epoch = (): number => this.#life?.epoch ?? 0;
    this.claimer = new Claimer({
      store,
      scheduler,
      effects,
      clock,
      log,
      epoch,
      claimed: () => this.forwarder.take(),
    });
    this.borrower = new Borrower({ store, scheduler, effects, clock, log, epoch });
    this.forwarder = new Forwarder({
      store,
      scheduler,
      effects,
      clock,
      log,
      epoch,
      tell: (event) => this.feed.tell(event),
    });
    this.shared = new SharedJobs({
      store,
      scheduler,
      effects,
      claimer: this.claimer,
      clock,
      log,
      closing: deps.closing,
    });
    this.feed = new ClusterFeed(store.events, log, {
      submitted: (jobId) => void this.shared.submitted(jobId),
      // Another node committed some of it: it may be finished.
      changed: (jobId) => {
        deps.changed(jobId);
        void this.shared.checkFinished(jobId);
      },
      cancelled: (jobId) => void this.shared.cancelled(jobId),
      released: (jobId) => {
        this.borrower.released();
        this.claimer.released(jobId === undefined ? scheduler.jobIds() : [jobId]);
      },
      forwarded: () => this.forwarder.take(),
      adminChanged: (what) => deps.adminChanged(what),
      distrusted: (deviceId) => deps.deviceDistrusted(deviceId),
      resumed: () => {
        void this.shared.resync();
        this.forwarder.take();
        for (const what of ['pause', 'ban', 'token'] as const) deps.adminChanged(what);
        deps.deviceDistrusted();
      },
    });
  }

  /** Joins the cluster; `fenced` is called once if the other nodes declare this one dead. */
  async join(
    options: NodeOptions,
    fenced: (error: CoordinatorError) => void,
    reachability?: StoreReachability,
  ): Promise<void> {
    const { store, log, scheduler } = this.#deps;
    this.#life = await NodeLife.join({
      store,
      log,
      // Host and process for people; a random part so two nodes in one process stay apart.
      nodeId: options.nodeId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      ...(options.url !== undefined ? { url: options.url } : {}),
      heartbeatMs: options.heartbeatMs ?? HEARTBEAT_MS,
      silentMs: options.silentMs ?? SILENT_MS,
      soleNode: options.soleNode ?? false,
      tabs: () => this.workers(),
      tabsVersion: () => scheduler.tabsVersion,
      urlsChanged: (urls) => {
        for (const listener of this.#urlListeners) listener(urls);
      },
      ...(reachability ? { reachability } : {}),
      released: () => {
        this.borrower.released();
        this.claimer.released(scheduler.jobIds());
        this.feed.tell({ type: 'claims-released' });
      },
      fenced: () =>
        fenced(new CoordinatorError('fenced', '[cluster]: this node was declared dead; stopping')),
    });
  }

  /** Every batch's fence, once joined. */
  fence(): Fence | undefined {
    return this.#life ? { epoch: this.#life.epoch } : undefined;
  }

  get nodeId(): string | undefined {
    return this.#life?.nodeId;
  }

  /** Where tabs reach the live nodes, this one first. */
  get urls(): readonly string[] {
    return this.#life?.urls ?? [];
  }

  /** Calls `listener` when a node joined or was lost. Returns the unsubscribe. */
  onUrlsChanged(listener: (urls: readonly string[]) => void): () => void {
    this.#urlListeners.add(listener);
    return () => this.#urlListeners.delete(listener);
  }

  async announce(url: string): Promise<void> {
    await this.#life?.announce(url);
  }

  /** This node's tabs, as `GET /api/workers` lists them. */
  workers(): WorkerView[] {
    const node = this.nodeId;
    return [...this.#deps.scheduler.volunteers].map((volunteer) => ({
      volunteerId: volunteer.volunteerId,
      deviceId: volunteer.deviceId,
      ...(volunteer.grid !== undefined ? { grid: volunteer.grid } : {}),
      slots: volunteer.slots,
      holding: volunteer.leases.size,
      tasksDone: volunteer.tasksDone,
      ...(volunteer.ewmaTaskMs !== undefined ? { taskMs: volunteer.ewmaTaskMs } : {}),
      ...(node !== undefined ? { node } : {}),
      ...this.#rosterOf(volunteer.volunteerId, volunteer.grid),
    }));
  }

  #rosterOf(volunteerId: string, grid: string | undefined): { roster?: RosterEntry } {
    const roster = grid === undefined ? undefined : this.#deps.rosterEntry?.(volunteerId);
    return roster ? { roster } : {};
  }

  /** Live tabs of `grid` on the other nodes, as they last published them. */
  async rosterElsewhere(grid: string): Promise<RosterEntry[]> {
    const node = this.nodeId;
    const entries: RosterEntry[] = [];
    for (const tab of await this.#deps.store.clusterTabs()) {
      if (tab.node !== node && tab.grid === grid && tab.roster) entries.push(tab.roster);
    }
    return entries;
  }

  /**
   * Every live node's tabs: this node's as they are now, the others' as they last published them
   * (each heartbeat).
   */
  async clusterWorkers(): Promise<WorkerView[]> {
    const node = this.nodeId;
    const others = (await this.#deps.store.clusterTabs()).filter((tab) => tab.node !== node);
    return [...this.workers(), ...others];
  }

  /** Whether a live tab of another node is in `grid`, as that node last published its tabs. */
  async hasTab(volunteerId: string, grid: string): Promise<boolean> {
    const tabs = await this.#deps.store.clusterTabs();
    return tabs.some((tab) => tab.volunteerId === volunteerId && tab.grid === grid);
  }

  /** Tasks of these jobs settled and are durable: the store may count a job finished. */
  settled(jobIds: ReadonlySet<string>): void {
    for (const jobId of jobIds) {
      void this.shared.checkFinished(jobId);
      this.feed.changed(jobId);
    }
    this.claimer.pump();
  }

  /**
   * The engine's periodic tick: claims where tabs run low, backups of other nodes' last tasks
   * where tabs sit idle, and a sweep for forwarded results.
   */
  tick(now: number): void {
    this.claimer.pump();
    this.borrower.pump(now);
    if (now >= this.#forwardSweepAt) {
      this.#forwardSweepAt = now + FORWARD_SWEEP_MS;
      this.forwarder.take();
    }
  }

  /** Stops listening and lets claims and takes under way finish (before the last commit). */
  async quiet(): Promise<void> {
    this.feed.close();
    await this.claimer.idle();
    await this.borrower.idle();
    await this.forwarder.idle();
  }

  /** Leaves the cluster after the last commit: the claims go back to the others at once. */
  async leave(): Promise<void> {
    await this.#life
      ?.leave()
      .catch((error: unknown) =>
        this.#deps.log.warn({ err: error }, '[cluster]: could not leave cleanly'),
      );
  }
}
