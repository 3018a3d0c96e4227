/**
 * @module The durable record behind the scheduler's memory. One contract for every backend
 * (test/integration/store-contract.ts runs against each). Writes arrive as batches of changes,
 * each batch applied in one transaction (the coordinator's group commit).
 */
import type { ItemOutcome, JobSpec, JobStatus, UploadFormat } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import type { CopyEnd, CopyKind } from '../../shared/timeline.ts';
import type { ClusterEvents, ClusterStore, Fence } from './cluster.ts';
import type { InputSource } from './input-source.ts';
import type { StandingChange, StoredStanding } from './standing.ts';

export type { StandingChange, StandingDelta, StoredStanding } from './standing.ts';

export interface StoredJob {
  jobId: string;
  seq: number;
  spec: JobSpec;
  status: JobStatus;
  items: number;
  tasks: number;
  done: number;
  failed: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** The reduce's outcome, once it ran. */
  reduced?: { value: JsonValue } | { error: string };
}

export type StoreChange =
  | {
      type: 'settle';
      jobId: string;
      taskIndex: number;
      status: 'committed' | 'failed';
      items: ItemOutcome[];
      attempts: number;
      at: number;
    }
  | { type: 'attempt'; jobId: string; taskIndex: number; attempts: number; drops: number }
  | { type: 'job'; jobId: string; status: JobStatus; at: number }
  | { type: 'checkpoint'; jobId: string; taskIndex: number; checkpoint: TaskCheckpoint }
  | ({ type: 'copy' } & CopyRecord)
  /** A forwarded result was acted on: its row goes in the same transaction as the settle. */
  | { type: 'forward-taken'; forwardId: number }
  /** A device's results were judged: its standing moves in the same transaction as the settles. */
  | StandingChange;

/** One copy of a task, from dispatch to its end: a row of the task timeline. */
export interface CopyRecord {
  jobId: string;
  taskIndex: number;
  leaseId: string;
  volunteerId: string;
  kind: CopyKind;
  dispatchedAt: number;
  startedAt?: number;
  fraction?: number;
  endedAt: number;
  end: CopyEnd;
  won: boolean;
}

export interface SettledTask {
  taskIndex: number;
  status: 'committed' | 'failed';
}

export interface TaskAttempts {
  taskIndex: number;
  attempts: number;
  drops: number;
}

export interface StoredTaskResult {
  taskIndex: number;
  items: ItemOutcome[];
}

export interface StoredGrid {
  code: string;
  name: string;
  createdAt: number;
  /** An admin paused the whole grid. */
  paused?: boolean;
}

export interface PausedTab {
  volunteerId: string;
  grid: string;
  pausedAt: number;
}

export interface StoredToken {
  tokenId: string;
  name: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  createdAt: number;
  revokedAt?: number;
}

export interface StoredUpload {
  uploadId: string;
  format: UploadFormat;
  items: number;
  /** Bytes of item JSON stored (not of the file as sent). */
  bytes: number;
  createdAt: number;
  /** False while items are still arriving: only a complete upload can be a job's inputs. */
  complete: boolean;
}

/** Inputs streamed in by `POST /api/uploads`, kept item by item so none sits whole in memory. */
export interface UploadStore {
  createUpload(upload: {
    uploadId: string;
    format: UploadFormat;
    createdAt: number;
  }): Promise<void>;
  /** Appends items (each one JSON text) after the upload's last, in one transaction. */
  appendUpload(uploadId: string, values: readonly string[]): Promise<void>;
  completeUpload(uploadId: string): Promise<StoredUpload>;
  getUpload(uploadId: string): Promise<StoredUpload | undefined>;
  /** Newest first. */
  listUploads(): Promise<StoredUpload[]>;
  /** Deletes an upload and its items; false if there is none. */
  deleteUpload(uploadId: string): Promise<boolean>;
  /** The items of a complete upload, read a task's span at a time (one indexed range scan). */
  uploadInputs(upload: StoredUpload): InputSource;
}

export interface JobStore extends UploadStore, ClusterStore {
  /** Events between nodes; closed by `close()`. */
  readonly events: ClusterEvents;
  /** Records a ban; it also ends the device's streak, so an unban does not bring trust back. */
  banDevice(deviceId: string, at: number): Promise<void>;
  unbanDevice(deviceId: string): Promise<void>;
  bannedDevices(): Promise<string[]>;
  /** The stored standings of these devices (those that have one). */
  deviceStandings(deviceIds: readonly string[]): Promise<StoredStanding[]>;
  /** The `limit` standings changed last, newest first. */
  recentStandings(limit: number): Promise<StoredStanding[]>;
  createToken(token: StoredToken): Promise<void>;
  /** Every token, newest first, revoked ones included. */
  listTokens(): Promise<StoredToken[]>;
  /** Marks a token revoked; false if there is no such live token. */
  revokeToken(tokenId: string, at: number): Promise<boolean>;
  /** Records a grid; fails with `conflict` if the code exists. */
  createGrid(grid: StoredGrid): Promise<void>;
  getGrid(code: string): Promise<StoredGrid | undefined>;
  /** Records a whole grid's pause; a resume also clears its tabs' own pauses. */
  setGridPaused(code: string, paused: boolean): Promise<void>;
  /** Records or clears an admin's pause of one tab. */
  setTabPaused(tab: PausedTab, paused: boolean): Promise<void>;
  /** Tabs paused one by one, oldest first. */
  pausedTabs(): Promise<PausedTab[]>;
  /** Newest first. */
  listGrids(): Promise<StoredGrid[]>;
  /** Records a new job (status queued); fails if the id exists. */
  createJob(job: Omit<StoredJob, 'seq' | 'done' | 'failed'>): Promise<StoredJob>;
  /**
   * Applies a batch atomically. A settle for a task already settled is ignored (exactly-once
   * commit holds even if memory and store ever disagree), and counters move only on a real insert.
   *
   * With a `fence`, the batch is a node's group commit and is checked inside its transaction:
   * the node `fence.epoch` must be live, and every settle in the batch must be of a task inside
   * a range that epoch holds now (`claimTasks`). If either fails, NOTHING of the batch is
   * written (its attempts, checkpoints and copies neither) and apply rejects with
   * `CoordinatorError` code `fenced`: the node was presumed dead, or its range was handed on,
   * and another node may already run those tasks. The check and the writes are one transaction
   * that holds the node's record, so a node declared dead after the check commits nothing it
   * did not commit before being declared dead. Without a fence (tests, single calls) nothing is
   * checked.
   */
  apply(changes: readonly StoreChange[], fence?: Fence): Promise<void>;
  getJob(jobId: string): Promise<StoredJob | undefined>;
  setReduced(jobId: string, outcome: { value: JsonValue } | { error: string }): Promise<void>;
  /** Newest first; with `beforeSeq`, only jobs created before that one (a page's cursor). */
  listJobs(options?: { limit?: number; beforeSeq?: number }): Promise<StoredJob[]>;
  /** Jobs not finished, oldest first: what a restarted coordinator resumes. */
  unfinishedJobs(): Promise<StoredJob[]>;
  settledTasks(jobId: string): Promise<SettledTask[]>;
  taskAttempts(jobId: string): Promise<TaskAttempts[]>;
  checkpoints(jobId: string): Promise<Array<{ taskIndex: number; checkpoint: TaskCheckpoint }>>;
  /** Ended copies of tasks `[fromTask, fromTask + tasks)`, by task then dispatch time. */
  copies(jobId: string, range: { fromTask: number; tasks: number }): Promise<CopyRecord[]>;
  /** Settled tasks' outcomes in task order, read in pages so a large job never sits in memory. */
  results(jobId: string, fromTask?: number): AsyncIterable<StoredTaskResult>;
  /** The outcomes of the job's first `limit` failed tasks, in task order. */
  failedTasks(jobId: string, limit: number): Promise<StoredTaskResult[]>;
  close(): Promise<void>;
}
