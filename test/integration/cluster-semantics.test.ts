/**
 * The job semantics hold across nodes: a checkpoint saved through a node that is then lost resumes
 * on another, a quorum counts votes that reached different nodes, and a reduce's value reads the
 * same on every node.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { answersTo } from '../support/cluster-probes.ts';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, resultLines, waitFor, waitForJob } from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit, defer } = useHarness();

const HEARTBEAT_MS = 200;
const SILENT_MS = 1_500;

async function countRows(databaseUrl: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe('job semantics across nodes', () => {
  it('resumes a task on another node from the checkpoint its copy saved through a node then killed', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const doomed = await startChildCoordinator({
      BROWSERGRID_DATABASE_URL: databaseUrl,
      BROWSERGRID_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      BROWSERGRID_NODE_SILENT_MS: String(SILENT_MS),
    });
    defer(async () => void (await doomed.stop()));
    const survivor = await coordinator({
      config: { databaseUrl, nodeHeartbeatMs: HEARTBEAT_MS, nodeSilentMs: SILENT_MS },
    });
    const first = await volunteer(doomed, { slots: 1, answer: 'silent' });
    const job = await submit(survivor, { map: '(x) => x * 10', inputs: [1, 2, 3], chunkSize: 3 });
    await first.until(() => first.received.length === 1, 10_000, 'the task on the doomed node');
    const [task] = first.received;
    const checkpoint = { item: 1, state: { note: 'one item done' }, done: [{ output: 10 }] };
    first.socket.emit('task:checkpoint', {
      leaseId: task?.leaseId as string,
      jobId: job.id,
      taskIndex: 0,
      checkpoint,
    });
    await waitFor(
      async () => ((await countRows(databaseUrl, 'checkpoints')) === 1 ? true : undefined),
      10_000,
      'the checkpoint in the database',
    );
    doomed.signal('SIGKILL');

    const second = await volunteer(survivor, { slots: 1, answer: 'silent' });
    await second.until(() => second.received.length === 1, 15_000, 'the task on the survivor');
    expect(second.received[0]?.checkpoint).toEqual(checkpoint);
  });

  it('reaches a quorum from votes sent to different nodes', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    const one = await volunteer(a, { slots: 1, answer: 'silent' });
    const two = await volunteer(a, { slots: 1, answer: 'silent' });
    const job = await submit(a, { map: '(x) => x + 100', inputs: [7], redundancy: 2 });
    await SimTab.until(
      [one, two],
      () => one.received.length === 1 && two.received.length === 1,
      10_000,
      'one copy on each device',
    );
    // One vote reaches the node holding the task; the other device moved to B and votes there.
    const direct = await one.report(answersTo(one.received, (x) => x + 100));
    expect(direct.ok).toBe(true);
    two.close();
    const moved = await volunteer(b, { deviceId: two.deviceId });
    const forwarded = await moved.report(answersTo(two.received, (x) => x + 100));
    expect(forwarded.ok && forwarded.data.leaseIds.length).toBe(1);
    expect(await waitForJob(a, job.id)).toMatchObject({ status: 'completed', done: 1 });
    expect(await resultLines(b, job.id)).toEqual([{ index: 0, output: 107 }]);
  });

  it("reads a job's reduce the same on every node", async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    await volunteer(a, { slots: 2 });
    await volunteer(b, { slots: 2 });
    const job = await submit(a, {
      map: '(x) => x * x',
      inputs: { range: { start: 1, end: 101 } },
      reduce: { fn: '(acc, x) => acc + x', initial: 0 },
    });
    const done = (summary: Record<string, unknown>): boolean =>
      (summary['reduce'] as { status?: string } | undefined)?.status === 'done';
    for (const node of [a, b]) {
      const summary = await waitFor(
        async () => {
          const body = await waitForJob(node, job.id);
          return done(body) ? body : undefined;
        },
        20_000,
        'the reduce',
      );
      expect(summary['reduce']).toEqual({ status: 'done', value: 338_350 });
    }
  });
  it("backs up a straggling tab's tasks on another node's idle tab, and the holder commits each once", async () => {
    const databaseUrl = await postgres.freshDatabase();
    const config = { databaseUrl, nodeHeartbeatMs: HEARTBEAT_MS, nodeSilentMs: SILENT_MS };
    const holder = await coordinator({ config });
    const other = await coordinator({ config });
    // The holder's only tab: it takes tasks and never answers.
    const straggler = await volunteer(holder, { slots: 2, answer: 'silent' });
    const job = await submit(holder, {
      map: '(x) => x + 1',
      inputs: { range: { start: 0, end: 80 } },
      chunkSize: 1,
    });
    await straggler.until(
      () => straggler.received.length >= 2,
      10_000,
      'the straggler to hold tasks',
    );
    const held = straggler.received.map((task) => task.taskIndex);

    const helper = await volunteer(other, { slots: 4, taskMs: 5 });
    expect(await waitForJob(holder, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 80,
    });
    expect(await resultLines(other, job.id)).toEqual(
      Array.from({ length: 80 }, (_, index) => ({ index, output: index + 1 })),
    );
    // Every result came from the helper, the straggler's tasks included.
    expect(helper.stats.acked).toBe(80);
    expect(
      held.every((taskIndex) => helper.received.some((task) => task.taskIndex === taskIndex)),
    ).toBe(true);
    expect(await countRows(databaseUrl, 'forwarded_results')).toBe(0);
  }, 45_000);

  it('stops a backup on another node once the holder committed its task, while the job runs on', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const config = { databaseUrl, nodeHeartbeatMs: HEARTBEAT_MS, nodeSilentMs: SILENT_MS };
    const holder = await coordinator({ config });
    const other = await coordinator({ config });
    // The holder's only tab is slow: each task takes 6 s, one at a time.
    const slow = await volunteer(holder, { slots: 1, taskMs: 6_000, concurrency: 1 });
    const job = await submit(holder, {
      map: '(x) => x + 1',
      inputs: { range: { start: 0, end: 2 } },
      chunkSize: 1,
    });
    await slow.until(() => slow.received.length >= 1, 10_000, 'the slow tab to hold a task');
    const first = slow.received[0]?.taskIndex;
    // The other node's tab takes a backup and never answers it.
    const backup = await volunteer(other, { slots: 1, answer: 'silent' });
    await backup.until(
      () => backup.received.some((task) => task.taskIndex === first),
      15_000,
      'a backup of the slow tab’s task on the other node',
    );
    const lease = backup.received.find((task) => task.taskIndex === first)?.leaseId as string;
    await backup.until(
      () => backup.cancelled.includes(lease),
      20_000,
      'the backup stopped once the holder committed the task',
    );
    expect(
      (await api<{ status: string; done: number }>(other, 'GET', `/api/jobs/${job.id}`)).body,
    ).toMatchObject({ status: 'running', done: 1 });
    expect(await waitForJob(holder, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 2,
    });
  }, 60_000);

  it('takes up a range whose claim answer was lost even after its tabs left, so the results other nodes forward for it commit', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const config = { databaseUrl, nodeHeartbeatMs: HEARTBEAT_MS, nodeSilentMs: SILENT_MS };
    const doubtful = await coordinator({ config });
    const other = await coordinator({ config });
    const claimTasks = doubtful.store.claimTasks.bind(doubtful.store);
    let claims = 0;
    // The first claim commits; its answer is lost, as when the connection drops just then, and
    // by the time the node hears so its only tab has left.
    doubtful.store.claimTasks = async (...args) => {
      const ranges = await claimTasks(...args);
      if (claims++ > 0) return ranges;
      leaving.close();
      await waitFor(
        async () =>
          (await api<unknown[]>(doubtful, 'GET', '/api/workers')).body.length === 0
            ? true
            : undefined,
        5_000,
        'the tab to leave',
      );
      throw new Error('Connection terminated unexpectedly');
    };
    const leaving = await volunteer(doubtful, { slots: 1, answer: 'silent' });
    const job = await submit(doubtful, {
      map: '(x) => x - 1',
      inputs: { range: { start: 0, end: 80 } },
      chunkSize: 1,
    });
    await waitFor(() => (claims > 0 ? true : undefined), 10_000, 'the lost claim');
    // The other node runs its share, then backs up the rest, which the doubtful node holds.
    await volunteer(other, { slots: 4, taskMs: 5 });
    expect(await waitForJob(other, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 80,
    });
    expect(await resultLines(other, job.id)).toEqual(
      Array.from({ length: 80 }, (_, index) => ({ index, output: index - 1 })),
    );
  }, 45_000);
});
