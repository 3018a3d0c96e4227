/**
 * Tabs that move between coordinator nodes: the welcome lists where the live nodes listen, a tab
 * whose node is lost goes to another, and what it computed commits there, once, whichever node
 * holds the task.
 */
import { describe, expect, it } from 'vitest';
import { answersTo, untilListed } from '../support/cluster-probes.ts';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { api, resultLines, waitForJob } from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit } = useHarness();

/** A tab that keeps its results until acknowledged and moves to another node when its own stops. */
const FOLLOWING = {
  slots: 2,
  taskMs: 30,
  resend: { ackTimeoutMs: 2_000 },
  reconnect: { minMs: 20, maxMs: 60 },
  followNodes: true,
};

describe('tabs moving between nodes', () => {
  it('lists every live node in the welcome, the own node first', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    const tab = await volunteer(b, {});
    expect(tab.welcome?.nodes).toEqual([b.url, a.url]);
  });

  it('commits a result sent to a node that does not hold its task on the node that does, once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    // A's tab takes every task and answers none: A holds the whole job.
    const quiet = await volunteer(a, { slots: 8, answer: 'silent' });
    const job = await submit(a, {
      map: '(x) => x * 7',
      inputs: { range: { start: 0, end: 6 } },
      chunkSize: 1,
    });
    await quiet.until(() => quiet.received.length === 6, 10_000, 'six tasks on A');
    const held = [...quiet.received];
    quiet.close();

    // The same browser, now on B, sends what it computed meanwhile; B holds none of it.
    const moved = await volunteer(b, { deviceId: quiet.deviceId });
    const ack = await moved.report(answersTo(held, (x) => x * 7));
    expect(ack.ok && [...ack.data.leaseIds].sort()).toEqual(held.map((t) => t.leaseId).sort());

    expect(await waitForJob(a, job.id)).toMatchObject({ status: 'completed', done: 6 });
    expect(await waitForJob(b, job.id)).toMatchObject({ status: 'completed', done: 6 });
    expect(await resultLines(b, job.id)).toEqual(
      Array.from({ length: 6 }, (_, index) => ({ index, output: index * 7 })),
    );
  });

  it('refuses a forwarded result whose lease was issued to another browser', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    const quiet = await volunteer(a, { slots: 2, answer: 'silent' });
    const job = await submit(a, {
      map: '(x) => x',
      inputs: { range: { start: 0, end: 2 } },
      chunkSize: 1,
    });
    await quiet.until(() => quiet.received.length === 2, 10_000, 'two tasks on A');
    const stranger = await volunteer(b, {});
    const forged = quiet.received.map((task) => ({
      leaseId: task.leaseId,
      jobId: task.jobId,
      taskIndex: task.taskIndex,
      durationMs: 1,
      outcome: { status: 'ok' as const, items: [{ output: 'forged' }] },
    }));
    const ack = await stranger.report(forged);
    expect(ack.ok && ack.data.refused.length).toBe(2);
    // The job is untouched: A's quiet tab still holds both tasks.
    const { body } = await api<{ done: number }>(a, 'GET', `/api/jobs/${job.id}`);
    expect(body.done).toBe(0);
  });

  it('moves a tab whose node stopped to another node the welcome listed, and commits what it held there', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    const b = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    // A tab learns the nodes from its welcome: wait until A has seen B join.
    await untilListed(a, 2, 'node A to list node B');
    const tab = await volunteer(a, FOLLOWING);
    const job = await submit(b, {
      map: '(x) => x + 1',
      inputs: { range: { start: 0, end: 400 } },
      chunkSize: 1,
    });
    await tab.until(() => tab.stats.acked >= 10, 10_000, 'ten results on A');
    await a.close();
    expect(await waitForJob(b, job.id, undefined, 20_000)).toMatchObject({
      status: 'completed',
      done: 400,
    });
    expect(tab.url).toBe(b.url);
    expect(tab.stats.moves).toBeGreaterThanOrEqual(1);
    expect(await resultLines(b, job.id)).toEqual(
      Array.from({ length: 400 }, (_, index) => ({ index, output: index + 1 })),
    );
  });

  it('tells a connected tab of a node started after it, and moves it there when its own node stops', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    const tab = await volunteer(a, FOLLOWING);
    expect(tab.nodes).toEqual([a.url]);
    const b = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    await tab.until(() => tab.nodes.length === 2, 10_000, 'the tab told of node B');
    expect(tab.nodes).toEqual([a.url, b.url]);
    const job = await submit(b, {
      map: '(x) => x - 1',
      inputs: { range: { start: 0, end: 200 } },
      chunkSize: 1,
    });
    await tab.until(() => tab.stats.acked >= 10, 10_000, 'ten results on A');
    await a.close();
    expect(await waitForJob(b, job.id, undefined, 20_000)).toMatchObject({
      status: 'completed',
      done: 200,
    });
    expect(tab.url).toBe(b.url);
  });
});
