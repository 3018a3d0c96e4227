/**
 * An output the tab's worker accepts is one the coordinator accepts: deeper than MAX_JSON_DEPTH is
 * an item error in the tab, never a results frame that closes the tab's connection. The sim
 * volunteer stands in for the page: it checks outputs as the worker does.
 */
import { expect, it } from 'vitest';
import type { JsonValue } from '../../shared/json.ts';
import { MAX_JSON_DEPTH } from '../../shared/limits.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import { useHarness } from '../support/harness.ts';
import { nest } from '../support/hostile-json.ts';
import { SimTab } from '../support/sim-tab.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, submit, defer } = useHarness();

it('an output nested 100 deep ends as an item error naming the limit, and its tab stays connected', async () => {
  const server = await coordinator();
  const sims: SimTab[] = [];
  // A tab reconnects when its connection drops, as the page does.
  const reconnecting = async (): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      const sim = await SimTab.connect(server.url, { slots: 1 });
      sims.push(sim);
      await new Promise<void>((resolve) => sim.socket.once('disconnect', () => resolve()));
    }
  };
  defer(() => sims.forEach((sim) => sim.close()));
  void reconnecting().catch(() => undefined);
  const job = await submit(server, {
    map: '(x) => { let v = x; for (let i = 0; i < 100; i++) v = [v]; return v; }',
    inputs: [1, 2, 3],
  });
  const end = await waitForJob(server, job.id, undefined, 20_000).catch(() => 'no end in 20 s');
  // Every item is an error, so the job ends failed, as any job whose items all throw.
  expect(end).toMatchObject({ status: 'failed', failed: 3 });
  expect(sims).toHaveLength(1);
  const lines = await resultLines(server, job.id);
  expect(lines.map((line) => line['error'])).toEqual(
    [1, 2, 3].map(() => expect.stringContaining('MAX_JSON_DEPTH')),
  );
}, 40_000);

it('refuses a malformed result by its lease and takes the rest of its message, and the tab stays connected', async () => {
  const server = await coordinator();
  const sim = await SimTab.connect(server.url, { slots: 2, answer: 'silent' });
  defer(() => sim.close());
  const job = await submit(server, { map: '(x) => x', inputs: [1, 2] });
  await sim.until(() => sim.received.length === 2);
  const [good, bad] = sim.received.map(
    ({ leaseId, jobId, taskIndex }): Omit<TaskResult, 'outcome'> => ({
      leaseId,
      jobId,
      taskIndex,
      durationMs: 1,
    }),
  ) as [Omit<TaskResult, 'outcome'>, Omit<TaskResult, 'outcome'>];
  // One level over MAX_JSON_DEPTH: within the frame bound, so the message is parsed and judged.
  const tooDeep = nest(MAX_JSON_DEPTH + 1, 'array') as JsonValue;
  const ack = await sim.report([
    { ...good, outcome: { status: 'ok', items: [{ output: good.taskIndex + 1 }] } },
    { ...bad, outcome: { status: 'ok', items: [{ output: tooDeep }] } },
  ]);
  expect(ack).toEqual({ ok: true, data: { leaseIds: [good.leaseId], refused: [bad.leaseId] } });
  expect(sim.socket.connected).toBe(true);
  const lines = await resultLines(server, job.id);
  expect(lines).toHaveLength(1);
});
