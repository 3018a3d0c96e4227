/**
 * @module What the tab's worker pool runs and answers: a task of a job, with its inputs and the
 * hooks the runtime listens on, and its outcome with its measured run time.
 */
import type { JsonValue } from '../../shared/json.ts';
import type { MapKind, TaskCheckpoint, TaskOutcome } from '../../shared/protocol.ts';
import { TAMPERED_MESSAGE } from '../../shared/runner-protocol.ts';

export interface PoolTask {
  /** Identifies the task for cancel, and in the worker's messages (the lease id). */
  key: string;
  jobId: string;
  source: string;
  mapKind: MapKind;
  timeoutMs: number;
  inputs: JsonValue[];
  /** Resume from here (see TaskCheckpoint). */
  checkpoint?: TaskCheckpoint;
  onStart?: () => void;
  onProgress?: (fraction: number) => void;
  onCheckpoint?: (checkpoint: TaskCheckpoint) => void;
}

export interface PoolResult {
  outcome: TaskOutcome;
  durationMs: number;
}

/** A task waiting in the pool, and whom to tell its result (undefined: cancelled). */
export interface Queued {
  task: PoolTask;
  resolve: (result: PoolResult | undefined) => void;
}

/** The end of a task whose job's code tampered with the runner's channel. */
export function tampered(): PoolResult {
  return { outcome: { status: 'error', message: TAMPERED_MESSAGE }, durationMs: 0 };
}
