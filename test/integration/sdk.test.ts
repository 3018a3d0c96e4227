import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrowsergridError, Client, connect, JobFailedError } from '../../server/sdk/index.ts';
import type { JobSummary } from '../../shared/job.ts';
import type { AssignBatch, TaskResult } from '../../shared/protocol.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { startCoordinator, type TestCoordinator } from '../support/start-coordinator.ts';

const { defer } = useHarness();

async function setup(taskMs = 0): Promise<TestCoordinator> {
  const server = await startCoordinator();
  defer(() => server.close());
  const sim = await SimTab.connect(server.url, { slots: 2, taskMs });
  defer(() => sim.close());
  return server;
}

describe('the Node SDK against a real coordinator', () => {
  it('maps a function over inputs and resolves with the outputs in order', async () => {
    const server = await setup();
    const grid = connect(server.url, { token: server.token, pollMs: 20 });
    expect(await grid.map([1, 2, 3, 4], (x: number) => x * x)).toEqual([1, 4, 9, 16]);
    expect(
      await grid.map({ range: { start: 0, end: 6 } }, '(x) => 10 - x', { chunkSize: 4 }),
    ).toEqual([10, 9, 8, 7, 6, 5]);
    // Unnamed, each job is called after its function.
    const names = (await grid.jobs()).map((job) => job.name).sort();
    expect(names).toEqual(['map: (x) => 10 - x', 'map: (x) => x * x']);
  });

  it("rejects with every line when items fail, and with the server's error for bad specs", async () => {
    const server = await setup();
    const grid = connect(server.url, { token: server.token, pollMs: 20 });
    const failing = grid.map([1, 2], '(x) => { if (x === 2) throw new Error("two"); return x }', {
      maxAttempts: 1,
    });
    await expect(failing).rejects.toBeInstanceOf(JobFailedError);
    await expect(failing).rejects.toMatchObject({
      message: expect.stringMatching(/1 items failed; item 1: .*two/),
      results: [
        { index: 0, output: 1 },
        { index: 1, error: expect.stringContaining('two') },
      ],
    });
    await expect(grid.map([1], '(x) =>')).rejects.toMatchObject({
      name: 'BrowsergridError',
      status: 400,
      code: 'map_compile_error',
      field: 'map',
    });
    await expect(connect(server.url, { token: 'wrong' }).grids()).rejects.toBeInstanceOf(
      BrowsergridError,
    );
  });

  it('streams inputs up from a generator or a file, and maps over the upload', async () => {
    const server = await setup();
    const grid = connect(server.url, { token: server.token, pollMs: 20 });
    async function* values() {
      for (let i = 0; i < 300; i++) yield { n: i };
    }
    const upload = await grid.upload(values());
    expect(upload).toMatchObject({ format: 'ndjson', items: 300 });
    const outputs = await grid.map({ upload: upload.id }, '(x) => x.n % 7', { chunkSize: 16 });
    expect(outputs).toEqual(Array.from({ length: 300 }, (_, i) => i % 7));

    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-sdk-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const csv = path.join(dir, 'rows.csv');
    writeFileSync(csv, 'a,b\n1,2\n3,4\n');
    const fromFile = await grid.upload(csv);
    expect(fromFile).toMatchObject({ format: 'csv', items: 2 });
    expect(await grid.map({ upload: fromFile.id }, '(r) => Number(r.a) + Number(r.b)')).toEqual([
      3, 7,
    ]);
    await expect(grid.upload(path.join(dir, 'rows.txt'))).rejects.toThrow(/NDJSON .* or CSV/);
  });

  it('manages tokens, grids and uploads, lists jobs, and downloads results as NDJSON', async () => {
    const server = await setup();
    const client = connect(server.url, { token: server.token, pollMs: 20 });
    expect(client).toBeInstanceOf(Client);

    const created = await client.createToken('assistant');
    expect((await client.tokens()).map((token) => [token.tokenId, 'token' in token])).toEqual([
      [created.tokenId, false],
    ]);
    const assistant = connect(server.url, { token: created.token });
    expect(await assistant.grids()).toEqual([]);
    await client.revokeToken(created.tokenId);
    await expect(assistant.grids()).rejects.toMatchObject({
      name: 'BrowsergridError',
      status: 401,
      method: 'GET',
      path: '/api/grids',
    });
    expect((await client.tokens())[0]?.revokedAt).toEqual(expect.any(String));

    const room = await client.createGrid('Room 7');
    expect(await client.grid(room.code)).toMatchObject({ code: room.code, name: 'Room 7' });
    await expect(client.grid('NO-SUCH-GRID')).rejects.toMatchObject({ status: 404 });

    const job = await client.submit({ map: '(x) => x * 3', inputs: [1, 2, 3] });
    expect(job.created).toEqual({ id: job.id, tasks: 3, items: 3 });
    expect(await job.done()).toMatchObject({ status: 'completed', done: 3 });
    expect((await client.jobs()).map((summary) => summary.id)).toEqual([job.id]);
    let text = '';
    for await (const chunk of await job.download()) text += String(chunk);
    expect(text).toBe('{"index":0,"output":3}\n{"index":1,"output":6}\n{"index":2,"output":9}\n');

    const upload = await client.upload([1, 2]);
    await client.deleteUpload(upload.id);
    expect(await client.uploads()).toEqual([]);
    await expect(client.deleteUpload(upload.id)).rejects.toMatchObject({
      status: 404,
      method: 'DELETE',
    });
  });

  it("finds a job by any unique prefix of its id, and names an ambiguous prefix's matches", async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const client = connect(server.url, { token: server.token });
    const ids: string[] = [];
    let shared: string | undefined;
    // 17 ids over 16 hex digits: two must share their first character.
    while (shared === undefined) {
      const job = await client.submit({ map: '(x) => x', inputs: [ids.length] });
      shared = ids.find((id) => id[0] === job.id[0]);
      ids.push(job.id);
    }
    const last = ids.at(-1) as string;
    expect((await client.findJob(last)).id).toBe(last);
    expect((await client.findJob(last.slice(0, 8))).id).toBe(last);
    expect((await client.findJob(last.slice(0, 8).toUpperCase())).id).toBe(last);
    await expect(client.findJob(last.slice(0, 1))).rejects.toMatchObject({
      name: 'BrowsergridError',
      code: 'ambiguous',
      message: expect.stringMatching(new RegExp(`${shared}.*${last}|${last}.*${shared}`)),
    });
    for (const wrong of ['zz', '', '../grids', 'a'.repeat(65)]) {
      await expect(client.findJob(wrong)).rejects.toMatchObject({
        status: 404,
        message: `[sdk]: no job ${JSON.stringify(wrong)} on ${server.url}`,
      });
    }
  });

  it('follows a job across a coordinator restart: done and results retry, then read on', async () => {
    const first = await startCoordinator();
    let second: TestCoordinator | undefined;
    defer(async () => {
      await first.stop();
      await (second ?? first).close();
    });
    const client = connect(first.url, { token: first.token, pollMs: 20 });
    const job = await client.submit({ map: '(x) => x * 2', inputs: [1, 2, 3] });
    const changes: string[] = [];
    const lost = new Promise<void>((resolve) =>
      job.onConnection((change) => {
        changes.push(change.state === 'lost' ? `lost: ${change.error.message}` : 'back');
        if (change.state === 'lost') resolve();
      }),
    );
    const done = job.done();
    const lines = (async () => {
      const all = [];
      for await (const line of job.results({ follow: true })) all.push(line);
      return all;
    })();
    await first.stop();
    await lost;
    second = await startCoordinator({
      dataDir: first.dataDir,
      port: Number(new URL(first.url).port),
    });
    const sim = await SimTab.connect(second.url, { slots: 2 });
    defer(() => sim.close());
    expect(await done).toMatchObject({ status: 'completed', done: 3 });
    expect(await lines).toEqual([2, 4, 6].map((output, index) => ({ index, output })));
    expect(changes).toEqual([
      expect.stringMatching(`^lost: \\[sdk\\]: cannot reach ${first.url}: connect ECONNREFUSED`),
      'back',
    ]);

    const impatient = connect(first.url, { token: first.token, pollMs: 20, reconnectMs: 200 });
    const stranded = await impatient.submit({ map: '(x) => x', inputs: [1] });
    await second.stop();
    await expect(stranded.done()).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('follows a running job: progress events, and results as they commit, in order', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    // The test answers for the tab, in steps, each once the SDK has seen the step before. A tab
    // answering by itself runs every task of a batch at once: the coordinator sends it 4 tasks and
    // then the other 36, so the job ends within two task delays, which the first requests of a cold
    // coordinator outlast (the first line then came after the end).
    const tab = await SimTab.connect(server.url, { slots: 2, answer: 'silent' });
    defer(() => tab.close());
    const answered = new Set<number>();
    const answerBelow = (untilTask: number) => answerTasks(tab, untilTask, answered);
    const grid = connect(server.url, { token: server.token, pollMs: 20 });
    const job = await grid.submit({
      map: '(x) => x + 100',
      inputs: { range: { start: 0, end: 40 } },
    });
    const seen: JobSummary[] = [];
    job.onProgress((summary) => seen.push(summary));
    // The SDK may have seen a step before the tab's ack for it arrived (the commit is visible to a
    // status poll first), so the latest summary counts as well as the ones to come.
    const progressed = (done: number): Promise<void> =>
      new Promise((resolve) => {
        if ((seen.at(-1)?.done ?? 0) >= done) {
          resolve();
          return;
        }
        const off = job.onProgress((summary) => {
          if (summary.done < done) return;
          off();
          resolve();
        });
      });
    await answerBelow(10);
    await progressed(10);
    const lines = [];
    let firstWhileRunning: boolean | undefined;
    for await (const line of job.results({ follow: true })) {
      lines.push(line);
      if (lines.length === 1) {
        firstWhileRunning = (await job.status()).status === 'running';
        await answerBelow(25);
        await progressed(25);
      }
      if (lines.length === 25) await answerBelow(40);
    }
    expect(lines).toEqual(
      Array.from({ length: 40 }, (_, index) => ({ index, output: index + 100 })),
    );
    expect(firstWhileRunning).toBe(true);
    const final = await job.done();
    expect(final).toMatchObject({ status: 'completed', done: 40 });
    expect(seen.length).toBeGreaterThan(2);
    const dones = seen.map((summary) => summary.done);
    expect([...dones].sort((a, b) => a - b)).toEqual(dones);
  });
});

/**
 * Answers, as a silent tab, every task below `untilTask` with `x + 100`, as the coordinator sends
 * them (it sends more as results come back), and returns once all of them are answered.
 */
async function answerTasks(tab: SimTab, untilTask: number, answered: Set<number>): Promise<void> {
  const due = (): AssignBatch['tasks'] =>
    tab.received.filter((task) => task.taskIndex < untilTask && !answered.has(task.taskIndex));
  while ([...answered].filter((taskIndex) => taskIndex < untilTask).length < untilTask) {
    await tab.until(() => due().length > 0, 10_000, `tasks below ${untilTask}`);
    const results: TaskResult[] = [];
    for (const task of due()) {
      if (answered.has(task.taskIndex)) continue;
      answered.add(task.taskIndex);
      results.push({
        leaseId: task.leaseId,
        jobId: task.jobId,
        taskIndex: task.taskIndex,
        durationMs: 25,
        outcome: {
          status: 'ok',
          items: task.inputs.map((input) => ({ output: (input as number) + 100 })),
        },
      });
    }
    const res = await tab.report(results);
    expect(res.ok, JSON.stringify(res)).toBe(true);
  }
}
