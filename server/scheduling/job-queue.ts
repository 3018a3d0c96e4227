/**
 * @module A job's queues of tasks waiting for a copy, as pure functions over its state: tasks
 * wanting another copy (a retry, a replica, a backup) wait in `retry` (from `retryHead`) and are
 * served first; touched tasks filed again without priority wait in `queue` (FIFO from
 * `queueHead`); then come the tasks no copy has touched yet, lowest index first (`job.tasks`).
 */
import { countVoters } from './ballots.ts';
import type { JobEntry, TaskEntry } from './state.ts';

/** Files a task for another copy; a no-op if it is already filed or settled. */
export function requeue(job: JobEntry, taskIndex: number, front: boolean): void {
  const task = job.tasks.at(taskIndex);
  if (!task || task.queued || task.status !== 'pending') return;
  // A borrowed task gets one copy here; once that ended it is the holder's alone again.
  if (task.borrowed) {
    if (task.leases.length === 0) job.tasks.forgetBorrowed(taskIndex);
    return;
  }
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
 * Retry entries one take checks before it falls back to first copies. Without a bound a device
 * that failed thousands of tasks, each waiting for another device, made every one of its fills
 * scan them all: O(n^2) over a job (48 s of coordinator CPU for 20,000 tasks).
 */
export const RETRY_SCAN_LIMIT = 32;

/**
 * Takes the next task of `job` that `mayRun` allows, or undefined. Retries come first, oldest
 * first, checking at most RETRY_SCAN_LIMIT of them: when that many were checked in vain they go
 * to the back of the list, so the next take sees others, and `retryCut` asks the scheduler to
 * feed its waiting tabs again on its next tick. O(RETRY_SCAN_LIMIT) per take, amortized; O(1)
 * per first copy.
 */
export function takeTask(job: JobEntry, mayRun: (task: TaskEntry) => boolean): number | undefined {
  let checked = 0;
  let i = job.retryHead;
  while (i < job.retry.length) {
    if (checked === RETRY_SCAN_LIMIT) {
      rotate(job, i);
      job.retryCut = true;
      break;
    }
    checked++;
    const taskIndex = job.retry[i] as number;
    const task = job.tasks.at(taskIndex);
    if (!task || !needsCopy(job, task)) {
      removeRetry(job, i++);
      if (task) task.queued = false;
      continue;
    }
    if (!mayRun(task)) {
      i++;
      continue;
    }
    removeRetry(job, i);
    task.queued = false;
    return taskIndex;
  }
  // The queue holds tasks with no live copy, so any tab may take its head; entries settled or
  // re-filed meanwhile are skipped.
  while (job.queueHead < job.queue.length) {
    const taskIndex = job.queue[job.queueHead++] as number;
    const task = job.tasks.at(taskIndex);
    if (!task?.queued || task.status !== 'pending') continue;
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
  // An untouched task has no failures or votes, so any tab may run it; the check stays for
  // policies that look at the tab alone.
  while (job.tasks.freshCount > 0) {
    const taskIndex = job.tasks.takeFresh() as number;
    const task = job.tasks.at(taskIndex) as TaskEntry;
    if (!mayRun(task)) {
      task.queued = true;
      job.retry.push(taskIndex);
      continue;
    }
    return taskIndex;
  }
  return undefined;
}

/** Tasks waiting for their first copy, or for one again without priority. */
export function queueLength(job: JobEntry): number {
  return job.queue.length - job.queueHead + job.tasks.freshCount;
}

/** Tasks waiting for another copy. */
export function retryLength(job: JobEntry): number {
  return job.retry.length - job.retryHead;
}

/** Whether nothing of the job waits for a first copy or another one. */
export function isQueueEmpty(job: JobEntry): boolean {
  return queueLength(job) === 0 && retryLength(job) === 0;
}

/** Removes the retry entry at `at`, shifting the ones before it: O(at - retryHead). */
function removeRetry(job: JobEntry, at: number): void {
  for (let j = at; j > job.retryHead; j--) job.retry[j] = job.retry[j - 1] as number;
  job.retryHead++;
  compactRetry(job);
}

/** Moves the retry entries before `end` to the back, in order. */
function rotate(job: JobEntry, end: number): void {
  for (let j = job.retryHead; j < end; j++) job.retry.push(job.retry[j] as number);
  job.retryHead = end;
  compactRetry(job);
}

/** Drops the consumed front of the retry list once it is most of it: amortized O(1). */
function compactRetry(job: JobEntry): void {
  if (job.retryHead === job.retry.length) {
    job.retry = [];
    job.retryHead = 0;
  } else if (job.retryHead > 1024 && job.retryHead * 2 > job.retry.length) {
    job.retry = job.retry.slice(job.retryHead);
    job.retryHead = 0;
  }
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
