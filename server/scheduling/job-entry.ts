/**
 * @module A job's in-memory entry, built fresh at submission or from the store at a restart.
 */
import type { JobSpec, JobStatus } from '../../shared/job.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import { resolveSpeculation } from '../../shared/speculation.ts';
import type { InputSource } from '../store/input-source.ts';
import { countTasks } from './sharder.ts';
import type { JobEntry, TaskEntry } from './state.ts';

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
}

/** A job's entry with every task pending and queued, none settled. */
export function newJobEntry(
  jobId: string,
  seq: number,
  spec: JobSpec,
  status: JobStatus,
  createdAt: number,
  inputs: InputSource,
): JobEntry {
  const items = inputs.items;
  const speculation = resolveSpeculation(spec.speculation);
  const taskCount = countTasks(items, spec.chunkSize);
  const tasks: TaskEntry[] = new Array<TaskEntry>(taskCount);
  for (let i = 0; i < taskCount; i++) {
    tasks[i] = { status: 'pending', attempts: 0, drops: 0, leases: [], queued: true, copies: 0 };
  }
  const job: JobEntry = {
    jobId,
    seq,
    spec,
    inputs,
    items,
    taskCount,
    status,
    tasks,
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

/** Settles, charges and checkpoints an entry's tasks as the store recorded them, and queues the rest. */
export function applyRestored(job: JobEntry, restored: RestoredJob): void {
  job.startedAt = restored.startedAt;
  for (const { taskIndex, status } of restored.settled) {
    const task = job.tasks[taskIndex];
    if (!task || task.status !== 'pending') continue;
    task.status = status;
    if (status === 'committed') job.done++;
    else job.failed++;
  }
  for (const { taskIndex, attempts, drops } of restored.attempts) {
    const task = job.tasks[taskIndex];
    if (task) Object.assign(task, { attempts, drops });
  }
  for (const { taskIndex, checkpoint } of restored.checkpoints ?? []) {
    const task = job.tasks[taskIndex];
    if (task?.status === 'pending') task.checkpoint = checkpoint;
  }
  job.tasks.forEach((task, index) => {
    if (task.status === 'pending') {
      task.queued = true;
      job.queue.push(index);
    }
  });
}
