import { describe, expect, it } from 'vitest';
import { RETRY_SCAN_LIMIT, retryLength, takeTask } from '../../server/scheduling/job-queue.ts';
import { Scheduler } from '../../server/scheduling/scheduler.ts';
import type { JobEntry, TaskEntry } from '../../server/scheduling/state.ts';
import { JobSpec } from '../../shared/job.ts';

/** A job of `n` tasks whose every task waits for another copy (as after a failure). */
function jobWaitingOnRetries(n: number): JobEntry {
  const scheduler = new Scheduler({ random: () => 0.5 });
  const spec = JobSpec.parse({ map: '(x) => x', inputs: Array.from({ length: n }, (_, i) => i) });
  const job = scheduler.addJob('j', spec, 0, []) as JobEntry;
  // A take nobody may serve moves each first copy to the retry list once.
  expect(takeTask(job, () => false)).toBeUndefined();
  expect(retryLength(job)).toBe(n);
  return job;
}

describe('takeTask', () => {
  it('checks at most RETRY_SCAN_LIMIT waiting retries per take, however many wait', () => {
    const job = jobWaitingOnRetries(20_000);
    let checks = 0;
    for (let take = 0; take < 1_000; take++) {
      const before = checks;
      takeTask(job, () => {
        checks++;
        return false;
      });
      expect(checks - before).toBeLessThanOrEqual(RETRY_SCAN_LIMIT);
    }
    expect(job.retryCut).toBe(true);
    expect(retryLength(job)).toBe(20_000);
  });

  it('reaches an eligible retry far back within a bounded number of takes', () => {
    const n = 2_000;
    const job = jobWaitingOnRetries(n);
    const wanted = n - 1;
    let checks = 0;
    let taken: number | undefined;
    let takes = 0;
    while (taken === undefined && takes < n) {
      takes++;
      taken = takeTask(job, (task: TaskEntry) => {
        checks++;
        return task === job.tasks.at(wanted);
      });
    }
    expect(taken).toBe(wanted);
    expect(takes).toBe(Math.ceil(n / RETRY_SCAN_LIMIT));
    expect(checks).toBe(n);
    expect(retryLength(job)).toBe(n - 1);
  });
});
