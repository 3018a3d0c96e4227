/**
 * @module The volunteer runtime: one socket.io connection, a pool of Web Workers and the
 * IndexedDB outbox. It runs what the coordinator assigns, stores each result before sending it,
 * forgets it only when acknowledged, and resends what is left on every (re)connection.
 *
 * No timers drive the hot path (hidden tabs clamp main-thread timers): results are batched per
 * microtask turn, and work arrives as socket events.
 */
import { io, type Socket } from 'socket.io-client';
import { MAX_RESULTS_PER_MESSAGE, RESULTS_MESSAGE_TARGET_CHARS } from '../../shared/limits.ts';
import {
  PROTOCOL_VERSION,
  type Ack,
  type Assignment,
  type CheckpointReport,
  type JobCode,
  type ProgressBatch,
  type ResultAck,
  type Welcome,
  type ServerToVolunteerEvents,
  type TaskCheckpoint,
  type TaskResult,
  type VolunteerToServerEvents,
} from '../../shared/protocol.ts';
import { taskKey, type Outbox } from './outbox.ts';
import { own } from './own.ts';
import { WorkerPool, type WorkerFactory } from './worker-pool.ts';

export type ConnectionState = 'stopped' | 'connecting' | 'connected' | 'disconnected';

export interface RuntimeStatus {
  state: ConnectionState;
  paused: boolean;
  /** Why the grid's admin paused this tab, while they have. */
  adminPaused?: string;
  cores: number;
  /** Workers running a task right now. */
  busy: number;
  /** Tasks held: running or queued in this tab. */
  held: number;
  /** Results computed by this tab and acknowledged by the coordinator. */
  done: number;
  /** Their run time, in ms: what this tab has given. */
  cpuMs: number;
  /** Results waiting in IndexedDB for an acknowledgement. */
  unsent: number;
  jobIds: string[];
  /** Names of the jobs in `jobIds` (and who submitted them); their descriptions. */
  jobNames: string[];
  jobDescriptions: string[];
  lastError?: string;
}

export interface RuntimeOptions {
  /** Coordinator base URL; the page's origin by default. */
  url?: string;
  cores: number;
  grid?: string;
  tabId: string;
  outbox: Outbox;
  /** Starts a task-runner worker; the page passes the sandbox's. */
  spawnWorker: WorkerFactory;
  onStatus?: (status: RuntimeStatus) => void;
}

const RESULT_ACK_TIMEOUT_MS = 30_000;
/** Pause before sending a batch again that got no acknowledgement on a live connection. */
const RESEND_AFTER_MS = 2_000;
/** Least time between two progress (and checkpoint) reports to the coordinator. */
const PROGRESS_REPORT_MS = 1_000;

interface RunningCopy {
  startedAt: number;
  fraction?: number;
  /** Whether the coordinator has heard of this copy; whether it has news since. */
  reported?: boolean;
  dirty?: boolean;
  /** Latest checkpoint not yet sent. */
  checkpoint?: CheckpointReport;
}

type VolunteerSocket = Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;

const turns = new MessageChannel();
const turnWaiters: Array<() => void> = [];
turns.port1.onmessage = () => turnWaiters.shift()?.();

/** Resolves on the next task (event-loop turn): a message, not a timer, so hidden tabs do not
 * clamp it. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    turnWaiters.push(resolve);
    turns.port2.postMessage(null);
  });
}

export class VolunteerRuntime {
  readonly #options: RuntimeOptions;
  readonly #outbox: Outbox;
  readonly #pool: WorkerPool;
  readonly #jobs = new Map<string, JobCode>();
  /** Leases this tab holds (running or queued in the pool). */
  readonly #held = new Set<string>();
  /** Results finished but not yet in IndexedDB. */
  #fresh: TaskResult[] = [];
  /** Results in IndexedDB, not yet sent on the current connection. */
  #stored: TaskResult[] = [];
  #storing = false;
  /** Copies running in a worker, for progress and checkpoint reports. */
  readonly #running = new Map<string, RunningCopy>();
  /** Tasks with a checkpoint in IndexedDB (kept in memory so tiny tasks never look one up). */
  #checkpointKeys = new Set<string>();
  #reportTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every registration; a send loop of an older connection stops. */
  #epoch = 0;
  #sending: number | undefined;
  #socket?: VolunteerSocket;
  #deviceId?: string;
  #registered = false;
  #status: RuntimeStatus;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#outbox = options.outbox;
    this.#pool = new WorkerPool(options.cores, options.spawnWorker);
    this.#status = {
      state: 'stopped',
      paused: false,
      cores: options.cores,
      busy: 0,
      held: 0,
      done: 0,
      cpuMs: 0,
      unsent: 0,
      jobIds: [],
      jobNames: [],
      jobDescriptions: [],
    };
  }

  get status(): RuntimeStatus {
    return this.#status;
  }

  async start(): Promise<void> {
    if (this.#socket) {
      this.resume();
      return;
    }
    this.#deviceId = await this.#outbox.deviceId();
    this.#checkpointKeys = new Set(await this.#outbox.checkpointKeys());
    this.#status.unsent = await this.#outbox.count();
    const socket: VolunteerSocket = this.#options.url
      ? io(this.#options.url, { transports: ['websocket'] })
      : io({ transports: ['websocket'] });
    this.#socket = socket;
    this.#update({ state: 'connecting' });
    socket.on('connect', () => void this.#hello());
    socket.on('disconnect', () => {
      this.#registered = false;
      // Tasks in hand keep running: their results go to the outbox and out on the next
      // connection, where they still commit if no other copy has (the coordinator accepts
      // results from leases it has since dropped).
      this.#update({ state: 'disconnected' });
    });
    socket.on('task:assign', (batch) => this.#onAssign(batch.jobs, batch.tasks));
    socket.on('volunteer:control', (control) => {
      const paused = own(control, 'paused');
      const reason = own(control, 'reason');
      if (paused) this.#handBack();
      this.#update({ adminPaused: paused ? (reason ?? 'paused by the grid admin') : undefined });
    });
    socket.on('task:cancel', (batch) => {
      this.#pool.cancel(batch.leaseIds);
      for (const leaseId of batch.leaseIds) this.#held.delete(leaseId);
      this.#update({});
    });
  }

  pause(): void {
    this.#update({ paused: true });
    this.#sendCapacity(0);
    this.#handBack();
  }

  /** Stops everything this tab holds and gives it back, so other tabs take it at once. */
  #handBack(): void {
    const leaseIds = [...this.#held];
    if (leaseIds.length === 0) return;
    this.#pool.cancel(leaseIds);
    this.#held.clear();
    const socket = this.#socket;
    for (let i = 0; socket?.connected && i < leaseIds.length; i += MAX_RESULTS_PER_MESSAGE) {
      socket.emit(
        'task:release',
        { leaseIds: leaseIds.slice(i, i + MAX_RESULTS_PER_MESSAGE) },
        () => undefined,
      );
    }
    this.#update({});
  }

  resume(): void {
    this.#update({ paused: false });
    this.#sendCapacity(this.#options.cores);
  }

  /** Caps the CPU share each worker uses (0.05..1). */
  setDutyCycle(share: number): void {
    this.#pool.setDutyCycle(share);
  }

  setCores(cores: number): void {
    this.#options.cores = cores;
    this.#pool.resize(cores);
    this.#update({ cores });
    if (!this.#status.paused) this.#sendCapacity(cores);
  }

  stop(): void {
    this.#socket?.disconnect();
    this.#socket = undefined;
    this.#pool.terminate();
    this.#update({ state: 'stopped' });
  }

  async #hello(): Promise<void> {
    const socket = this.#socket;
    if (!socket || !this.#deviceId) return;
    const sent = this.#deviceId;
    const res = (await socket.emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: sent,
      tabId: this.#options.tabId,
      slots: this.#status.paused ? 0 : this.#options.cores,
      ...(this.#options.grid ? { grid: this.#options.grid } : {}),
      userAgent: navigator.userAgent.slice(0, 512),
    })) as Ack<Welcome>;
    if (!res.ok) {
      this.#update({ lastError: res.error.message });
      return;
    }
    // The coordinator issues device ids: keep the one it gave, for this tab and the browser's next.
    if (res.data.deviceId !== sent) {
      this.#deviceId = res.data.deviceId;
      void this.#outbox.replaceDeviceId(sent, res.data.deviceId).catch(() => {
        // Not stored: this tab still counts as the issued id; the next start is issued another.
      });
    }
    this.#registered = true;
    this.#update({ state: 'connected' });
    // Everything in IndexedDB was never acknowledged: send it again on this connection.
    this.#epoch++;
    this.#stored = await this.#outbox.all();
    this.#update({ unsent: this.#stored.length });
    void this.#send(this.#epoch);
  }

  #sendCapacity(slots: number): void {
    if (this.#socket?.connected && this.#registered) {
      this.#socket.emit('volunteer:capacity', { slots }, () => undefined);
    }
  }

  #onAssign(jobs: JobCode[], tasks: Assignment[]): void {
    for (const job of jobs) this.#jobs.set(job.jobId, job);
    for (const task of tasks) {
      const job = this.#jobs.get(task.jobId);
      if (!job) continue;
      this.#held.add(task.leaseId);
      void this.#run(job, task);
    }
    const jobIds = [...new Set(tasks.map((task) => task.jobId).concat(this.#status.jobIds))].slice(
      0,
      5,
    );
    this.#update({
      jobIds,
      jobNames: jobIds.map((jobId) => {
        const job = this.#jobs.get(jobId);
        const name = (job && own(job, 'name')) ?? `job ${jobId.slice(0, 8)}`;
        const submittedBy = job && own(job, 'submittedBy');
        return submittedBy ? `${name} (for ${submittedBy})` : name;
      }),
      jobDescriptions: jobIds.map((jobId) => {
        const job = this.#jobs.get(jobId);
        return (job && own(job, 'description')) ?? '';
      }),
    });
  }

  async #run(job: JobCode, task: Assignment): Promise<void> {
    const key = taskKey(task.jobId, task.taskIndex);
    // Own fields only: an absent checkpoint must never be found on a prototype (issue 10).
    const checkpoint = await this.#newestCheckpoint(key, own(task, 'checkpoint'));
    const result = await this.#pool.run({
      key: task.leaseId,
      jobId: task.jobId,
      source: job.map,
      mapKind: job.mapKind,
      timeoutMs: job.timeoutMs,
      inputs: task.inputs,
      ...(checkpoint ? { checkpoint } : {}),
      onStart: () => {
        this.#running.set(task.leaseId, { startedAt: performance.now() });
        this.#scheduleReports();
      },
      onProgress: (fraction) => {
        const running = this.#running.get(task.leaseId);
        if (!running) return;
        running.fraction = fraction;
        running.dirty = true;
        this.#scheduleReports();
      },
      onCheckpoint: (saved) => {
        this.#checkpointKeys.add(key);
        void this.#outbox
          .saveCheckpoint({ taskKey: key, checkpoint: saved, savedAt: Date.now() })
          .catch((error: unknown) => this.#update({ lastError: `[outbox]: ${String(error)}` }));
        const running = this.#running.get(task.leaseId);
        if (running) {
          running.checkpoint = {
            leaseId: task.leaseId,
            jobId: task.jobId,
            taskIndex: task.taskIndex,
            checkpoint: saved,
          };
          this.#scheduleReports();
        }
      },
    });
    this.#running.delete(task.leaseId);
    if (!this.#held.delete(task.leaseId) || !result) return;
    this.#enqueue({
      leaseId: task.leaseId,
      jobId: task.jobId,
      taskIndex: task.taskIndex,
      durationMs: Math.round(result.durationMs * 1000) / 1000,
      outcome: result.outcome,
    });
  }

  /** The further along of the coordinator's checkpoint and this browser's own, if any. */
  async #newestCheckpoint(
    key: string,
    fromServer: TaskCheckpoint | undefined,
  ): Promise<TaskCheckpoint | undefined> {
    if (!this.#checkpointKeys.has(key)) return fromServer;
    const stored = await this.#outbox.checkpoint(key);
    const local = stored && own(stored, 'checkpoint');
    if (!local) return fromServer;
    return fromServer && fromServer.item > local.item ? fromServer : local;
  }

  #scheduleReports(): void {
    if (this.#reportTimer !== undefined) return;
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#sendReports();
    }, PROGRESS_REPORT_MS);
  }

  /**
   * Tells the coordinator which copies are running, how far along and where they last saved.
   * Throttled to one message each per PROGRESS_REPORT_MS; copies that started and finished in
   * between are never mentioned, so tiny tasks cost nothing here.
   */
  #sendReports(): void {
    const socket = this.#socket;
    if (!socket?.connected || !this.#registered) {
      if (this.#running.size > 0) this.#scheduleReports();
      return;
    }
    const now = performance.now();
    const updates: ProgressBatch['updates'] = [];
    for (const [leaseId, running] of this.#running) {
      if (!running.reported || running.dirty) {
        updates.push({
          leaseId,
          elapsedMs: Math.round(now - running.startedAt),
          ...(running.fraction !== undefined ? { fraction: running.fraction } : {}),
        });
        running.reported = true;
        running.dirty = false;
      }
      if (running.checkpoint) {
        socket.emit('task:checkpoint', running.checkpoint);
        running.checkpoint = undefined;
      }
    }
    for (let i = 0; i < updates.length; i += MAX_RESULTS_PER_MESSAGE) {
      socket.emit('task:progress', { updates: updates.slice(i, i + MAX_RESULTS_PER_MESSAGE) });
    }
  }

  #enqueue(result: TaskResult): void {
    this.#fresh.push(result);
    void this.#store();
  }

  /**
   * Writes finished results to IndexedDB, one transaction in flight: whatever finishes during a
   * write goes into the next one, so batches grow with load without any timer.
   */
  async #store(): Promise<void> {
    if (this.#storing) return;
    this.#storing = true;
    try {
      // Results finishing in this turn (a worker's whole batch) go into the same transaction.
      await nextTurn();
      while (this.#fresh.length > 0) {
        const fresh = this.#fresh.splice(0);
        // Stored before sent: if the tab dies between the two, the next start resends it.
        await this.#outbox.put(fresh);
        this.#stored.push(...fresh);
        const finished = fresh
          .map((result) => taskKey(result.jobId, result.taskIndex))
          .filter((key) => this.#checkpointKeys.delete(key));
        if (finished.length > 0) await this.#outbox.deleteCheckpoints(finished);
        this.#update({ unsent: this.#status.unsent + fresh.length });
        void this.#send(this.#epoch);
      }
    } catch (error) {
      this.#update({
        lastError: `[outbox]: ${error instanceof Error ? error.message : String(error)}`,
      });
    } finally {
      this.#storing = false;
    }
  }

  /**
   * Sends stored results, one message in flight per connection; results stored meanwhile go in
   * the next message. Runs beside `#store`, so storing never waits for the network.
   */
  async #send(epoch: number): Promise<void> {
    if (this.#sending === epoch) return;
    this.#sending = epoch;
    let inFlight: TaskResult[] | undefined;
    try {
      while (this.#epoch === epoch && this.#stored.length > 0) {
        const socket = this.#socket;
        if (!this.#registered || !socket?.connected) return;
        const batch = this.#stored.splice(0, this.#messageSize());
        inFlight = batch;
        const res = (await socket
          .timeout(RESULT_ACK_TIMEOUT_MS)
          .emitWithAck('task:results', { results: batch })) as Ack<ResultAck>;
        if (!res.ok) {
          // Refused whole (rate limit, a coordinator restarting): keep it and try again later.
          this.#update({ lastError: res.error.message });
          this.#retryLater(batch, epoch);
          return;
        }
        const { leaseIds, refused } = res.data;
        const accepted = new Set(leaseIds);
        const cpuMs = batch.reduce(
          (sum, result) => sum + (accepted.has(result.leaseId) ? result.durationMs : 0),
          0,
        );
        this.#update({
          done: this.#status.done + leaseIds.length,
          cpuMs: this.#status.cpuMs + cpuMs,
          unsent: Math.max(0, this.#status.unsent - leaseIds.length - refused.length),
        });
        // Forgetting acknowledged results need not hold up the next send; if the tab dies first,
        // they are sent once more and dropped as duplicates.
        this.#outbox.delete([...leaseIds, ...refused]).catch((error: unknown) => {
          this.#update({
            lastError: `[outbox]: ${error instanceof Error ? error.message : String(error)}`,
          });
        });
      }
    } catch (error) {
      // No ack: after a disconnect the next connection resends everything from IndexedDB;
      // on a live connection (an ack timeout) this batch is tried again later.
      this.#update({ lastError: error instanceof Error ? error.message : String(error) });
      if (inFlight && this.#socket?.connected) this.#retryLater(inFlight, epoch);
    } finally {
      if (this.#sending === epoch) this.#sending = undefined;
    }
  }

  /** Puts an unacknowledged batch back in front and sends again after a pause. */
  #retryLater(batch: TaskResult[], epoch: number): void {
    if (this.#epoch !== epoch) return;
    this.#stored.unshift(...batch);
    setTimeout(() => void this.#send(epoch), RESEND_AFTER_MS);
  }

  /** How many stored results fit one message: by count, and by size for large outputs. */
  #messageSize(): number {
    let chars = 0;
    const limit = Math.min(MAX_RESULTS_PER_MESSAGE, this.#stored.length);
    for (let i = 0; i < limit; i++) {
      chars += JSON.stringify((this.#stored[i] as TaskResult).outcome).length;
      if (chars > RESULTS_MESSAGE_TARGET_CHARS) return Math.max(1, i);
    }
    return limit;
  }

  #update(patch: Partial<RuntimeStatus>): void {
    this.#status = {
      ...this.#status,
      ...patch,
      busy: this.#pool.busy,
      held: this.#held.size,
    };
    this.#options.onStatus?.(this.#status);
  }
}
