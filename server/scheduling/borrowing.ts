/**
 * @module Backups across nodes. A node holds only the ranges it claimed, so at a shared job's
 * end its tabs can sit idle while another node's tab straggles on the last tasks. Such a node
 * borrows some of the tasks other nodes hold and still owe (the store lists them), and runs one
 * backup copy of each: the result reaches it like any other, is forwarded to the holder
 * (server/engine/forwarder.ts), and the holder commits whichever result comes first. Nothing
 * about a borrowed task is written here: no settle, attempt or checkpoint, only the copy.
 * Pure: the engine asks the store and hands the tasks in.
 */
import { isQueueEmpty } from './job-queue.ts';
import type { JobEntry } from './state.ts';

/** Tasks of one job a node borrows at most: a tail's worth, not a second claim of the job. */
export const MAX_BORROWED = 4_096;

export interface BorrowNeed {
  jobId: string;
  /** New tasks to borrow. */
  tasks: number;
  /** Tasks borrowed before, which the store may list again (their copies may still run). */
  borrowed: number;
}

/**
 * Shared jobs whose tail this node could back up, and how many tasks (its idle slots): nothing
 * left to claim or to run here, and the job's speculation allows end-game backups. Only jobs
 * without redundancy: a replica's device must differ from its peers', which the holder alone
 * knows.
 */
export function borrowNeeds(
  ordered: readonly JobEntry[],
  idleSlotsFor: (grid: string | undefined) => number,
): BorrowNeed[] {
  const needs: BorrowNeed[] = [];
  for (const job of ordered) {
    // Queued here, too: a node whose tabs never ran a task of the job has not seen it start.
    if (!job.shared || !job.claimsExhausted || !isOpen(job)) continue;
    if (!job.speculation?.endGame || job.spec.redundancy > 1 || !isQueueEmpty(job)) continue;
    const borrowed = job.tasks.borrowedCount;
    if (borrowed >= MAX_BORROWED) continue;
    const idle = Math.min(idleSlotsFor(job.spec.grid), MAX_BORROWED - borrowed);
    if (idle > 0) needs.push({ jobId: job.jobId, tasks: idle, borrowed });
  }
  return needs;
}

/** Not finished or cancelled. */
export function isOpen(job: JobEntry): boolean {
  return job.status === 'queued' || job.status === 'running';
}

/**
 * Queues backups of up to `max` of these tasks other nodes hold, first in line, skipping any
 * borrowed before; returns how many were queued.
 */
export function addBorrowedTasks(
  job: JobEntry,
  taskIndexes: readonly number[],
  max: number,
): number {
  let added = 0;
  for (const taskIndex of taskIndexes) {
    if (added >= max) break;
    const task = job.tasks.borrow(taskIndex);
    if (!task) continue;
    // requeue refuses borrowed tasks (they never come back): file this one by hand.
    task.queued = true;
    job.retry.push(taskIndex);
    added++;
  }
  return added;
}
