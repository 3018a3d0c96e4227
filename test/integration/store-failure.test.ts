/**
 * @module A store that fails a write: the coordinator reports it through `onFatal` (where
 * `main.ts` exits) and takes no more work, since its memory is ahead of the durable record.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, resultLines, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit, defer } = useHarness();

/** Makes every result write to the coordinator's SQLite file fail, as a full disk would. */
function failResultWrites(dataDir: string): void {
  const db = new Database(path.join(dataDir, 'browsergrid.db'));
  try {
    db.exec(
      "CREATE TRIGGER fail_results BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END",
    );
  } finally {
    db.close();
  }
}

describe('a failed store write', () => {
  it('reaches onFatal, and the coordinator then refuses results, jobs and new tabs', async () => {
    let fatal: (error: unknown) => void = () => undefined;
    const reported = new Promise<unknown>((resolve) => (fatal = resolve));
    const server = await coordinator({ onFatal: (error) => fatal(error) });
    const tab = await volunteer(server, { slots: 1, answer: 'silent' });
    const spec = { map: '(x) => x', inputs: ['a', 'b'] };
    const job = await submit(server, spec);
    await tab.until(() => tab.received.length > 0, 10_000, 'a task');
    const [task] = tab.received;
    if (!task) throw new Error('no task');
    failResultWrites(server.dataDir);

    const ack = await tab.report([
      {
        leaseId: task.leaseId,
        jobId: job.id,
        taskIndex: task.taskIndex,
        durationMs: 1,
        outcome: { status: 'ok', items: [{ output: 'a' }] },
      },
    ]);
    // Not acknowledged: the tab keeps the result for the coordinator's restart.
    expect(ack.ok).toBe(false);
    const error = await Promise.race([
      reported,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no onFatal')), 10_000)),
    ]);
    expect(String(error)).toContain('disk full (test)');

    const refused = await api<{ error: { message: string } }>(server, 'POST', '/api/jobs', spec);
    expect(refused.status).toBe(500);
    expect(refused.body.error.message).toContain('takes no more work');
    const late = await SimTab.connect(server.url).then(
      (sim) => {
        defer(() => sim.close());
        return 'accepted';
      },
      (rejection: unknown) => String(rejection),
    );
    expect(late).toContain('takes no more work');
    // The process is still up: stopping it is main.ts's call, not the engine's.
    expect((await api(server, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('a claim whose answer is lost', () => {
  it('runs the range the store holds for the node all the same: the job completes', async () => {
    const server = await coordinator();
    const { store } = server;
    const claimTasks = store.claimTasks.bind(store);
    let lost = 0;
    // The claim commits; its answer does not arrive, as when the connection drops just then.
    store.claimTasks = async (...args) => {
      const ranges = await claimTasks(...args);
      if (lost++ > 0) return ranges;
      throw new Error('Connection terminated unexpectedly');
    };
    await volunteer(server, { slots: 2 });
    const job = await submit(server, {
      map: '(x) => x * 3',
      inputs: { range: { start: 0, end: 40 } },
    });
    expect(await waitForJob(server, job.id, undefined, 20_000)).toMatchObject({
      status: 'completed',
      done: 40,
    });
    expect(lost).toBeGreaterThan(1);
    expect(await resultLines(server, job.id)).toEqual(
      Array.from({ length: 40 }, (_, index) => ({ index, output: index * 3 })),
    );
  });
});
