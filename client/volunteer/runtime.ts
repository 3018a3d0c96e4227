/**
 * @module The volunteer runtime: one socket.io connection, a pool of Web Workers and the
 * IndexedDB outbox. It runs what the coordinator assigns, stores each result before sending it,
 * forgets it only when acknowledged, and resends what is left on every (re)connection.
 *
 * No timers drive the hot path (hidden tabs clamp main-thread timers): results are batched per
 * microtask turn, and work arrives as socket events.
 */
import { io, type Socket } from 'socket.io-client';
import { MAX_RESULTS_PER_MESSAGE } from '../../shared/limits.ts';
import {
  PROTOCOL_VERSION,
  type Ack,
  type Assignment,
  type JobCode,
  type ResultAck,
  type ServerToVolunteerEvents,
  type TaskResult,
  type VolunteerToServerEvents,
} from '../../shared/protocol.ts';
import type { Outbox } from './outbox.ts';
import { WorkerPool } from './worker-pool.ts';

export type ConnectionState = 'stopped' | 'connecting' | 'connected' | 'disconnected';

export interface RuntimeStatus {
  state: ConnectionState;
  paused: boolean;
  cores: number;
  /** Workers running a task right now. */
  busy: number;
  /** Tasks held: running or queued in this tab. */
  held: number;
  /** Results computed by this tab and acknowledged by the coordinator. */
  done: number;
  /** Results waiting in IndexedDB for an acknowledgement. */
  unsent: number;
  jobIds: string[];
  lastError?: string;
}

export interface RuntimeOptions {
  /** Coordinator base URL; the page's origin by default. */
  url?: string;
  cores: number;
  grid?: string;
  tabId: string;
  outbox: Outbox;
  onStatus?: (status: RuntimeStatus) => void;
}

const RESULT_ACK_TIMEOUT_MS = 30_000;

type VolunteerSocket = Socket<ServerToVolunteerEvents, VolunteerToServerEvents>;

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
    this.#pool = new WorkerPool(options.cores);
    this.#status = {
      state: 'stopped',
      paused: false,
      cores: options.cores,
      busy: 0,
      held: 0,
      done: 0,
      unsent: 0,
      jobIds: [],
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
    socket.on('task:cancel', (batch) => {
      this.#pool.cancel(batch.leaseIds);
      for (const leaseId of batch.leaseIds) this.#held.delete(leaseId);
      this.#update({});
    });
  }

  pause(): void {
    this.#update({ paused: true });
    this.#sendCapacity(0);
  }

  resume(): void {
    this.#update({ paused: false });
    this.#sendCapacity(this.#options.cores);
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
    const res = (await socket.emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: this.#deviceId,
      tabId: this.#options.tabId,
      slots: this.#status.paused ? 0 : this.#options.cores,
      ...(this.#options.grid ? { grid: this.#options.grid } : {}),
      userAgent: navigator.userAgent.slice(0, 512),
    })) as Ack<unknown>;
    if (!res.ok) {
      this.#update({ lastError: res.error.message });
      return;
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
      void this.#pool
        .run({
          key: task.leaseId,
          jobId: task.jobId,
          source: job.map,
          timeoutMs: job.timeoutMs,
          inputs: task.inputs,
        })
        .then((result) => {
          if (!this.#held.delete(task.leaseId) || !result) return;
          this.#enqueue({
            leaseId: task.leaseId,
            jobId: task.jobId,
            taskIndex: task.taskIndex,
            durationMs: Math.round(result.durationMs * 1000) / 1000,
            outcome: result.outcome,
          });
        });
    }
    this.#update({
      jobIds: [...new Set(tasks.map((task) => task.jobId).concat(this.#status.jobIds))].slice(0, 5),
    });
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
      while (this.#fresh.length > 0) {
        const fresh = this.#fresh.splice(0);
        // Stored before sent: if the tab dies between the two, the next start resends it.
        await this.#outbox.put(fresh);
        this.#stored.push(...fresh);
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
    try {
      while (this.#epoch === epoch && this.#stored.length > 0) {
        const socket = this.#socket;
        if (!this.#registered || !socket?.connected) return;
        const batch = this.#stored.splice(0, MAX_RESULTS_PER_MESSAGE);
        const res = (await socket
          .timeout(RESULT_ACK_TIMEOUT_MS)
          .emitWithAck('task:results', { results: batch })) as Ack<ResultAck>;
        if (!res.ok) {
          this.#update({ lastError: res.error.message });
          return;
        }
        const { leaseIds } = res.data;
        this.#update({
          done: this.#status.done + leaseIds.length,
          unsent: Math.max(0, this.#status.unsent - leaseIds.length),
        });
        // Forgetting acknowledged results need not hold up the next send; if the tab dies first,
        // they are sent once more and dropped as duplicates.
        this.#outbox.delete(leaseIds).catch((error: unknown) => {
          this.#update({
            lastError: `[outbox]: ${error instanceof Error ? error.message : String(error)}`,
          });
        });
      }
    } catch (error) {
      // No ack (timeout or disconnect): the results stay in IndexedDB for the next connection.
      this.#update({ lastError: error instanceof Error ? error.message : String(error) });
    } finally {
      if (this.#sending === epoch) this.#sending = undefined;
    }
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
