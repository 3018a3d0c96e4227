import { describe, expect, it } from 'vitest';
import { Ballots } from '../../server/scheduling/ballots.ts';
import { newJobEntry } from '../../server/scheduling/job-entry.ts';
import { readResult, revokesQuorum, ruleOnAnswer } from '../../server/scheduling/settle-rule.ts';
import { inlineInputs } from '../../server/jobs/inline-inputs.ts';
import type { TaskEntry } from '../../server/scheduling/state.ts';
import { JobSpec, type ItemOutcome, type JobSpecInput } from '../../shared/job.ts';
import type { TaskResult } from '../../shared/protocol.ts';

function jobOf(spec: Partial<JobSpecInput> = {}) {
  const parsed = JobSpec.parse({ map: '(x) => x', inputs: [1, 2, 3], chunkSize: 2, ...spec });
  return newJobEntry('job-1', 1, parsed, 'running', 0, inlineInputs(parsed.inputs));
}

const result = (taskIndex: number, outcome: TaskResult['outcome']): TaskResult => ({
  leaseId: 'L1',
  jobId: 'job-1',
  taskIndex,
  durationMs: 10,
  outcome,
});

const answer = (...outputs: number[]): ItemOutcome[] => outputs.map((output) => ({ output }));

describe('readResult', () => {
  it('reads an error report as a failure with no items', () => {
    expect(readResult(jobOf(), result(0, { status: 'error', message: 'boom' }))).toEqual({
      failure: 'boom',
    });
  });

  it('reads the wrong number of items as a failure, counting against the last short task too', () => {
    const job = jobOf();
    expect(readResult(job, result(1, { status: 'ok', items: answer(3, 4) })).failure).toBe(
      '[task]: reported 2 outcomes for a task of 1 items',
    );
  });

  it('reads a complete report with a failed item as a failure that keeps every item', () => {
    const items = [{ output: 1 }, { error: 'bad item' }];
    expect(readResult(jobOf(), result(0, { status: 'ok', items }))).toEqual({
      failure: 'bad item',
      items,
    });
  });

  it('reads a complete report of outputs as an answer', () => {
    expect(readResult(jobOf(), result(0, { status: 'ok', items: answer(1, 2) }))).toEqual({
      items: answer(1, 2),
    });
  });
});

describe('ruleOnAnswer', () => {
  function voted(redundancy: number, maxAttempts: number, answers: ItemOutcome[][]) {
    const job = jobOf({ redundancy, maxAttempts });
    const ballots = new Ballots();
    let agreeing = 0;
    answers.forEach((items, i) => (agreeing = ballots.cast(job, 0, items, `device-${i}`)));
    return { job, task: job.tasks.at(0) as TaskEntry, agreeing };
  }

  it('commits an answer that reached the quorum, as the winner', () => {
    const { job, task, agreeing } = voted(2, 3, [answer(1, 2), answer(1, 2)]);
    expect(ruleOnAnswer(job, task, answer(1, 2), 2, agreeing)).toEqual({
      verdict: 'committed',
      items: answer(1, 2),
      won: true,
    });
  });

  it('asks for another copy while disagreement has attempts left', () => {
    const { job, task, agreeing } = voted(2, 3, [answer(1, 2), answer(9, 9)]);
    expect(ruleOnAnswer(job, task, answer(9, 9), 2, agreeing)).toEqual({ verdict: 'voted' });
  });

  it('commits a strict majority once the attempts are spent, not as this answer winning', () => {
    const { job, task, agreeing } = voted(3, 1, [answer(1, 2), answer(1, 2), answer(9, 9)]);
    expect(ruleOnAnswer(job, task, answer(9, 9), 3, agreeing)).toEqual({
      verdict: 'committed',
      items: answer(1, 2),
      won: false,
    });
  });

  it('gives the task up when the attempts are spent without a strict majority', () => {
    const { job, task, agreeing } = voted(2, 2, [answer(1, 2), answer(9, 9), answer(5, 5)]);
    expect(ruleOnAnswer(job, task, answer(5, 5), 2, agreeing)).toEqual({
      verdict: 'failed',
      reason: 'no majority among 3 results from distinct devices (3 different answers)',
    });
  });

  it('decides without writing to the task', () => {
    const { job, task, agreeing } = voted(2, 2, [answer(1, 2), answer(9, 9), answer(5, 5)]);
    const before = structuredClone({ ...task, votes: [...(task.votes ?? [])] });
    ruleOnAnswer(job, task, answer(5, 5), 2, agreeing);
    expect({ ...task, votes: [...(task.votes ?? [])] }).toEqual(before);
  });
});

describe('revokesQuorum', () => {
  it('revokes a lowered quorum for any device but the trusted one it was granted to', () => {
    const task = { quorumDevice: 'trusted' } as TaskEntry;
    expect(revokesQuorum(task, 'trusted')).toBe(false);
    expect(revokesQuorum(task, 'other')).toBe(true);
    expect(revokesQuorum(task, undefined)).toBe(true);
    expect(revokesQuorum({} as TaskEntry, 'other')).toBe(false);
  });
});
