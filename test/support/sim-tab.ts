/**
 * @module The one simulated volunteer tab for tests and benchmarks: a real socket.io-client
 * speaking the real protocol (hello with the device id the coordinator issued, assignments,
 * results with acks, progress, cancels, pause and release), running job code in-process instead
 * of in Web Workers. Options set what callers vary: the answer, the time a copy takes, how many
 * copies run at once, whether results wait in an outbox until acknowledged and go out again after
 * a reconnect, and chaos (stalls and drops) drawn from a seeded random. It imports only `shared/`
 * and socket.io-client, so benches run thousands of them in worker threads and child processes.
 */
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  nextNode,
  type Ack,
  type AssignBatch,
  type Assignment,
  type CancelBatch,
  type Control,
  type ResultAck,
  type ServerToVolunteerEvents,
  type TaskResult,
  type VolunteerToServerEvents,
  type Welcome,
} from '../../shared/protocol.ts';
import { answerFor, compileMap, type MapFunction, type SimAnswer } from './sim-answer.ts';
import { SimOutbox } from './sim-outbox.ts';
import { emptySimStats, type SimStats } from './sim-stats.ts';

export type { SimAnswer } from './sim-answer.ts';
export type { SimStats } from './sim-stats.ts';

export interface SimTabOptions {
  /** Slots announced in hello. Default 2. */
  slots?: number;
  /** The device id the first hello claims; like a real tab it then keeps the one it is issued. */
  deviceId?: string;
  tabId?: string;
  /** A grid join code. */
  grid?: string;
  /** Local address to connect from (any of 127.0.0.0/8), to test rules on remote addresses. */
  localAddress?: string;
  /** PEM certificates to trust for an https:// URL (a test's self-signed proxy). */
  ca?: string;
  /** Default 'honest'. */
  answer?: SimAnswer;
  /** Time each copy takes before its result, in ms. Default 0 (answered in the same turn). */
  taskMs?: number;
  /** Draws each copy's time from [taskMs / 2, taskMs * 3 / 2) with `random`. */
  jitter?: boolean;
  /** Copies run at once (a real tab runs `slots`). Default: every copy it holds. */
  concurrency?: number;
  /** Reports each copy as started (elapsedMs 0) when it starts, as a real tab's first report. */
  reportStart?: boolean;
  /** Reports progress on every copy it holds this often (with 'silent': a hoarder). */
  progressEveryMs?: number;
  /** Stops a running copy when it is cancelled; else its late result still goes out. */
  stopCancelled?: boolean;
  /**
   * Keeps each result until the coordinator acknowledges or refuses it, and sends everything
   * unacknowledged again after every hello, as the page's outbox does; `retryEveryMs` also offers
   * results an answer did not name again. Without it a result is sent once, or lost if the tab is
   * not connected when it finishes.
   */
  resend?: { ackTimeoutMs: number; retryEveryMs?: number };
  /** Results per `task:results` message (those finished in the same turn go together). Default 1. */
  resultsPerMessage?: number;
  /** After a lost connection, connects again after a random pause in [minMs, maxMs] and says hello. */
  reconnect?: { minMs: number; maxMs: number };
  /**
   * With `reconnect`: as the page does, when a reconnect fails the tab tries the next coordinator
   * its last welcome listed (several nodes on one database).
   */
  followNodes?: boolean;
  /** Chance a started copy hangs for good (without holding a worker). */
  stallChance?: number;
  /** Chance, after each finished copy, of losing the connection while it still holds copies. */
  dropChance?: number;
  /** Every random choice of this tab, in [0, 1). Default Math.random. */
  random?: () => number;
  /** Keeps every message received (`received`, `codes`, ...) for a test to read. Default true. */
  record?: boolean;
  helloTimeoutMs?: number;
}

type SimSocket = Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;

let counter = 0;

/** How long a tab that follows nodes waits for a coordinator's handshake before trying another. */
const FOLLOW_CONNECT_TIMEOUT_MS = 2_000;

export class SimTab {
  #socket: SimSocket;
  readonly options: Required<Pick<SimTabOptions, 'slots' | 'deviceId' | 'tabId'>> & SimTabOptions;
  readonly stats: SimStats = emptySimStats();
  /** With `record`: every assignment received, in order. */
  readonly received: Assignment[] = [];
  /** With `record`: job code messages received. */
  readonly codes: AssignBatch['jobs'] = [];
  /** With `record`: leases cancelled, `volunteer:control` messages, leases handed back. */
  readonly cancelled: string[] = [];
  readonly controls: Control[] = [];
  readonly released: string[] = [];
  /** With `record`: leases whose results the coordinator acknowledged. */
  readonly acked = new Set<string>();
  readonly #outbox: SimOutbox;
  readonly #maps = new Map<string, MapFunction>();
  /** Copies received and not yet answered, cancelled or released. */
  readonly #held = new Map<string, Assignment>();
  #queue: Assignment[] = [];
  readonly #running = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #random: () => number;
  readonly #startedAt = Date.now();
  #listeners: Array<() => void> = [];
  #progressTimer: ReturnType<typeof setInterval> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #registered = false;
  /** Bumped on every connect and disconnect, so a hello of an old connection registers nothing. */
  #generation = 0;
  #closed = false;
  #deviceId: string;
  /** The coordinator URLs the last welcome listed, and the one connected to now. */
  #nodes: string[] = [];
  #url: string;
  /** The last connection attempt failed: with `followNodes`, the next goes elsewhere. */
  #failedConnect = false;
  #welcome: Welcome | undefined;

  private constructor(url: string, options: SimTabOptions) {
    counter++;
    this.options = {
      slots: 2,
      deviceId: `sim-device-${counter}`,
      tabId: `sim-tab-${counter}`,
      ...options,
    };
    this.#deviceId = this.options.deviceId;
    this.#random = options.random ?? Math.random;
    this.#url = url;
    this.#socket = this.#open(url);
    this.#outbox = new SimOutbox({
      socket: () => this.#socket,
      stats: this.stats,
      registered: () => this.#registered,
      ...(options.resend ? { resend: options.resend } : {}),
      ...(options.resultsPerMessage ? { resultsPerMessage: options.resultsPerMessage } : {}),
      ...(options.record !== false ? { acked: this.acked } : {}),
      onAck: () => this.#notify(),
    });
    if (options.progressEveryMs) {
      this.#progressTimer = setInterval(() => this.#reportHeld(), options.progressEveryMs);
    }
  }

  /** A socket to `url`, not yet connected, with the tab's handlers. */
  #open(url: string): SimSocket {
    const socket: SimSocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      // A frozen node accepts the TCP connection and never answers: give up on it soon.
      ...(this.options.followNodes ? { timeout: FOLLOW_CONNECT_TIMEOUT_MS } : {}),
      // engine.io-client hands this to the ws client in Node.
      ...(this.options.localAddress ? ({ localAddress: this.options.localAddress } as object) : {}),
      ...(this.options.ca ? { ca: this.options.ca } : {}),
    });
    socket.on('task:assign', (batch) => this.#onAssign(batch));
    socket.on('task:cancel', (batch) => this.#onCancel(batch));
    socket.on('volunteer:control', (control) => this.#onControl(control));
    socket.on('disconnect', () => this.#onDisconnect());
    socket.on('volunteer:nodes', ({ nodes }) => {
      if (nodes.length > 0) this.#nodes = nodes;
      this.#notify();
    });
    return socket;
  }

  /** The tab's socket; a new one after the tab moved to another node. */
  get socket(): SimSocket {
    return this.#socket;
  }

  /** What the coordinator said in its last welcome. */
  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  /** Where the coordinators listen, as the last welcome or node list said. */
  get nodes(): readonly string[] {
    return this.#nodes;
  }

  /** The coordinator this tab connects to now. */
  get url(): string {
    return this.#url;
  }

  /** Connects and says hello; rejects if either fails. */
  static async connect(url: string, options: SimTabOptions = {}): Promise<SimTab> {
    const tab = new SimTab(url, options);
    try {
      await new Promise<void>((resolve, reject) => {
        tab.socket.once('connect', () => resolve());
        tab.socket.once('connect_error', reject);
      });
      const res = await tab.hello();
      if (!res.ok) throw new Error(`hello refused: ${res.error.message}`);
    } catch (error) {
      tab.close();
      throw error;
    }
    tab.#listenForReconnects(tab.socket);
    return tab;
  }

  /** Later connections (reconnects) say hello by themselves. */
  #listenForReconnects(socket: SimSocket): void {
    socket.on('connect', () => this.#onReconnect());
    socket.on('connect_error', () => {
      this.#failedConnect = true;
      this.#scheduleReconnect();
    });
  }

  /** The device id this tab counts as: the one its last welcome gave it. */
  get deviceId(): string {
    return this.#deviceId;
  }

  /** Connected and welcomed by the coordinator. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Results sent or to be sent and not yet acknowledged, by lease id. */
  get outbox(): ReadonlyMap<string, TaskResult> {
    return this.#outbox.results;
  }

  async hello(): Promise<Ack<Welcome>> {
    const generation = this.#generation;
    const hello = {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: this.#deviceId,
      tabId: this.options.tabId,
      slots: this.options.slots,
      ...(this.options.grid ? { grid: this.options.grid } : {}),
    };
    const res = (await (this.options.helloTimeoutMs
      ? this.socket.timeout(this.options.helloTimeoutMs).emitWithAck('volunteer:hello', hello)
      : this.socket.emitWithAck('volunteer:hello', hello))) as Ack<Welcome>;
    if (res.ok && generation === this.#generation) {
      // Like a real tab: keep the id the coordinator issued and send it from now on.
      this.#deviceId = res.data.deviceId;
      this.#welcome = res.data;
      if (res.data.nodes && res.data.nodes.length > 0) this.#nodes = res.data.nodes;
      this.#registered = true;
      this.stats.hellos++;
      this.#outbox.flush();
      this.#notify();
    }
    return res;
  }

  /** Sends results by hand (for duplicate and forgery tests). */
  report(results: TaskResult[]): Promise<Ack<ResultAck>> {
    return this.socket.emitWithAck('task:results', { results });
  }

  /** Loses the connection as a network fault would; with `reconnect` the tab comes back alone. */
  drop(): void {
    if (!this.socket.connected) return;
    this.stats.drops++;
    // Closing the transport (not socket.disconnect()) looks like a network loss to the client.
    this.socket.io.engine.close();
  }

  /** Resolves once `predicate` holds, re-checked on every message; rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    return SimTab.until([this], predicate, timeoutMs, what);
  }

  /** Resolves once `predicate` holds, re-checked on every message to any of `tabs`. */
  static until(
    tabs: readonly SimTab[],
    predicate: () => boolean,
    timeoutMs = 10_000,
    what = 'condition',
  ): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stop = (): void => {
        clearTimeout(timer);
        for (const tab of tabs) tab.#listeners = tab.#listeners.filter((l) => l !== check);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`sim tab: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        stop();
        resolve();
      };
      for (const tab of tabs) tab.#listeners.push(check);
    });
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#progressTimer);
    this.#outbox.close();
    for (const timer of this.#running.values()) clearTimeout(timer);
    clearTimeout(this.#reconnectTimer);
    this.#running.clear();
    this.#queue = [];
    this.socket.disconnect();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #onDisconnect(): void {
    this.#registered = false;
    this.#generation++;
    this.#outbox.reset();
    if (!this.#closed) this.stats.disconnects++;
    this.#scheduleReconnect();
    this.#notify();
  }

  #scheduleReconnect(): void {
    const reconnect = this.options.reconnect;
    if (!reconnect || this.#closed || this.#reconnectTimer) return;
    const pauseMs = reconnect.minMs + this.#random() * (reconnect.maxMs - reconnect.minMs);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closed || this.socket.connected) return;
      this.stats.reconnects++;
      if (this.options.followNodes && this.#failedConnect) this.#moveToNextNode();
      this.#failedConnect = false;
      this.socket.connect();
    }, pauseMs);
  }

  /** Its coordinator did not answer: the next one the last welcome listed gets the tab. */
  #moveToNextNode(): void {
    const next = nextNode(this.#nodes, this.#url);
    if (next === undefined) return;
    this.#socket.removeAllListeners();
    this.#socket.disconnect();
    this.#url = next;
    this.#socket = this.#open(next);
    this.#listenForReconnects(this.#socket);
    this.stats.moves++;
  }

  #onReconnect(): void {
    this.#generation++;
    this.#outbox.reset();
    // Disconnected or timed out: the next connect says hello again.
    this.hello().catch(() => undefined);
  }

  #onAssign(batch: AssignBatch): void {
    for (const job of batch.jobs) this.#maps.set(job.jobId, compileMap(job));
    if (this.options.record !== false) {
      this.codes.push(...batch.jobs);
      this.received.push(...batch.tasks);
    }
    this.stats.received += batch.tasks.length;
    for (const task of batch.tasks) this.#held.set(task.leaseId, task);
    this.#queue.push(...batch.tasks);
    this.#notify();
    this.#pump();
  }

  #onCancel(batch: CancelBatch): void {
    if (this.options.record !== false) this.cancelled.push(...batch.leaseIds);
    this.stats.cancelled += batch.leaseIds.length;
    this.#forget(batch.leaseIds, this.options.stopCancelled === true);
    this.#notify();
    this.#pump();
  }

  /** Like a real tab: a paused tab stops and hands back everything it holds. */
  #onControl(control: Control): void {
    if (this.options.record !== false) this.controls.push(control);
    if (control.paused) {
      const held = [...this.#held.keys()];
      if (held.length > 0) {
        this.#forget(held, true);
        if (this.options.record !== false) this.released.push(...held);
        this.stats.released += held.length;
        this.socket.emit('task:release', { leaseIds: held }, () => undefined);
      }
    }
    this.#notify();
  }

  /** Drops copies from what the tab holds; `stop` also ends those running (freeing their worker). */
  #forget(leaseIds: readonly string[], stop: boolean): void {
    const drop = new Set(leaseIds);
    for (const leaseId of leaseIds) this.#held.delete(leaseId);
    if (this.#queue.length > 0) this.#queue = this.#queue.filter((t) => !drop.has(t.leaseId));
    if (!stop) return;
    for (const leaseId of leaseIds) {
      clearTimeout(this.#running.get(leaseId));
      this.#running.delete(leaseId);
    }
  }

  /** Starts queued copies on free workers, FIFO, like the tab's worker pool. */
  #pump(): void {
    const concurrency = this.options.concurrency ?? Infinity;
    while (!this.#closed && this.#running.size < concurrency && this.#queue.length > 0) {
      const task = this.#queue.shift() as Assignment;
      // Only on a registered connection: socket.io buffers emits made while disconnected and
      // would send them before the next hello.
      if (this.options.reportStart && this.#registered) {
        this.socket.emit('task:progress', { updates: [{ leaseId: task.leaseId, elapsedMs: 0 }] });
      }
      if (this.options.stallChance && this.#random() < this.options.stallChance) {
        // Reported as started, never answered; it does not hold a worker.
        this.stats.stalled++;
        continue;
      }
      if (this.options.answer === 'silent') continue;
      const taskMs = this.options.taskMs ?? 0;
      const delayMs = this.options.jitter ? Math.round(taskMs * (0.5 + this.#random())) : taskMs;
      if (delayMs === 0) {
        this.#finish(task, 0);
        continue;
      }
      const timer = setTimeout(() => {
        this.#running.delete(task.leaseId);
        this.#finish(task, delayMs);
        // Out before the next copy's start report, as a tab's worker answers before it takes more.
        this.#outbox.flush();
        this.#maybeDrop();
        this.#pump();
      }, delayMs);
      this.#running.set(task.leaseId, timer);
    }
  }

  #finish(task: Assignment, durationMs: number): void {
    const outcome = answerFor(this.options.answer ?? 'honest', task, this.#maps.get(task.jobId));
    if (!outcome) return;
    this.#held.delete(task.leaseId);
    const { leaseId, jobId, taskIndex } = task;
    this.#outbox.add({ leaseId, jobId, taskIndex, durationMs, outcome });
  }

  /** With `dropChance`: now and then loses its connection while it still holds copies. */
  #maybeDrop(): void {
    const holding = this.#queue.length + this.#running.size > 0;
    if (!this.options.dropChance || !this.#registered || !holding) return;
    if (this.#random() < this.options.dropChance) this.drop();
  }

  /** Progress on every copy held, as a tab whose copies run long reports it. */
  #reportHeld(): void {
    if (!this.socket.connected) return;
    const elapsedMs = Date.now() - this.#startedAt;
    const updates = [...this.#held.keys()]
      .slice(0, 1_000)
      .map((leaseId) => ({ leaseId, elapsedMs }));
    if (updates.length > 0) this.socket.emit('task:progress', { updates });
  }
}
