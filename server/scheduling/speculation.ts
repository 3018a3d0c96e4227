/**
 * @module Speculation policy: when to start a backup copy of a running task. Pure; the
 * scheduler feeds it a job's finished-task statistics and its running copies.
 *
 * Two rules, after Spark's speculation and MapReduce's end-of-job backups:
 * - straggler: once `quantile` of the job's tasks have finished, a task whose only copy has run
 *   longer than `multiplier` x the median finished task (and at least `minRuntimeMs`) gets a
 *   backup; at most `maxShare` of the running tasks are backed up at once (at least one).
 * - end game: when nothing of the job waits in the queue and tabs sit idle, the oldest copies
 *   (held longer than the median, and at least `minRuntimeMs`, counting time queued in the tab)
 *   get backups, one per idle tab. Idle capacity costs nothing, and the job's tail is exactly
 *   where one slow or vanished tab would otherwise hold everyone up.
 * The first valid result commits; the other copies are told to stop.
 */
import type { SpeculationPolicy } from '../../shared/speculation.ts';
import { isQueueEmpty, requeue } from './job-queue.ts';
import type { JobEntry, Lease, TaskEntry } from './state.ts';

export interface CopyView {
  taskIndex: number;
  /** Since the copy started running in its tab; undefined while it waits in the tab's queue. */
  runtimeMs?: number;
  /** Since the copy was dispatched. */
  ageMs: number;
}

export interface SpeculationInput {
  policy: SpeculationPolicy;
  taskCount: number;
  finished: number;
  /** Median run time of finished tasks, if any finished. */
  medianMs?: number;
  /** Tasks with exactly one live copy and no backup yet. */
  single: readonly CopyView[];
  /** Tasks currently running with a backup. */
  backedUp: number;
  /** Tasks with at least one live copy. */
  running: number;
  /** Nothing of this job waits for a first copy. */
  queueEmpty: boolean;
  /** Tabs that could take a copy of this job right now. */
  idleTabs: number;
}

/** Task indices to back up now, most overdue first. */
export function pickBackups(input: SpeculationInput): number[] {
  const { policy } = input;
  const picked = new Set<number>();
  if (input.medianMs !== undefined && input.finished >= policy.quantile * input.taskCount) {
    const threshold = Math.max(policy.minRuntimeMs, policy.multiplier * input.medianMs);
    const budget = Math.max(1, Math.floor(policy.maxShare * input.running)) - input.backedUp;
    const overdue = input.single
      .filter((copy) => copy.runtimeMs !== undefined && copy.runtimeMs > threshold)
      .sort((a, b) => (b.runtimeMs ?? 0) - (a.runtimeMs ?? 0));
    for (const copy of overdue.slice(0, Math.max(0, budget))) picked.add(copy.taskIndex);
  }
  if (policy.endGame && input.queueEmpty && input.idleTabs > picked.size) {
    const threshold = Math.max(policy.minRuntimeMs, input.medianMs ?? 0);
    const oldest = input.single
      .filter((copy) => !picked.has(copy.taskIndex) && copy.ageMs > threshold)
      .sort((a, b) => b.ageMs - a.ageMs);
    for (const copy of oldest.slice(0, input.idleTabs - picked.size)) picked.add(copy.taskIndex);
  }
  return [...picked];
}

/** Marks the tasks the policy picks for a backup and queues them again; returns whether any. */
export function queueBackups(
  job: JobEntry,
  policy: SpeculationPolicy,
  leaseOf: (leaseId: string) => Lease | undefined,
  idleTabs: number,
  now: number,
): boolean {
  const picks = pickBackups(speculationInput(job, policy, leaseOf, idleTabs, now));
  for (const taskIndex of picks) {
    (job.tasks.at(taskIndex) as TaskEntry).backup = true;
    requeue(job, taskIndex, true);
  }
  return picks.length > 0;
}

/**
 * What the policy needs to know about a job now: its finished-task statistics and the age of
 * each task's single live copy. O(tasks in flight).
 */
export function speculationInput(
  job: JobEntry,
  policy: SpeculationPolicy,
  leaseOf: (leaseId: string) => Lease | undefined,
  idleTabs: number,
  now: number,
): SpeculationInput {
  const single: CopyView[] = [];
  let backedUp = 0;
  for (const taskIndex of job.running) {
    const task = job.tasks.peek(taskIndex);
    if (!task || task.borrowed) continue;
    if (task.backup) {
      backedUp++;
      continue;
    }
    if (task.leases.length !== 1 || task.queued) continue;
    const lease = leaseOf(task.leases[0] as string);
    if (!lease) continue;
    single.push({
      taskIndex,
      ageMs: now - lease.dispatchedAt,
      ...(lease.startedAt !== undefined ? { runtimeMs: now - lease.startedAt } : {}),
    });
  }
  const medianMs = median(job.durations);
  return {
    policy,
    taskCount: job.taskCount,
    finished: job.done + job.failed,
    ...(medianMs !== undefined ? { medianMs } : {}),
    single,
    backedUp,
    running: job.running.size,
    queueEmpty: isQueueEmpty(job),
    idleTabs,
  };
}

/** Median of a sample; undefined when empty. */
export function median(sample: readonly number[]): number | undefined {
  if (sample.length === 0) return undefined;
  const sorted = [...sample].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
