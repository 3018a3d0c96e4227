/**
 * @module A job's queues of tasks waiting for a copy, as pure functions over its state: tasks
 * with no copy yet wait in `queue` (FIFO from `queueHead`), tasks wanting another copy (a retry,
 * a replica, a backup) in `retry`, served first.
 */
import { countVoters } from './ballots.ts';
import type { JobEntry, TaskEntry } from './state.ts';

/** Files a task for another copy; a no-op if it is already filed or settled. */
export function requeue(job: JobEntry, taskIndex: number, front: boolean): void {
  const task = job.tasks[taskIndex] as TaskEntry;
  if (task.queued || task.status !== 'pending') return;
  task.queued = true;
  if (front) job.retry.push(taskIndex);
  else job.queue.push(taskIndex);
}

/** Whether the task wants one more live copy: fewer copies and agreeing results than its quorum. */
export function needsCopy(job: JobEntry, task: TaskEntry): boolean {
  if (task.status !== 'pending') return false;
  let agreeing = 0;
  if (task.votes) {
    for (const vote of task.votes.values())
      agreeing = Math.max(agreeing, countVoters(vote, job.spec.distinctAddresses));
  }
  const wanted = (task.quorum ?? job.spec.redundancy) + (task.backup ? 1 : 0);
  return task.leases.length + agreeing < wanted;
}

/**
 * Takes the next task of `job` that `mayRun` allows, or undefined. Retries come first, oldest
 * first; the retry list stays short, so scanning it is cheap. O(1) per first copy.
 */
export function takeTask(job: JobEntry, mayRun: (task: TaskEntry) => boolean): number | undefined {
  for (let i = 0; i < job.retry.length; i++) {
    const taskIndex = job.retry[i] as number;
    const task = job.tasks[taskIndex] as TaskEntry;
    if (!needsCopy(job, task)) {
      job.retry.splice(i--, 1);
      task.queued = false;
      continue;
    }
    if (!mayRun(task)) continue;
    job.retry.splice(i, 1);
    task.queued = false;
    return taskIndex;
  }
  // The first-copy queue only holds tasks with no copy yet, so any tab may take its head;
  // entries settled or re-filed meanwhile are skipped.
  while (job.queueHead < job.queue.length) {
    const taskIndex = job.queue[job.queueHead++] as number;
    const task = job.tasks[taskIndex] as TaskEntry;
    if (!task.queued || task.status !== 'pending') continue;
    if (!mayRun(task)) {
      job.retry.push(taskIndex);
      continue;
    }
    task.queued = false;
    return taskIndex;
  }
  if (job.queueHead > 0 && job.queueHead === job.queue.length) {
    job.queue = [];
    job.queueHead = 0;
  }
  return undefined;
}

/** Whether nothing of the job waits for a first copy or another one. */
export function isQueueEmpty(job: JobEntry): boolean {
  return job.queueHead >= job.queue.length && job.retry.length === 0;
}

/** Finished run times kept per job for the speculation median. */
const DURATION_SAMPLE_SIZE = 501;

/** Keeps a uniform sample of every finished copy's run time in bounded memory (reservoir). */
export function sampleDuration(job: JobEntry, durationMs: number, random: () => number): void {
  job.durationCount++;
  if (job.durations.length < DURATION_SAMPLE_SIZE) job.durations.push(durationMs);
  else {
    const slot = Math.floor(random() * job.durationCount);
    if (slot < DURATION_SAMPLE_SIZE) job.durations[slot] = durationMs;
  }
}
