/**
 * Several coordinators on one PostgreSQL: each a full node, tabs on every node, a job submitted
 * on one run by the tabs of all, and every result committed once.
 */
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import type { WorkerView } from '../../shared/workers.ts';
import {
  api,
  resultLines,
  waitFor,
  waitForJob,
  waitForJobSummary,
} from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit } = useHarness();

describe('two coordinators on one PostgreSQL', () => {
  it('runs a job submitted on one node on the tabs of both, committing every result once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    const onA = await volunteer(a, { slots: 2, taskMs: 2 });
    const onB = await volunteer(b, { slots: 2, taskMs: 2 });
    const job = await submit(a, {
      map: '(x) => x * 3',
      inputs: { range: { start: 0, end: 2_000 } },
      chunkSize: 1,
    });

    expect(await waitForJob(a, job.id)).toMatchObject({ status: 'completed', done: 2_000 });
    // Both nodes' tabs did part of it.
    expect(onA.stats.acked).toBeGreaterThan(0);
    expect(onB.stats.acked).toBeGreaterThan(0);
    expect(onA.stats.acked + onB.stats.acked).toBe(2_000);
    // The other node reads the same job and the same results.
    expect(await waitForJob(b, job.id)).toMatchObject({ status: 'completed', done: 2_000 });
    expect(await resultLines(b, job.id)).toEqual(
      Array.from({ length: 2_000 }, (_, index) => ({ index, output: index * 3 })),
    );
  });

  it('signs device ids with one secret from the database, so a device keeps its id on any node', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    const first = await volunteer(a, {});
    const issued = first.deviceId;
    expect(issued).not.toBe(first.options.deviceId);
    first.close();
    const again = await volunteer(b, { deviceId: issued });
    expect(again.deviceId).toBe(issued);
  });

  it('lists the tabs of every node in GET /api/workers, each with its node', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    const b = await coordinator({ config: { databaseUrl, nodeHeartbeatMs: 100 } });
    const onA = await volunteer(a, { slots: 2 });
    const onB = await volunteer(b, { slots: 3 });
    const listed = await waitFor(
      async () => {
        const { body } = await api<WorkerView[]>(a, 'GET', '/api/workers');
        return body.length === 2 ? body : undefined;
      },
      10_000,
      'both tabs on node A',
    );
    const byDevice = new Map(listed.map((tab) => [tab.deviceId, tab]));
    expect(byDevice.get(onA.deviceId)?.slots).toBe(2);
    expect(byDevice.get(onB.deviceId)?.slots).toBe(3);
    expect(byDevice.get(onA.deviceId)?.node).toEqual(expect.any(String));
    expect(byDevice.get(onA.deviceId)?.node).not.toBe(byDevice.get(onB.deviceId)?.node);
  });

  it("shows a job's progress on a node whose tabs run none of it", async () => {
    const databaseUrl = await postgres.freshDatabase();
    const a = await coordinator({ config: { databaseUrl } });
    const b = await coordinator({ config: { databaseUrl } });
    await volunteer(a, { slots: 1, concurrency: 1, taskMs: 20 });
    const job = await submit(a, {
      map: '(x) => x',
      inputs: { range: { start: 0, end: 200 } },
      chunkSize: 1,
    });
    // B has no tab: what its admin feed shows comes from A's commits alone.
    const partway = await waitForJobSummary(
      b,
      job.id,
      (summary) => Number(summary['done']) > 0 && Number(summary['done']) < 200,
      20_000,
      'progress on node B',
    );
    expect(partway['status']).toBe('running');
    expect(await waitForJob(b, job.id)).toMatchObject({ status: 'completed', done: 200 });
  });
});
