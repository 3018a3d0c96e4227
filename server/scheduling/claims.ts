/**
 * @module How a node's share of a shared job grows: it holds only the task ranges it claimed
 * from the store (see server/store/cluster.ts), asks for more while its tabs could run them, and
 * puts what the store kept for a range (settled tasks, attempts, checkpoints) back in place.
 * Pure: the engine does the claiming and hands the ranges in.
 */
import type { ClaimedRange, RangeState } from '../store/cluster.ts';
import { putBack } from './job-entry.ts';
import { queueLength, retryLength } from './job-queue.ts';
import type { JobEntry } from './state.ts';

/** Fewest and most tasks one claim asks for. */
const MIN_CLAIM = 64;
const MAX_CLAIM = 16_384;

/**
 * Tasks one claim asks for: 16 per slot of the node's tabs, so a claim lasts its tabs a while
 * (their prefetch holds up to a few per slot for tasks of a second) without taking so much of a
 * job that other nodes' tabs starve, or that a node lost costs much to re-run.
 */
export function claimSize(totalSlots: number): number {
  return Math.min(MAX_CLAIM, Math.max(MIN_CLAIM, totalSlots * 16));
}

/**
 * Shared jobs this node should claim more of: it has tabs that may run them (its grid's, for a
 * grid's job), its waiting work is under half a claim, and the job may have more to take.
 */
export function claimNeeds(
  ordered: readonly JobEntry[],
  slotsFor: (grid: string | undefined) => number,
): Array<{ jobId: string; tasks: number }> {
  const needs: Array<{ jobId: string; tasks: number }> = [];
  for (const job of ordered) {
    if (!job.shared || job.claimsExhausted || job.status === 'cancelled') continue;
    // Tasks claimed with no tab to run them are kept from the nodes that have some.
    const slots = slotsFor(job.spec.grid);
    if (slots <= 0) continue;
    const size = claimSize(slots);
    if (queueLength(job) + retryLength(job) * 2 >= size / 2) continue;
    needs.push({ jobId: job.jobId, tasks: size });
  }
  return needs;
}

/**
 * Adds a claimed range to a shared job: its settled tasks stay out, its other tasks become this
 * node's, and those with attempts or a checkpoint saved go back on their entries and queue first.
 */
export function addClaimedRange(job: JobEntry, range: ClaimedRange, state: RangeState): void {
  job.tasks.addRange(range.start, range.end, state.settled);
  putBack(
    job,
    state.attempts,
    state.checkpoints,
    (taskIndex) => taskIndex >= range.start && taskIndex < range.end,
  );
}
