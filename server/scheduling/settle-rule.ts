/**
 * @module The settle rule: what one result means for its task, given its votes, as pure data.
 *
 * Pure: it reads the job and the task and decides; the settler applies the ruling (ending the
 * copy, charging the failure, settling or asking for another copy) and returns the effects.
 */
import type { ItemOutcome } from '../../shared/job.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import { tally } from './ballots.ts';
import { taskSpan } from './sharder.ts';
import type { JobEntry, TaskEntry } from './state.ts';

/** A result read before any vote: a failure of the copy, or an answer to vote on. */
export type Reading =
  | {
      failure: string;
      /** Every item's outcome, when the copy reported all of them (some failed). */
      items?: ItemOutcome[];
    }
  | { failure?: undefined; items: ItemOutcome[] };

/** What an answer does to its task. */
export type Ruling =
  /** `won` when this answer reached the quorum; otherwise a majority decided after more copies. */
  | { verdict: 'committed'; items: ItemOutcome[]; won: boolean }
  | { verdict: 'failed'; reason: string }
  /** Not decided yet: the task needs another copy. */
  | { verdict: 'voted' };

/** Reads a result: an error, a per-item error, or the wrong number of items is a failure. */
export function readResult(job: JobEntry, result: TaskResult): Reading {
  const { outcome } = result;
  const { count } = taskSpan(job.items, job.spec.chunkSize, result.taskIndex);
  if (outcome.status === 'error') return { failure: outcome.message };
  if (outcome.items.length !== count) {
    return {
      failure: `[task]: reported ${outcome.items.length} outcomes for a task of ${count} items`,
    };
  }
  const failure = firstItemError(outcome.items);
  return failure === undefined ? { items: outcome.items } : { failure, items: outcome.items };
}

/**
 * Whether an answer from `deviceId` revokes the task's lowered quorum. Adaptive trust lowers it
 * for the trusted device it was granted to, not for whoever ends up holding a copy: once another
 * device answers (a retry, a backup), the task needs full agreement again, for good.
 */
export function revokesQuorum(task: TaskEntry, deviceId: string | undefined): boolean {
  return task.quorumDevice !== undefined && task.quorumDevice !== deviceId;
}

/**
 * Rules on an answer that `agreeing` voters (itself included) gave, against the task's votes.
 * Disagreement buys more copies, up to maxAttempts - 1 beyond the quorum; then a strict majority
 * of the results commits, and without one the task ends as an error.
 */
export function ruleOnAnswer(
  job: JobEntry,
  task: TaskEntry,
  items: ItemOutcome[],
  quorum: number,
  agreeing: number,
): Ruling {
  if (agreeing >= quorum) return { verdict: 'committed', items, won: true };
  const { total, best, bestVoters, answers } = tally(task, job.spec.distinctAddresses);
  if (total < quorum + job.spec.maxAttempts - 1) return { verdict: 'voted' };
  if (best && bestVoters * 2 > total)
    return { verdict: 'committed', items: best.items, won: false };
  return {
    verdict: 'failed',
    reason: `no majority among ${total} results from distinct devices (${answers} different answers)`,
  };
}

function firstItemError(items: ItemOutcome[]): string | undefined {
  for (const item of items) if ('error' in item) return item.error;
  return undefined;
}
