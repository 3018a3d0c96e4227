/**
 * @module The coordinator's hot state: jobs, their tasks (task-table.ts), the live copies (leases) of tasks and
 * the tabs holding them. Plain data: live copies are written only by the copy book
 * (copy-book.ts), the rest by the Scheduler and its parts.
 */
import type { JobSpec, JobStatus } from '../../shared/job.ts';
import type { SpeculationPolicy } from '../../shared/speculation.ts';
import type { CopyKind } from '../../shared/timeline.ts';
import type { InputSource } from '../store/input-source.ts';
import type { TaskTable } from './task-table.ts';

export type { TaskEntry, TaskStatus, Vote } from './task-table.ts';

export interface JobEntry {
  jobId: string;
  /** Submission order, the tie-break after priority. */
  seq: number;
  spec: JobSpec;
  inputs: InputSource;
  items: number;
  taskCount: number;
  status: JobStatus;
  /** Entries of touched, unsettled tasks only: memory does not grow with the job. */
  tasks: TaskTable;
  /**
   * Shared with other nodes: this node runs only the ranges it claimed (`Scheduler.addRange`),
   * and the store, which sees every node's commits, decides when the job is finished.
   */
  shared: boolean;
  /** A shared job's claims came back empty: nothing left to claim until some are released. */
  claimsExhausted: boolean;
  /** Touched task indices filed again without priority, FIFO from `queueHead`; served after
   * `retry`, before the untouched tasks. */
  queue: number[];
  queueHead: number;
  /** Task indices waiting for another copy (retries, redundancy), served before `queue`, from
   * `retryHead` (entries before it are consumed). */
  retry: number[];
  retryHead: number;
  /** A take checked its bound of retries in vain (job-queue.ts): waiting tabs need feeding again. */
  retryCut: boolean;
  done: number;
  failed: number;
  /** Tasks with at least one live copy. */
  inFlight: number;
  /** Indices of those tasks. Invariant: size === inFlight. */
  running: Set<number>;
  /** Sample (reservoir, bounded) of finished copies' run times, for the speculation median. */
  durations: number[];
  /** Committed copies seen, for reservoir sampling. */
  durationCount: number;
  /** Undefined when the job turned speculation off. */
  speculation?: SpeculationPolicy;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface Lease {
  leaseId: string;
  jobId: string;
  taskIndex: number;
  volunteerId: string;
  deviceId: string;
  /** The holding tab's remote address when the copy was issued. */
  address?: string;
  kind: CopyKind;
  dispatchedAt: number;
  /** When the copy started running in its tab (learned from its first progress report). */
  startedAt?: number;
  /** Last fraction the map reported. */
  fraction?: number;
  deadline: number;
  /** Estimated JSON bytes of the copy's inputs, counted against its tab's prefetch budget. */
  bytes: number;
}

export interface VolunteerEntry {
  volunteerId: string;
  deviceId: string;
  /** The connection's remote address. */
  address?: string;
  grid?: string;
  slots: number;
  /** Leases this tab holds, running or queued in the tab. */
  leases: Set<string>;
  /** Estimated input bytes of those leases. */
  heldBytes: number;
  /** Jobs whose code this connection already received. */
  knownJobs: Set<string>;
  /** Moving average of the tab's task run time, once it has reported one. */
  ewmaTaskMs?: number;
  tasksDone: number;
  /** Run time of this tab's copies whose results committed: its contribution. */
  cpuMs: number;
}
