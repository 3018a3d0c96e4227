/**
 * @module Judging a results message one result at a time. A tab's outbox resends what the
 * coordinator neither took nor refused, so refusing a whole message for one malformed result kept
 * the good ones from committing and the bad one coming back for ever. Each result is checked
 * against TaskResult alone; one that fails but names a well-formed lease is refused by that lease
 * (the ack's `refused`, which the tab forgets); its copy then runs out its time like any copy
 * whose tab never answers. A message with nothing valid in it is still refused whole, naming the
 * field (the page drops such a message rather than resending it).
 */
import { z } from 'zod';
import { LeaseId, TaskResult } from '../../shared/protocol.ts';
import { describeIssue } from './validate.ts';

export interface ResultTriage {
  valid: TaskResult[];
  /** Leases of malformed results. */
  refused: string[];
  /** The first malformed result's issue, for the log, the refusal count and the ack. */
  issue?: { message: string; field?: string };
}

export function triageResults(results: readonly unknown[]): ResultTriage {
  const triage: ResultTriage = { valid: [], refused: [] };
  results.forEach((result, i) => {
    const parsed = TaskResult.safeParse(result);
    if (parsed.success) {
      triage.valid.push(parsed.data);
      return;
    }
    if (!triage.issue) {
      // Named from the message's root, as a refusal of the whole message names it.
      const issues = parsed.error.issues.map((issue) => ({
        ...issue,
        path: ['results', i, ...issue.path],
      }));
      triage.issue = describeIssue(new z.ZodError(issues));
    }
    const leaseId = LeaseId.safeParse(
      typeof result === 'object' && result !== null && Object.hasOwn(result, 'leaseId')
        ? (result as { leaseId: unknown }).leaseId
        : undefined,
    );
    if (leaseId.success) triage.refused.push(leaseId.data);
  });
  return triage;
}
