/**
 * @module A job's in-memory entry, built fresh at submission or from the store at a restart.
 */
import type { JobSpec, JobStatus } from '../../shared/job.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import { resolveSpeculation } from '../../shared/speculation.ts';
import type { InputSource } from '../store/input-source.ts';
import { countTasks } from './sharder.ts';
import type { JobEntry, TaskEntry } from './state.ts';
import { TaskTable } from './task-table.ts';

/** A job as the store hands it back on restart: what is settled and how many attempts were spent. */
export interface RestoredJob {
  jobId: string;
  seq: number;
  spec: JobSpec;
  status: JobStatus;
  createdAt: number;
  startedAt?: number;
  settled: Iterable<{ taskIndex: number; status: 'committed' | 'failed' }>;
  attempts: Iterable<{ taskIndex: number; attempts: number; drops: number }>;
  checkpoints?: Iterable<{ taskIndex: number; checkpoint: TaskCheckpoint }>;
  /** Required for an uploaded job (from the store); inline inputs are read from the spec. */
  inputs?: InputSource;
  /** A shared job: `settled`, `attempts` and `checkpoints` come with each claimed range instead. */
  shared?: boolean;
}

/**
 * A job's entry; tasks in `settledInOrder` (ascending, a restored job's) are not run again. A
 * `shared` job starts with no task: they come in claimed ranges.
 */
export function newJobEntry(
  jobId: string,
  seq: number,
  spec: JobSpec,
  status: JobStatus,
  createdAt: number,
  inputs: InputSource,
  settledInOrder: Iterable<number> = [],
  shared = false,
): JobEntry {
  const items = inputs.items;
  const speculation = resolveSpeculation(spec.speculation);
  const taskCount = countTasks(items, spec.chunkSize);
  const job: JobEntry = {
    jobId,
    seq,
    spec,
    inputs,
    items,
    taskCount,
    status,
    tasks: new TaskTable(taskCount, settledInOrder, shared ? 'none' : 'all'),
    shared,
    claimsExhausted: false,
    queue: [],
    queueHead: 0,
    retry: [],
    retryHead: 0,
    retryCut: false,
    done: 0,
    failed: 0,
    inFlight: 0,
    running: new Set(),
    durations: [],
    durationCount: 0,
    createdAt,
    ...(speculation ? { speculation } : {}),
  };
  return job;
}

/**
 * A restored job's entry: settled tasks counted and never run again, attempts and checkpoints put
 * back on the tasks they belong to (those tasks queue first), every other task untouched.
 */
export function restoredJobEntry(restored: RestoredJob, inputs: InputSource): JobEntry {
  if (restored.shared) {
    const job = newJobEntry(
      restored.jobId,
      restored.seq,
      restored.spec,
      restored.status,
      restored.createdAt,
      inputs,
      [],
      true,
    );
    job.startedAt = restored.startedAt;
    return job;
  }
  const settled = [...restored.settled].sort((a, b) => a.taskIndex - b.taskIndex);
  const job = newJobEntry(
    restored.jobId,
    restored.seq,
    restored.spec,
    restored.status,
    restored.createdAt,
    inputs,
    settled.map(({ taskIndex }) => taskIndex),
  );
  job.startedAt = restored.startedAt;
  for (const { taskIndex, status } of settled) {
    if (taskIndex < 0 || taskIndex >= job.taskCount) continue;
    if (status === 'committed') job.done++;
    else job.failed++;
  }
  putBack(job, restored.attempts, restored.checkpoints ?? [], () => true);
  return job;
}

/**
 * Puts saved attempts and checkpoints back on their tasks (those `mayTouch` allows and that are
 * not settled); those tasks queue first, ahead of untouched ones.
 */
export function putBack(
  job: JobEntry,
  attempts: Iterable<{ taskIndex: number; attempts: number; drops: number }>,
  checkpoints: Iterable<{ taskIndex: number; checkpoint: TaskCheckpoint }>,
  mayTouch: (taskIndex: number) => boolean,
): void {
  const touch = (taskIndex: number): TaskEntry | undefined => {
    if (!mayTouch(taskIndex) || job.tasks.isSettled(taskIndex)) return undefined;
    const task = job.tasks.at(taskIndex);
    // A task already running here (a backup this node ran before it claimed the range) waits
    // for its copy like any running task.
    if (task && !task.queued && task.leases.length === 0) {
      task.queued = true;
      job.queue.push(taskIndex);
    }
    return task;
  };
  for (const { taskIndex, attempts: spent, drops } of attempts) {
    const task = touch(taskIndex);
    if (task) Object.assign(task, { attempts: spent, drops });
  }
  for (const { taskIndex, checkpoint } of checkpoints) {
    const task = touch(taskIndex);
    if (task) task.checkpoint = checkpoint;
  }
}
