import { describe, expect, it } from 'vitest';
import type { JobCreated, JobSummary } from '../../shared/job.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import {
  api,
  startCoordinator,
  waitForJobSummary,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const { defer } = useHarness();

async function setup(): Promise<TestCoordinator> {
  const server = await startCoordinator({ config: { reduceTimeLimitMs: 1_000 } });
  defer(() => server.close());
  const sim = await SimTab.connect(server.url, { slots: 4 });
  defer(() => sim.close());
  return server;
}

async function reduced(
  server: TestCoordinator,
  spec: Record<string, unknown>,
): Promise<JobSummary['reduce']> {
  const { status, body } = await api<JobCreated>(server, 'POST', '/api/jobs', spec);
  expect(status, JSON.stringify(body)).toBe(201);
  const summary = await waitForJobSummary<JobSummary>(
    server,
    body.id,
    (s) => {
      const reduce = (s as JobSummary).reduce;
      return reduce !== undefined && reduce.status !== 'pending';
    },
    15_000,
    'the reduce',
  );
  return summary.reduce;
}

describe('reduce', () => {
  it('folds the outputs in input order once the job completes', async () => {
    const server = await setup();
    expect(
      await reduced(server, {
        map: '(x) => x * x',
        inputs: { range: { start: 0, end: 1500 } },
        chunkSize: 7,
        reduce: { fn: '(acc, x, i) => acc + x * (i % 2 === 0 ? 1 : -1)', initial: 0 },
      }),
    ).toEqual({
      status: 'done',
      value: Array.from({ length: 1500 }, (_, i) => i * i * (i % 2 === 0 ? 1 : -1)).reduce(
        (a, b) => a + b,
        0,
      ),
    });
    expect(
      await reduced(server, {
        map: '(w) => w.length',
        inputs: ['a', 'bb', 'ccc'],
        reduce: { fn: '(acc, n) => acc.concat([n])', initial: [] },
      }),
    ).toEqual({ status: 'done', value: [1, 2, 3] });
  });

  it('ends as an error that says why: a throw, a timeout, an item without output', async () => {
    const server = await setup();
    expect(
      await reduced(server, {
        map: '(x) => x',
        inputs: [1, 2],
        reduce: { fn: '(acc, x) => { throw new Error("nope") }' },
      }),
    ).toEqual({
      status: 'error',
      error: expect.stringMatching(/reduce threw: nope/),
    });
    expect(
      await reduced(server, {
        map: '(x) => x',
        inputs: [1],
        reduce: { fn: '(acc) => { for (;;) {} }' },
      }),
    ).toEqual({
      status: 'error',
      error: expect.stringMatching(/longer than 1000 ms/),
    });
    expect(
      await reduced(server, {
        map: '(x) => { if (x === 2) throw new Error("bad"); return x }',
        inputs: [1, 2, 3],
        maxAttempts: 1,
        reduce: { fn: '(acc, x) => acc + x', initial: 0 },
      }),
    ).toEqual({ status: 'error', error: expect.stringMatching(/item 1 has no output/) });
  });

  it('refuses a reduce that is not a function at submit', async () => {
    const server = await setup();
    for (const fn of ['(acc, x) =>', 'export default (a) => a', '42']) {
      const { status, body } = await api(server, 'POST', '/api/jobs', {
        map: '(x) => x',
        inputs: [1],
        reduce: { fn },
      });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { field: 'reduce.fn' } });
    }
  });
});
