import path from 'node:path';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../server/store/sqlite-store.ts';
import { PROTOCOL_VERSION, type Ack } from '../../shared/protocol.ts';
import { TaskTimelinePage } from '../../shared/timeline.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, resultLines, startCoordinator, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit, defer } = useHarness();

describe('coordinator with simulated tabs', () => {
  it('finishes a job with every result once and in input order while a tab drops holding tasks', async () => {
    const server = await coordinator();
    const quitter = await volunteer(server, { slots: 4, answer: 'silent' });
    const job = await submit(server, {
      map: '(x) => x * x',
      inputs: { range: { start: 0, end: 300 } },
      chunkSize: 3,
    });
    await quitter.until(() => quitter.received.length > 0, 10_000, 'the quitter to hold tasks');
    const held = quitter.received.map((task) => task.taskIndex);
    const workers = [
      await volunteer(server, { slots: 2 }),
      await volunteer(server, { slots: 3, taskMs: 2 }),
    ];
    quitter.close();

    const summary = await waitForJob(server, job.id);
    expect(summary).toMatchObject({
      status: 'completed',
      tasks: 100,
      done: 100,
      failed: 0,
      inFlight: 0,
    });
    const lines = await resultLines(server, job.id);
    expect(lines).toEqual(
      Array.from({ length: 300 }, (_, index) => ({ index, output: index * index })),
    );
    // The held tasks ran again elsewhere, and each committed exactly once.
    const rerun = workers.flatMap((w) => w.received.map((task) => task.taskIndex));
    for (const taskIndex of held) expect(rerun).toContain(taskIndex);
    const settled = await server.store.settledTasks(job.id);
    expect(settled).toHaveLength(100);
    expect(new Set(settled.map((task) => task.taskIndex)).size).toBe(100);
    // Job code went to each tab that ran tasks once, not once per task.
    for (const w of workers) {
      expect(w.codes.filter((code) => code.jobId === job.id)).toHaveLength(
        w.received.length > 0 ? 1 : 0,
      );
    }
    expect(workers.flatMap((w) => w.received).length).toBeGreaterThan(
      workers.flatMap((w) => w.codes).length,
    );
  });

  it('runs a map and a reduce written as statements, as a formatted file holds them', async () => {
    const server = await coordinator();
    await volunteer(server, { slots: 2 });
    const job = await submit(server, {
      map: '// doubles\n(x) => x * 2;\n',
      reduce: { fn: '(acc, x) => acc + x;', initial: 0 },
      inputs: [1, 2, 3],
    });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed', done: 3 });
    expect(await resultLines(server, job.id)).toEqual([
      { index: 0, output: 2 },
      { index: 1, output: 4 },
      { index: 2, output: 6 },
    ]);
  });

  it('re-dispatches the task of a silent tab once its lease expires', async () => {
    const server = await coordinator({ scheduler: { leaseGraceMs: 100 } });
    const hung = await volunteer(server, { slots: 1, answer: 'silent' });
    const job = await submit(server, { map: '(x) => x + 1', inputs: [1, 2], timeoutMs: 300 });
    await hung.until(() => hung.received.length === 2, 10_000, 'the hung tab to hold both tasks');
    await volunteer(server, { slots: 1 });
    const summary = await waitForJob(server, job.id);
    expect(summary).toMatchObject({ status: 'completed', done: 2 });
    await hung.until(() => hung.cancelled.length >= 2, 10_000, 'cancels for the expired leases');
    expect(await resultLines(server, job.id)).toEqual([
      { index: 0, output: 2 },
      { index: 1, output: 3 },
    ]);
  });

  it('answers the task timeline in the shared shape the admin page reads, live copies and ended ones', async () => {
    const server = await coordinator({ scheduler: { leaseGraceMs: 100 } });
    const hung = await volunteer(server, { slots: 1, answer: 'silent' });
    // Long enough that the first look still finds both copies live on a loaded machine; no
    // backups, so each task's second copy is the retry after its first expired.
    const job = await submit(server, {
      map: '(x) => x + 1',
      inputs: [1, 2],
      timeoutMs: 2_000,
      speculation: false,
    });
    await hung.until(() => hung.received.length === 2, 10_000, 'the hung tab to hold both tasks');
    const timeline = async (): Promise<TaskTimelinePage> =>
      TaskTimelinePage.parse((await api(server, 'GET', `/api/jobs/${job.id}/tasks`)).body);

    const live = await timeline();
    expect(live).toMatchObject({ jobId: job.id, tasks: 2, from: 0 });
    expect(live.timeline.map((row) => row.copies.map((copy) => [copy.kind, copy.end]))).toEqual([
      [['first', undefined]],
      [['first', undefined]],
    ]);

    await volunteer(server, { slots: 1 });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed' });
    const ended = await timeline();
    for (const row of ended.timeline) {
      expect(row.copies.map((copy) => [copy.kind, copy.end, copy.won])).toEqual([
        ['first', 'expired', false],
        ['retry', 'result', true],
      ]);
    }
  });

  it('acknowledges and drops a duplicate result', async () => {
    const server = await coordinator();
    const sim = await volunteer(server, { slots: 1, answer: 'silent' });
    const job = await submit(server, { map: '(x) => x', inputs: ['a', 'b'] });
    await sim.until(() => sim.received.length === 2);
    const [task] = sim.received;
    if (!task) throw new Error('no task');
    const result = {
      leaseId: task.leaseId,
      jobId: task.jobId,
      taskIndex: task.taskIndex,
      durationMs: 1,
      outcome: { status: 'ok' as const, items: [{ output: 'first' }] },
    };
    expect(await sim.report([result])).toEqual({
      ok: true,
      data: { leaseIds: [task.leaseId], refused: [] },
    });
    const again = await sim.report([
      { ...result, outcome: { status: 'ok', items: [{ output: 'second' }] } },
    ]);
    expect(again).toEqual({ ok: true, data: { leaseIds: [task.leaseId], refused: [] } });
    const lines = await resultLines(server, job.id);
    expect(lines).toEqual([{ index: task.taskIndex, output: 'first' }]);
    expect((await api(server, 'GET', `/api/jobs/${job.id}`)).body).toMatchObject({
      done: 1,
      status: 'running',
    });
  });

  it('records items whose map throws as errors after maxAttempts, and the job still ends', async () => {
    const server = await coordinator();
    await volunteer(server, { slots: 2 });
    const job = await submit(server, {
      map: '(x) => { if (x === 2) throw new Error("two is bad"); return x * 10 }',
      inputs: [1, 2, 3],
      maxAttempts: 2,
    });
    const summary = await waitForJob(server, job.id);
    expect(summary).toMatchObject({ status: 'failed', done: 2, failed: 1 });
    const lines = await resultLines(server, job.id);
    expect(lines[0]).toEqual({ index: 0, output: 10 });
    expect(lines[1]).toMatchObject({ index: 1, error: expect.stringContaining('two is bad') });
    expect(lines[2]).toEqual({ index: 2, output: 30 });
  });

  it('cancels a job: holders are told to stop, results list the unrun items as errors', async () => {
    const server = await coordinator();
    const sim = await volunteer(server, { slots: 1, answer: 'silent' });
    const job = await submit(server, { map: '(x) => x', inputs: [1, 2, 3, 4, 5, 6] });
    await sim.until(() => sim.received.length > 0);
    const { status, body } = await api(server, 'DELETE', `/api/jobs/${job.id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'cancelled' });
    await sim.until(() => sim.cancelled.length === sim.received.length, 5_000, 'cancels');
    const lines = await resultLines(server, job.id);
    expect(lines).toHaveLength(6);
    expect(lines.every((line) => typeof line['error'] === 'string')).toBe(true);
    expect((await api(server, 'DELETE', `/api/jobs/${job.id}`)).status).toBe(409);
  });

  it('shows the same jobs and results after a restart on the same data dir, and resumes unfinished ones', async () => {
    const first = await startCoordinator();
    defer(() => first.close());
    const sim = await SimTab.connect(first.url, { slots: 2 });
    const done = await submit(first, { name: 'done', map: '(x) => -x', inputs: [1, 2, 3] });
    await waitForJob(first, done.id);
    sim.close();
    const pending = await submit(first, {
      name: 'pending',
      map: '(x) => x * 2',
      inputs: [5, 6, 7, 8],
    });
    await first.stop();

    const second = await coordinator({ dataDir: first.dataDir });
    const jobs = (
      await api<Array<{ id: string; name: string; status: string }>>(second, 'GET', '/api/jobs')
    ).body;
    expect(jobs.map((job) => [job.name, job.status])).toEqual([
      ['pending', 'queued'],
      ['done', 'completed'],
    ]);
    expect(await resultLines(second, done.id)).toEqual([
      { index: 0, output: -1 },
      { index: 1, output: -2 },
      { index: 2, output: -3 },
    ]);
    await volunteer(second, { slots: 2 });
    await waitForJob(second, pending.id);
    expect((await resultLines(second, pending.id)).map((line) => line['output'])).toEqual([
      10, 12, 14, 16,
    ]);
  });
});

describe('observability', () => {
  it('exports Prometheus metrics: counters, connected tabs, commit and task latency histograms', async () => {
    const server = await coordinator();
    await volunteer(server, { slots: 2 });
    const job = await submit(server, { map: '(x) => x', inputs: [1, 2, 3, 4, 5] });
    await waitForJob(server, job.id);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^browsergrid_tasks_committed_total 5$/m);
    expect(text).toMatch(/^browsergrid_workers_connected 1$/m);
    expect(text).toMatch(/^browsergrid_task_latency_seconds_count 5$/m);
    expect(
      Number(text.match(/^browsergrid_store_commit_seconds_count (\d+)$/m)?.[1]),
    ).toBeGreaterThan(0);
    expect(text).toMatch(/^browsergrid_process_resident_memory_bytes \d+/m);
  });
});

describe('REST input handling', () => {
  it.each([
    [{ inputs: [1] }, 'map'],
    [{ map: '(x) => x' }, 'inputs'],
    [{ map: '(x) => x', inputs: [1], chunkSize: 0 }, 'chunkSize'],
    [{ map: '(x) => x', inputs: [1], timeoutMs: 'soon' }, 'timeoutMs'],
    [{ map: '(x) => x', inputs: { range: { start: 0, end: 10, step: 0 } } }, 'inputs'],
    [{ map: '(x) => x', inputs: [1], colour: 'blue' }, ''],
    [{ map: '(x) => x +', inputs: [1] }, 'map'],
  ])('refuses %j with a 400 naming the field, and creates nothing', async (spec, field) => {
    const server = await coordinator();
    const { status, body } = await api<{
      error: { code: string; field?: string; message: string };
    }>(server, 'POST', '/api/jobs', spec);
    expect(status).toBe(400);
    expect(body.error.message.length).toBeGreaterThan(5);
    if (field) expect(body.error.field).toMatch(new RegExp(`^${field}`));
    expect((await api<unknown[]>(server, 'GET', '/api/jobs')).body).toEqual([]);
  });

  it('answers 401 without a valid token, 413 over the body limit, 400 for broken JSON, 404 for unknown jobs', async () => {
    const server = await coordinator({ maxHttpBodyBytes: 1024 });
    expect((await api({ url: server.url, token: 'wrong' }, 'GET', '/api/jobs')).status).toBe(401);
    const noAuth = await fetch(`${server.url}/api/jobs`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const big = await api(server, 'POST', '/api/jobs', {
      map: '(x) => x',
      inputs: Array.from({ length: 1000 }, (_, i) => i),
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: { code: 'payload_too_large' } });
    const broken = await api(server, 'POST', '/api/jobs', '{"map": ');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: { code: 'invalid_input' } });
    expect((await api(server, 'GET', '/api/jobs/nope')).status).toBe(404);
    expect((await api(server, 'GET', '/api/jobs/nope/results')).status).toBe(404);
    expect((await api<unknown[]>(server, 'GET', '/api/jobs')).body).toEqual([]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('socket input handling', () => {
  it('refuses malformed events with an error ack and keeps serving', async () => {
    const server = await coordinator();
    const socket = io(server.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    defer(() => void socket.disconnect());
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const call = (event: string, payload: unknown): Promise<Ack<unknown>> =>
      socket.timeout(5_000).emitWithAck(event, payload) as Promise<Ack<unknown>>;

    // Who is speaking is checked before the payload: an anonymous socket's is never read.
    expect(await call('task:results', { results: [] })).toMatchObject({
      ok: false,
      error: { code: 'not_registered' },
    });
    const early = await call('task:results', {
      results: [
        {
          leaseId: 'x',
          jobId: 'j',
          taskIndex: 0,
          durationMs: 1,
          outcome: { status: 'ok', items: [] },
        },
      ],
    });
    expect(early).toMatchObject({ ok: false, error: { code: 'not_registered' } });
    expect(
      await call('volunteer:hello', {
        protocolVersion: PROTOCOL_VERSION + 1,
        deviceId: 'd',
        tabId: 't',
        slots: 1,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'protocol_mismatch' },
    });
    expect(
      await call('volunteer:hello', {
        protocolVersion: PROTOCOL_VERSION,
        deviceId: 'd',
        tabId: 't',
        slots: 1000,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'slots' },
    });
    expect(await call('volunteer:hello', 'garbage')).toMatchObject({ ok: false });
    socket.emit('task:progress' as never, { updates: 'x' } as never);
    // Registers with no slots, so the job below goes to the real tab, not this raw socket.
    expect(
      await call('volunteer:hello', {
        protocolVersion: PROTOCOL_VERSION,
        deviceId: 'd',
        tabId: 't',
        slots: 0,
      }),
    ).toMatchObject({
      ok: true,
      data: { volunteerId: 't' },
    });
    expect(await call('task:results', { results: [] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'results' },
    });
    // Still a working coordinator: a real tab completes a job.
    await volunteer(server, { slots: 1 });
    const job = await submit(server, { map: '(x) => x', inputs: [1] });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed' });
  });

  it('gives a duplicated tab (same tab id, both live) its own identity', async () => {
    const server = await coordinator();
    const a = await volunteer(server, { tabId: 'same-tab', slots: 1 });
    const b = await volunteer(server, { tabId: 'same-tab', slots: 1 });
    const job = await submit(server, { map: '(x) => x', inputs: [1, 2, 3, 4] });
    await waitForJob(server, job.id);
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);
  });
});

describe('sqlite file', () => {
  it('lives in the data dir', async () => {
    const server = await coordinator();
    await submit(server, { map: '(x) => x', inputs: [1] });
    const store = createSqliteStore({ filename: path.join(server.dataDir, 'browsergrid.db') });
    expect(await store.listJobs()).toHaveLength(1);
    await store.close();
  });
});
