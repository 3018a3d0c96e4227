/**
 * End to end on PostgreSQL: a real coordinator with BROWSERGRID_DATABASE_URL set, simulated tabs,
 * and a restart on the same database.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { SimTab } from '../support/sim-tab.ts';
import type { UploadSummary } from '../../shared/job.ts';
import {
  api,
  resultLines,
  startCoordinator,
  waitFor,
  waitForJob,
} from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit, defer } = useHarness();

/** Settled tasks of a job as PostgreSQL itself holds them, read past the store. */
async function resultRowsIn(databaseUrl: string, jobId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM results WHERE job_id = $1',
      [jobId],
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe('coordinator on PostgreSQL', () => {
  it('commits every result of a job exactly once while a tab drops holding tasks', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const server = await coordinator({ config: { databaseUrl } });
    const quitter = await volunteer(server, { slots: 4, answer: 'silent' });
    const job = await submit(server, {
      map: '(x) => x * x',
      inputs: { range: { start: 0, end: 300 } },
      chunkSize: 3,
    });
    await quitter.until(() => quitter.received.length > 0, 10_000, 'the quitter to hold tasks');
    await volunteer(server, { slots: 2 });
    await volunteer(server, { slots: 3, taskMs: 2 });
    quitter.close();

    expect(await waitForJob(server, job.id)).toMatchObject({
      status: 'completed',
      tasks: 100,
      done: 100,
      failed: 0,
    });
    expect(await resultLines(server, job.id)).toEqual(
      Array.from({ length: 300 }, (_, index) => ({ index, output: index * index })),
    );
    const settled = await server.store.settledTasks(job.id);
    expect(settled).toHaveLength(100);
    expect(new Set(settled.map((task) => task.taskIndex)).size).toBe(100);
    // Kept in PostgreSQL, not in a SQLite file in the data dir.
    expect(await resultRowsIn(databaseUrl, job.id)).toBe(100);
  });

  it('commits results whose run times a tab measured in fractions of a millisecond', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const server = await coordinator({ config: { databaseUrl } });
    const tab = await volunteer(server, { slots: 3, answer: 'silent' });
    const job = await submit(server, {
      map: '(x) => x + 1',
      inputs: [1, 2, 3],
    });
    await tab.until(() => tab.received.length === 3, 10_000, 'three tasks');
    // What a page reports: performance.now() differences, fractions and all.
    tab.socket.emit('task:progress', {
      updates: tab.received.map((task) => ({ leaseId: task.leaseId, elapsedMs: 3.217 })),
    });
    const ack = await tab.report(
      tab.received.map((task) => ({
        leaseId: task.leaseId,
        jobId: task.jobId,
        taskIndex: task.taskIndex,
        durationMs: 12.345678,
        outcome: { status: 'ok' as const, items: [{ output: (task.inputs[0] as number) + 1 }] },
      })),
    );
    expect(ack.ok && ack.data.leaseIds.length).toBe(3);
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed', done: 3 });
  });

  it('resumes an unfinished job after a restart on the same database, committing each task once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const first = await startCoordinator({ config: { databaseUrl } });
    defer(() => first.close());
    const slow = await SimTab.connect(first.url, { slots: 1, taskMs: 400 });
    defer(() => slow.close());
    const job = await submit(first, {
      map: '(x) => x + 1000',
      inputs: { range: { start: 0, end: 80 } },
      chunkSize: 1,
    });
    await waitFor(
      async () => {
        const stored = await first.store.getJob(job.id);
        return stored && stored.done >= 1 ? stored : undefined;
      },
      20_000,
      'a first task committed on the first coordinator',
    );
    await first.stop();
    slow.close();

    const second = await coordinator({ dataDir: first.dataDir, config: { databaseUrl } });
    const before = await second.store.getJob(job.id);
    expect(before?.status).toBe('running');
    expect(before?.done).toBeGreaterThanOrEqual(1);
    expect(before?.done).toBeLessThan(80);
    await volunteer(second, { slots: 4 });
    expect(await waitForJob(second, job.id)).toMatchObject({
      status: 'completed',
      done: 80,
      failed: 0,
    });
    expect(await resultLines(second, job.id)).toEqual(
      Array.from({ length: 80 }, (_, index) => ({ index, output: index + 1000 })),
    );
    const settled = await second.store.settledTasks(job.id);
    expect(new Set(settled.map((task) => task.taskIndex)).size).toBe(80);
    expect(settled).toHaveLength(80);
    expect(await resultRowsIn(databaseUrl, job.id)).toBe(80);
  });

  it('runs a job over inputs uploaded to PostgreSQL, each task reading its span of items', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const server = await coordinator({ config: { databaseUrl } });
    await volunteer(server, { slots: 2 });
    const lines = Array.from({ length: 2_000 }, (_, i) =>
      JSON.stringify(i % 7 === 0 ? { ['__proto__']: i, n: i } : { n: i }),
    );
    const created = await api<UploadSummary>(
      server,
      'POST',
      '/api/uploads',
      `${lines.join('\n')}\n`,
      { 'Content-Type': 'application/x-ndjson' },
    );
    expect(created).toMatchObject({ status: 201, body: { format: 'ndjson', items: 2_000 } });
    const job = await submit(server, {
      map: '(x) => x.n * 2',
      inputs: { upload: created.body.id },
      chunkSize: 64,
    });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed', done: 32 });
    const results = await resultLines(server, job.id);
    expect(results).toEqual(
      Array.from({ length: 2_000 }, (_, index) => ({ index, output: index * 2 })),
    );
  });
});
