/**
 * @module This coordinator as a node of the cluster (server/store/cluster.ts): it joins with a
 * fresh epoch, renews its heartbeat, declares silent nodes dead so their claims go back, and
 * leaves on a clean stop. A heartbeat the store refuses means this node was declared dead (it
 * was paused or cut off for too long): anything it would commit now is stale, so it stops.
 *
 * A heartbeat that fails because the database is away changes nothing: the node keeps beating.
 * When the database comes back after every node was cut off together, each one's heartbeat is
 * as old as the outage, so the first to beat would declare all the others dead. Hence a node
 * that itself failed to beat, or went longer than `silentMs` without a beat, declares no one
 * dead until it has beaten again for `silentMs`: the others have had that long to beat too,
 * and only one that did not is really silent.
 */
import type { Log } from '../log.ts';
import { throttledWarn, WARN_EVERY_MS } from '../log.ts';
import type { WorkerView } from '../../shared/workers.ts';
import type { ClusterStore, NodeRecord } from '../store/cluster.ts';
import type { StoreReachability } from './reachability.ts';

/** Longest a published tab list's counters (tasks held and done) may lag. */
const TABS_REFRESH_MS = 5_000;

export interface NodeLifeOptions {
  store: ClusterStore;
  log: Log;
  nodeId: string;
  url?: string;
  /** How often the heartbeat is renewed and silent nodes are looked for. */
  heartbeatMs: number;
  /** Silence after which a node is declared dead and its claims released. */
  silentMs: number;
  /**
   * No other node can share this store (SQLite): every node before this one is dead, so its
   * claims are released at once rather than after `silentMs`.
   */
  soleNode: boolean;
  /** Claims of dead nodes were released: hungry tabs may get their tasks. */
  released: () => void;
  /** This node was declared dead; it must stop. Called once. */
  fenced: () => void;
  /** Where tabs reach the live nodes changed (this node first); not called for the first read. */
  urlsChanged?: (urls: readonly string[]) => void;
  /** This node's tabs, published with each heartbeat for the cluster's list of workers. */
  tabs?: () => WorkerView[];
  /** Changes whenever a tab came or went, or changed its slots or grid. */
  tabsVersion?: () => number;
  /** Hears whether heartbeats reach the database. */
  reachability?: StoreReachability;
}

export class NodeLife {
  readonly #options: NodeLifeOptions;
  readonly #record: NodeRecord;
  readonly #timer: NodeJS.Timeout;
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  #beating = false;
  #stopped = false;
  /** Which tabs (and their slots and grids) were published last (`tabsVersion`), and when. */
  #publishedVersion: number | undefined;
  #publishedAtMs = -Infinity;
  /** Where tabs reach the live nodes, as of the last heartbeat (tabs move there if theirs is lost). */
  #urls: string[] = [];
  #urlsRead = false;
  /** performance.now() of the last heartbeat the store took. */
  #beatAtMs = performance.now();
  /** A heartbeat failed since the last one that did not. */
  #missed = false;
  /** performance.now() before which this node declares no other dead (see the module note). */
  #reapFromMs = 0;

  private constructor(options: NodeLifeOptions, record: NodeRecord) {
    this.#options = options;
    this.#record = record;
    this.#warn = throttledWarn(options.log, WARN_EVERY_MS, 'times');
    this.#timer = setInterval(() => void this.#beat(), options.heartbeatMs);
    this.#timer.unref();
  }

  static async join(options: NodeLifeOptions): Promise<NodeLife> {
    const { store } = options;
    if (options.soleNode) {
      for (const node of await store.liveNodes()) await store.leaveCluster(node.epoch);
    }
    const record = await store.joinCluster({
      nodeId: options.nodeId,
      ...(options.url !== undefined ? { url: options.url } : {}),
    });
    options.log.info({ nodeId: record.nodeId, epoch: record.epoch }, '[cluster]: joined');
    const life = new NodeLife(options, record);
    await life.#readUrls();
    return life;
  }

  get epoch(): number {
    return this.#record.epoch;
  }

  get nodeId(): string {
    return this.#record.nodeId;
  }

  /** Where tabs reach the live nodes (those that said), this one first. */
  get urls(): readonly string[] {
    return this.#urls;
  }

  /** Says where tabs reach this node, once it listens. */
  async announce(url: string): Promise<void> {
    this.#record.url = url;
    await this.#options.store.announceUrl(this.epoch, url);
    await this.#readUrls();
  }

  /**
   * Publishes this node's tabs when a tab came, went or changed its slots or grid, and otherwise
   * (for their counters) at most every `TABS_REFRESH_MS`: rewriting 17,000 tabs' JSON every
   * heartbeat cost each node 2-3 MB of writes a second, and listing them to compare, CPU.
   */
  async #publishTabs(): Promise<void> {
    if (!this.#options.tabs) return;
    const version = this.#options.tabsVersion?.();
    const now = performance.now();
    const unchanged = version !== undefined && version === this.#publishedVersion;
    if (unchanged && now - this.#publishedAtMs < TABS_REFRESH_MS) return;
    await this.#options.store.publishTabs(this.epoch, this.#options.tabs());
    this.#publishedVersion = version;
    this.#publishedAtMs = now;
  }

  async #readUrls(): Promise<void> {
    const own = this.#record.url;
    const others = (await this.#options.store.liveNodes())
      .map((node) => node.url)
      .filter((url): url is string => url !== undefined && url !== own);
    const urls = [...new Set(own === undefined ? others : [own, ...others])];
    const changed = urls.join(' ') !== this.#urls.join(' ');
    const first = !this.#urlsRead;
    this.#urls = urls;
    this.#urlsRead = true;
    if (changed && !first) this.#options.urlsChanged?.(urls);
  }

  /** Leaves the cluster: this node's claims are released at once for the others. */
  async leave(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#options.store.leaveCluster(this.epoch);
  }

  /** Stops the heartbeat without leaving (the node is fenced, or its process is ending hard). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#stopped) return;
    this.#beating = true;
    try {
      if (await this.#renew()) await this.#lookAround();
    } finally {
      this.#beating = false;
    }
  }

  /** Renews the heartbeat; false if it failed or this node was declared dead (and so stopped). */
  async #renew(): Promise<boolean> {
    const { store, log } = this.#options;
    let live: boolean;
    try {
      live = await store.heartbeat(this.epoch);
    } catch (error) {
      // Claims stay this node's until others declare it dead, and the fence on every commit
      // keeps whatever it does meanwhile from counting twice.
      this.#missed = true;
      if (!this.#options.reachability?.failed(error)) {
        this.#warn({ err: error }, '[cluster]: heartbeat failed');
      }
      return false;
    }
    if (!live) {
      if (this.#stopped) return false;
      this.stop();
      log.error(
        { epoch: this.epoch },
        '[cluster]: this node was declared dead (silent too long); stopping so nothing stale commits',
      );
      this.#options.fenced();
      return false;
    }
    this.#options.reachability?.succeeded();
    this.#beaten();
    return true;
  }

  /**
   * After a heartbeat: publishes this node's tabs, declares silent nodes dead and reads where
   * the live ones listen. A failure here is not a missed beat; the next beat tries again.
   */
  async #lookAround(): Promise<void> {
    const { store, log } = this.#options;
    try {
      await this.#publishTabs();
      if (performance.now() >= this.#reapFromMs) {
        const dead = await store.reapNodes(this.#options.silentMs);
        if (dead.length > 0) {
          log.warn({ epochs: dead }, '[cluster]: silent nodes declared dead; their tasks go back');
          this.#options.released();
        }
      }
      await this.#readUrls();
    } catch (error) {
      if (!this.#options.reachability?.failed(error)) {
        this.#warn({ err: error }, '[cluster]: looking for silent nodes failed');
      }
    }
  }

  /** Notes a heartbeat the store took, and whether this node was cut off before it. */
  #beaten(): void {
    const now = performance.now();
    const { silentMs } = this.#options;
    if (this.#missed || now - this.#beatAtMs > silentMs) this.#reapFromMs = now + silentMs;
    this.#missed = false;
    this.#beatAtMs = now;
  }
}
