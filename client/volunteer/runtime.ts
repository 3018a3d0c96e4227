/**
 * @module The volunteer runtime: one tab's work. It runs what the coordinator assigns on a pool of
 * Web Workers, gives work back when paused, and hands each result to the result sender (stored
 * before sent, forgotten only when acknowledged). The connection, the result sender, progress
 * reports and local checkpoints are each their own file; this one wires them and keeps the
 * tab's status.
 *
 * No timers drive the hot path (hidden tabs clamp main-thread timers): results are batched per
 * event-loop turn, and work arrives as socket events.
 */
import type { ErrorCode } from '../../shared/errors.ts';
import type { Assignment, JobCode, PausedBy } from '../../shared/protocol.ts';
import { Connection } from './connection.ts';
import { LocalCheckpoints } from './local-checkpoints.ts';
import { taskKey, type Outbox } from './outbox.ts';
import { own } from './own.ts';
import { ProgressReporter } from './progress-reporter.ts';
import { ResultSender } from './result-sender.ts';
import { WorkerPool, type WorkerFactory } from './worker-pool.ts';

export type ConnectionState = 'stopped' | 'connecting' | 'connected' | 'disconnected';

/** A job this tab holds tasks of right now, as its volunteer is told about it. */
export interface CurrentJob {
  jobId: string;
  name?: string;
  description?: string;
  submittedBy?: string;
}

/**
 * What went wrong last, with where it came from, so the page can say it in plain words: the
 * coordinator's answer to the hello (with its code and field), or sending and storing results.
 */
export interface RuntimeError {
  source: 'hello' | 'results';
  code?: ErrorCode;
  field?: string;
  /** The technical text, for the console; never shown as is. */
  message: string;
}

export interface RuntimeStatus {
  state: ConnectionState;
  paused: boolean;
  /** Why the grid's admin paused this tab, while they have. */
  adminPaused?: string;
  /** Who paused it: the whole grid, this tab alone, or the coordinator's admin (a ban). */
  pausedBy?: PausedBy;
  /** The name of the grid this tab joined with a join code. */
  gridName?: string;
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
  /** Jobs of the tasks held now, in the order their first task arrived: finished jobs drop out. */
  jobs: CurrentJob[];
  lastError?: RuntimeError;
}

export interface RuntimeOptions {
  /** Coordinator base URL; the page's origin by default. */
  url?: string;
  cores: number;
  grid?: string;
  nickname?: string;
  tabId: string;
  outbox: Outbox;
  /** Starts a task-runner worker; the page passes the sandbox's. */
  spawnWorker: WorkerFactory;
  onStatus?: (status: RuntimeStatus) => void;
}

export class VolunteerRuntime {
  readonly #options: RuntimeOptions;
  readonly #outbox: Outbox;
  readonly #pool: WorkerPool;
  readonly #jobs = new Map<string, JobCode>();
  /** Leases this tab holds (running or queued in the pool), each with its job. */
  readonly #held = new Map<string, string>();
  /** Leases held per job, so the current jobs are known without a walk over every lease. */
  readonly #heldPerJob = new Map<string, number>();
  readonly #checkpoints: LocalCheckpoints;
  readonly #results: ResultSender;
  readonly #progress: ProgressReporter;
  #connection?: Connection;
  #status: RuntimeStatus;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#outbox = options.outbox;
    this.#pool = new WorkerPool(options.cores, options.spawnWorker);
    const onError = (message: string): void =>
      this.#update({ lastError: { source: 'results', message } });
    this.#checkpoints = new LocalCheckpoints(options.outbox, onError);
    this.#results = new ResultSender({
      store: options.outbox,
      socket: () => this.#connection?.registered,
      onStored: (results) => this.#checkpoints.forget(results),
      onChange: () => this.#update({}),
      onError,
    });
    this.#progress = new ProgressReporter(() => this.#connection?.registered);
    this.#status = {
      state: 'stopped',
      paused: false,
      cores: options.cores,
      busy: 0,
      held: 0,
      done: 0,
      cpuMs: 0,
      unsent: 0,
      jobs: [],
    };
  }

  get status(): RuntimeStatus {
    return this.#status;
  }

  async start(): Promise<void> {
    if (this.#connection) {
      this.resume();
      return;
    }
    const deviceId = await this.#outbox.deviceId();
    await this.#checkpoints.load();
    await this.#results.load();
    this.#connection = new Connection({
      ...(this.#options.url ? { url: this.#options.url } : {}),
      ...(this.#options.grid ? { grid: this.#options.grid } : {}),
      ...(this.#options.nickname ? { nickname: this.#options.nickname } : {}),
      tabId: this.#options.tabId,
      deviceId,
      replaceDeviceId: (previous, issued) => this.#outbox.replaceDeviceId(previous, issued),
      slots: () => (this.#status.paused ? 0 : this.#options.cores),
      onState: (state) => this.#update({ state }),
      onError: (error) =>
        this.#update({
          lastError: {
            source: 'hello',
            code: error.code,
            message: error.message,
            ...(error.field !== undefined ? { field: error.field } : {}),
          },
        }),
      onWelcome: (welcome) => {
        const gridName = own(welcome, 'gridName');
        // The coordinator's word on an admin pause: one lifted while this tab was away is gone.
        const pausedBy = own(welcome, 'pausedBy');
        this.#update({
          lastError: undefined,
          ...(gridName !== undefined ? { gridName } : {}),
          adminPaused:
            pausedBy !== undefined
              ? (this.#status.adminPaused ?? 'paused by the grid admin')
              : undefined,
          pausedBy,
        });
        return this.#results.connected();
      },
      onAssign: (batch) => this.#onAssign(batch.jobs, batch.tasks),
      onCancel: (leaseIds) => {
        this.#pool.cancel(leaseIds);
        for (const leaseId of leaseIds) this.#drop(leaseId);
        this.#update({});
      },
      onControl: (control) => {
        const paused = own(control, 'paused');
        const reason = own(control, 'reason');
        if (paused) this.#handBack();
        this.#update({
          adminPaused: paused ? (reason ?? 'paused by the grid admin') : undefined,
          pausedBy: paused ? (own(control, 'pausedBy') ?? 'tab') : undefined,
        });
      },
    });
  }

  pause(): void {
    this.#update({ paused: true });
    this.#connection?.capacity(0);
    this.#handBack();
  }

  /** Stops everything this tab holds and gives it back, so other tabs take it at once. */
  #handBack(): void {
    const leaseIds = [...this.#held.keys()];
    if (leaseIds.length === 0) return;
    this.#pool.cancel(leaseIds);
    this.#held.clear();
    this.#heldPerJob.clear();
    this.#connection?.release(leaseIds);
    this.#update({});
  }

  resume(): void {
    this.#update({ paused: false });
    this.#connection?.capacity(this.#options.cores);
  }

  /** Caps the CPU share each worker uses (0.05..1). */
  setDutyCycle(share: number): void {
    this.#pool.setDutyCycle(share);
  }

  setCores(cores: number): void {
    this.#options.cores = cores;
    this.#pool.resize(cores);
    this.#update({ cores });
    if (!this.#status.paused) this.#connection?.capacity(cores);
  }

  stop(): void {
    this.#connection?.close();
    this.#connection = undefined;
    this.#pool.terminate();
    this.#update({ state: 'stopped' });
  }

  #onAssign(jobs: JobCode[], tasks: Assignment[]): void {
    for (const job of jobs) this.#jobs.set(job.jobId, job);
    for (const task of tasks) {
      const job = this.#jobs.get(task.jobId);
      if (!job) continue;
      if (!this.#held.has(task.leaseId)) {
        this.#held.set(task.leaseId, task.jobId);
        this.#heldPerJob.set(task.jobId, (this.#heldPerJob.get(task.jobId) ?? 0) + 1);
      }
      void this.#run(job, task);
    }
    this.#update({});
  }

  /** Forgets a lease; false if it was not held (cancelled or handed back meanwhile). */
  #drop(leaseId: string): boolean {
    const jobId = this.#held.get(leaseId);
    if (jobId === undefined) return false;
    this.#held.delete(leaseId);
    const left = (this.#heldPerJob.get(jobId) ?? 1) - 1;
    if (left > 0) this.#heldPerJob.set(jobId, left);
    else this.#heldPerJob.delete(jobId);
    return true;
  }

  #currentJobs(): CurrentJob[] {
    return [...this.#heldPerJob.keys()].map((jobId) => {
      const job = this.#jobs.get(jobId);
      const name = job && own(job, 'name');
      const description = job && own(job, 'description');
      const submittedBy = job && own(job, 'submittedBy');
      return {
        jobId,
        ...(name ? { name } : {}),
        ...(description ? { description } : {}),
        ...(submittedBy ? { submittedBy } : {}),
      };
    });
  }

  async #run(job: JobCode, task: Assignment): Promise<void> {
    const key = taskKey(task.jobId, task.taskIndex);
    // Own fields only: an absent checkpoint must never be found on a prototype (issue 10).
    const checkpoint = await this.#checkpoints.newest(key, own(task, 'checkpoint'));
    const result = await this.#pool.run({
      key: task.leaseId,
      jobId: task.jobId,
      source: job.map,
      mapKind: job.mapKind,
      timeoutMs: job.timeoutMs,
      inputs: task.inputs,
      ...(checkpoint ? { checkpoint } : {}),
      onStart: () => this.#progress.started(task.leaseId),
      onProgress: (fraction) => this.#progress.progressed(task.leaseId, fraction),
      onCheckpoint: (saved) => {
        this.#checkpoints.save(key, saved);
        this.#progress.checkpointed({
          leaseId: task.leaseId,
          jobId: task.jobId,
          taskIndex: task.taskIndex,
          checkpoint: saved,
        });
      },
    });
    this.#progress.finished(task.leaseId);
    const held = this.#drop(task.leaseId);
    if (!held || !result) {
      this.#update({});
      return;
    }
    this.#results.add({
      leaseId: task.leaseId,
      jobId: task.jobId,
      taskIndex: task.taskIndex,
      durationMs: Math.round(result.durationMs * 1000) / 1000,
      outcome: result.outcome,
    });
  }

  #update(patch: Partial<RuntimeStatus>): void {
    this.#status = {
      ...this.#status,
      ...patch,
      busy: this.#pool.busy,
      held: this.#held.size,
      jobs: this.#currentJobs(),
      unsent: this.#results.unsent,
      done: this.#results.done,
      cpuMs: this.#results.cpuMs,
    };
    this.#options.onStatus?.(this.#status);
  }
}
