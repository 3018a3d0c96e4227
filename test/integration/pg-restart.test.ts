/**
 * PostgreSQL restarted mid-job: the nodes wait for it and resume, and nothing is lost or
 * committed twice. Two coordinators in child processes, so a node that dies shows as an exit.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/engine/group-commit.ts';
import { StoreReachability } from '../../server/engine/reachability.ts';
import { createRootLog } from '../../server/log.ts';
import { createPgStore } from '../../server/store/pg-store.ts';
import type { StoreChange } from '../../server/store/store.ts';
import { JobSpec, type JobCreated } from '../../shared/job.ts';
import { startChildCoordinator, type ChildCoordinator } from '../support/child-coordinator.ts';
import { within } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { api, resultLines, waitFor, waitForJob } from '../support/start-coordinator.ts';
import { committed } from '../support/store-changes.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit, defer } = useHarness();

const HEARTBEAT_MS = 200;
const SILENT_MS = 1_500;
const TASKS = 600;

async function node(databaseUrl: string): Promise<ChildCoordinator> {
  const child = await startChildCoordinator({
    BROWSERGRID_DATABASE_URL: databaseUrl,
    BROWSERGRID_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    BROWSERGRID_NODE_SILENT_MS: String(SILENT_MS),
  });
  defer(async () => void (await child.stop()));
  return child;
}

/** `promise`, failing with both nodes' logs appended: what they did is the clue. */
async function withLogs<T>(promise: Promise<T>, nodes: ChildCoordinator[]): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    const logs = nodes.map((child, index) => `--- node ${index + 1}:\n${child.output()}`);
    throw new Error(`${String(error)}\n${logs.join('\n')}`, { cause: error });
  }
}

/** Rows of the job in the results table, and how many distinct tasks they are. */
async function countResults(
  databaseUrl: string,
  jobId: string,
): Promise<{ rows: number; tasks: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ rows: number; tasks: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT task_index)::int AS tasks FROM results WHERE job_id = $1',
      [jobId],
    );
    return rows[0] as { rows: number; tasks: number };
  } finally {
    await client.end();
  }
}

const settle = (jobId: string, taskIndex: number): StoreChange =>
  committed(jobId, taskIndex, 2_000);

describe('a group commit while PostgreSQL is stopped', () => {
  it('keeps the batch and commits it once the server is back; a batch refused for another reason still fails at once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const log = createRootLog('silent');
    const store = await createPgStore({ connectionString: databaseUrl, log });
    defer(() => store.close());
    const spec = JobSpec.parse({ map: '(x) => x', inputs: [1, 2], chunkSize: 1 });
    await store.createJob({ jobId: 'j', spec, status: 'queued', items: 2, tasks: 2, createdAt: 1 });
    const reachability = new StoreReachability(log);
    const commits = new GroupCommit(store, undefined, undefined, reachability);

    await postgres.stop();
    let committed = false;
    const durable = commits.commit([settle('j', 0)]).then(() => (committed = true));
    await waitFor(async () => reachability.down || undefined, 10_000, 'the outage to be seen');
    expect(commits.backlog).toBe(1);
    await postgres.start();
    await within(durable, 10_000, 'the batch to commit after the restart');
    expect(committed).toBe(true);
    expect(reachability.down).toBe(false);
    expect(await store.settledTasks('j')).toEqual([{ taskIndex: 0, status: 'committed' }]);

    await expect(commits.commit([settle('no-such-job', 0)])).rejects.toThrow(/not in the store/);
    expect(reachability.down).toBe(false);
  });
});

describe('a node stopped while PostgreSQL is away', () => {
  it('does not wait for the database: it stops with its results unacknowledged, for its tabs to send again', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const server = await coordinator({ config: { databaseUrl } });
    const tab = await volunteer(server, { slots: 2, taskMs: 500 });
    await submit(server, {
      map: '(x) => x',
      inputs: { range: { start: 0, end: 20 } },
      chunkSize: 1,
    });
    await tab.until(() => tab.stats.received >= 2, 10_000, 'the tab to hold tasks');
    await postgres.stop();
    // Polled: nothing comes back to the tab while the database is away.
    await waitFor(
      async () => tab.stats.resultsSent >= 2 || undefined,
      10_000,
      'results sent during the outage',
    );
    await within(server.stop(), 5_000, 'the node to stop');
    expect(tab.stats.acked).toBe(0);
  });
});

describe('PostgreSQL restarted mid-job', () => {
  it('has both nodes wait through an outage longer than the silence limit, resume, and commit every result once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const [a, b] = await Promise.all([node(databaseUrl), node(databaseUrl)]);
    const onA = await volunteer(a, { slots: 4, taskMs: 40 });
    const onB = await volunteer(b, { slots: 4, taskMs: 40 });
    const { status, body: job } = await api<JobCreated>(a, 'POST', '/api/jobs', {
      map: '(x) => x * 2',
      inputs: { range: { start: 0, end: TASKS } },
      chunkSize: 1,
    });
    expect(status).toBe(201);
    await onA.until(
      () => onA.stats.acked + onB.stats.acked >= 60,
      15_000,
      'some results committed',
    );

    await postgres.stop();
    // Every node is cut off together, for longer than a node may be silent before it is reaped.
    await withLogs(
      waitFor(
        async () =>
          /database is unreachable/.test(a.output()) && /database is unreachable/.test(b.output())
            ? true
            : undefined,
        10_000,
        'both nodes to notice the database is gone',
      ),
      [a, b],
    );
    const ackedBefore = { a: onA.stats.acked, b: onB.stats.acked };
    const receivedBefore = { a: onA.stats.received, b: onB.stats.received };
    // The outage itself: a length of time, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, SILENT_MS * 2));
    // Nothing is acknowledged that is not committed.
    expect({ a: onA.stats.acked, b: onB.stats.acked }).toEqual(ackedBefore);
    // And no new work goes out while results cannot be committed.
    expect({ a: onA.stats.received, b: onB.stats.received }).toEqual(receivedBefore);
    expect(a.exit()).toBeUndefined();
    expect(b.exit()).toBeUndefined();
    await postgres.start();

    expect(await withLogs(waitForJob(a, job.id, undefined, 20_000), [a, b])).toMatchObject({
      status: 'completed',
      done: TASKS,
    });
    expect(await withLogs(waitForJob(b, job.id, undefined, 10_000), [a, b])).toMatchObject({
      status: 'completed',
      done: TASKS,
    });
    expect(await countResults(databaseUrl, job.id)).toEqual({ rows: TASKS, tasks: TASKS });
    expect(await resultLines(b, job.id)).toEqual(
      Array.from({ length: TASKS }, (_, index) => ({ index, output: index * 2 })),
    );
    // Both nodes went on running tasks after the restart, and both said when the database was back.
    expect(onA.stats.acked).toBeGreaterThan(ackedBefore.a);
    expect(onB.stats.acked).toBeGreaterThan(ackedBefore.b);
    expect(a.exit()).toBeUndefined();
    expect(b.exit()).toBeUndefined();
    expect(a.output()).toMatch(/database is reachable again/);
    expect(b.output()).toMatch(/database is reachable again/);
  }, 60_000);
});
