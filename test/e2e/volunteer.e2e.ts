import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import type { JobCreated } from '../../shared/job.ts';
import { shownNumber } from '../support/browser.ts';
import { useE2E } from '../support/e2e.ts';
import {
  api,
  resultLines,
  startCoordinator,
  waitFor,
  waitForJob,
  waitForJobSummary,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const e2e = useE2E();
const { coordinator, tab, submit, staticDir } = e2e;

/** Busy-waits `ms` per item so tasks are long enough to interrupt. */
const slowSquare = (ms: number) =>
  `(x) => { const end = Date.now() + ${ms}; while (Date.now() < end) {} return x * x }`;

describe('volunteer tabs in Chromium', () => {
  it('two tabs compute a 2,000-item job correctly', async () => {
    const server = await coordinator();
    const tabs = [await tab(server), await tab(server)];
    const started = performance.now();
    const job = await submit(server, {
      name: 'squares',
      description: 'The squares of 0 to 1999',
      map: '(x) => x * x',
      inputs: { range: { start: 0, end: 2000 } },
    });
    const summary = await waitForJob(server, job.id, undefined, 60_000);
    const elapsedMs = performance.now() - started;
    expect(summary).toMatchObject({ status: 'completed', tasks: 2000, done: 2000, failed: 0 });
    const lines = await resultLines(server, job.id);
    expect(lines).toEqual(
      Array.from({ length: 2000 }, (_, index) => ({ index, output: index * index })),
    );
    // Both tabs took part, and each page shows what it did (pages redraw at most 4 times a second).
    const shown = await waitFor(
      async () => {
        const counts = await Promise.all(tabs.map((page) => shownNumber(page, 'tasks-done')));
        return counts.reduce((a, b) => a + b, 0) >= 2000 ? counts : undefined;
      },
      5_000,
      'the pages to show 2,000 tasks done',
    );
    for (const count of shown) expect(count).toBeGreaterThan(0);
    expect(shown.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2000);
    process.stdout.write(`[e2e] 2,000 one-item squares in 2 tabs: ${elapsedMs.toFixed(0)} ms\n`);
  });

  it('a tab closed mid-job costs nothing', async () => {
    const server = await coordinator();
    const doomed = await tab(server);
    await tab(server);
    const job = await submit(server, {
      map: slowSquare(10),
      inputs: { range: { start: 0, end: 300 } },
    });
    await waitForJobSummary(
      server,
      job.id,
      (s) => Number(s['done']) >= 30,
      30_000,
      '30 tasks done',
    );
    // The doomed tab did part of the work (its page redraws a few times a second).
    await waitFor(
      async () => ((await shownNumber(doomed, 'tasks-done')) > 0 ? true : undefined),
      5_000,
      'the doomed tab to show tasks done',
    );
    await doomed.browserContext().close();
    const summary = await waitForJob(server, job.id, undefined, 60_000);
    expect(summary).toMatchObject({ status: 'completed', done: 300, failed: 0 });
    expect(await resultLines(server, job.id)).toEqual(
      Array.from({ length: 300 }, (_, index) => ({ index, output: index * index })),
    );
    const settled = await server.store.settledTasks(job.id);
    expect(new Set(settled.map((task) => task.taskIndex)).size).toBe(300);
  });

  /**
   * Results computed while the coordinator is down carry the time they were computed, which
   * proves they were delivered from IndexedDB rather than recomputed after the restart.
   */
  const stamped = `(x) => { const end = Date.now() + 1500; while (Date.now() < end) {} return { square: x * x, at: Date.now() } }`;

  async function computeWhileDown(): Promise<{
    first: TestCoordinator;
    job: JobCreated;
    page: Page;
    port: number;
  }> {
    const first = await startCoordinator({ staticDir });
    e2e.defer(() => first.close());
    const page = await tab(first);
    const job = await submit(first, { map: stamped, inputs: [3, 4] });
    await waitFor(
      async () =>
        (await api<{ inFlight: number }>(first, 'GET', `/api/jobs/${job.id}`)).body.inFlight > 0
          ? true
          : undefined,
      20_000,
      'the tab to hold a task',
    );
    const port = Number(new URL(first.url).port);
    await first.stop();
    // The tab finishes what it holds with nobody to send it to.
    await page.waitForFunction(() => Number(document.querySelector('#unsent')?.textContent) >= 2, {
      timeout: 20_000,
    });
    return { first, job, page, port };
  }

  async function expectDeliveredFromBefore(
    server: TestCoordinator,
    jobId: string,
    restartAt: number,
  ): Promise<void> {
    expect(await waitForJob(server, jobId, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 2,
    });
    const lines = await resultLines(server, jobId);
    expect(lines.map((line) => (line['output'] as { square: number }).square)).toEqual([9, 16]);
    for (const line of lines) expect((line['output'] as { at: number }).at).toBeLessThan(restartAt);
  }

  it('sends results computed while the coordinator was down once it is back', async () => {
    const { first, job, page, port } = await computeWhileDown();
    const restartAt = Date.now();
    const second = await startCoordinator({ staticDir, dataDir: first.dataDir, port });
    e2e.defer(() => second.stop());
    await page.waitForFunction(() => document.querySelector('#unsent')?.textContent === '0', {
      timeout: 30_000,
    });
    await expectDeliveredFromBefore(second, job.id, restartAt);
  });

  it('keeps unsent results in IndexedDB when the tab is closed, and sends them when the page is opened again', async () => {
    const { first, job, page, port } = await computeWhileDown();
    const context = page.browserContext();
    await page.close();
    const restartAt = Date.now();
    const second = await startCoordinator({ staticDir, dataDir: first.dataDir, port });
    e2e.defer(() => second.stop());
    // Same browser profile (same IndexedDB), a new tab.
    const reopened = await context.newPage();
    await reopened.goto(`${second.url}/?autostart=1&cores=1`);
    await expectDeliveredFromBefore(second, job.id, restartAt);
  });

  it('replaces the worker of a task that runs past its timeout and keeps the tab working', async () => {
    const server = await coordinator();
    const page = await tab(server);
    const job = await submit(server, {
      map: '(x) => { if (x === 1) { for (;;) {} } return x * 2 }',
      inputs: [0, 1, 2],
      timeoutMs: 500,
      maxAttempts: 2,
    });
    const summary = await waitForJob(server, job.id, undefined, 30_000);
    expect(summary).toMatchObject({ status: 'failed', done: 2, failed: 1 });
    const lines = await resultLines(server, job.id);
    expect(lines[0]).toEqual({ index: 0, output: 0 });
    expect(lines[1]).toMatchObject({
      index: 1,
      error: expect.stringMatching(/timed out after 500 ms/),
    });
    expect(lines[2]).toEqual({ index: 2, output: 4 });
    // The page is still responsive and still computing.
    const next = await submit(server, { map: '(x) => x + 1', inputs: [41] });
    expect(await waitForJob(server, next.id)).toMatchObject({ status: 'completed' });
    expect(await page.$eval('#connection', (el) => el.getAttribute('data-state'))).toBe(
      'connected',
    );
  });

  it('ends an output or checkpoint state over the JSON bounds as an item error naming the limit, and stays connected', async () => {
    const server = await coordinator();
    const page = await tab(server);
    const job = await submit(server, {
      map: `(x, ctx) => {
        let deep = x;
        for (let i = 0; i < 100; i++) deep = [deep];
        if (x === 0) return deep;
        if (x === 1) return { ['k'.repeat(5000)]: x };
        if (x === 2) ctx.checkpoint(deep);
        // Shallow when checked, deep when serialized: the worker checks the copy it sends.
        let reads = 0;
        if (x === 4) return { get v() { return reads++ === 0 ? 1 : deep; } };
        return x;
      }`,
      inputs: [0, 1, 2, 3, 4],
    });
    expect(await waitForJob(server, job.id, undefined, 30_000)).toMatchObject({
      done: 1,
      failed: 4,
    });
    expect(await resultLines(server, job.id)).toEqual([
      { index: 0, error: expect.stringMatching(/output.*MAX_JSON_DEPTH/) },
      { index: 1, error: expect.stringMatching(/output.*MAX_JSON_KEY_CHARS/) },
      { index: 2, error: expect.stringMatching(/checkpoint state.*MAX_JSON_DEPTH/) },
      { index: 3, output: 3 },
      { index: 4, error: expect.stringMatching(/output.*MAX_JSON_DEPTH/) },
    ]);
    expect(await page.$eval('#connection', (el) => el.getAttribute('data-state'))).toBe(
      'connected',
    );
  });

  it('charges a timeout to the task that ran long, not to the short tasks batched with it', async () => {
    const server = await coordinator();
    await tab(server);
    // Tasks of ~2 ms go to the worker in batches; one of them never ends.
    const job = await submit(server, {
      map: '(x) => { if (x === 150) { for (;;) {} } const end = Date.now() + 2; while (Date.now() < end) {} return x }',
      inputs: { range: { start: 0, end: 200 } },
      timeoutMs: 1_000,
      maxAttempts: 1,
    });
    const summary = await waitForJob(server, job.id, undefined, 30_000);
    expect(summary).toMatchObject({ status: 'failed', done: 199, failed: 1 });
    const lines = await resultLines(server, job.id);
    expect(lines.filter((line) => 'error' in line)).toEqual([
      { index: 150, error: expect.stringMatching(/timed out after 1000 ms/) },
    ]);
  });

  it('keeps the device id the coordinator issued in IndexedDB and is the same device after a reload', async () => {
    const server = await coordinator();
    const page = await tab(server);
    const storedId = (): Promise<string | undefined> =>
      page.evaluate(
        () =>
          new Promise<string | undefined>((resolve, reject) => {
            const request = indexedDB.open('browsergrid');
            request.onsuccess = () => {
              const get = request.result.transaction('meta').objectStore('meta').get('deviceId');
              get.onsuccess = () => resolve(get.result as string | undefined);
              get.onerror = () => reject(get.error);
            };
            request.onerror = () => reject(request.error);
          }),
      );
    const devices = async (): Promise<Array<{ deviceId: string; tabs: number }>> =>
      (await api<Array<{ deviceId: string; tabs: number }>>(server, 'GET', '/api/devices')).body;
    // Issued ids are signed: d-<nonce>.<mac>.
    const issued = await waitFor(
      async () => {
        const id = await storedId();
        return id !== undefined && /^d-[\w-]+\.[\w-]+$/.test(id) ? id : undefined;
      },
      5_000,
      'the issued device id in IndexedDB',
    );
    expect((await devices()).filter((device) => device.tabs > 0)).toMatchObject([
      { deviceId: issued, tabs: 1 },
    ]);
    await page.reload();
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
    await waitFor(
      async () => {
        const live = (await devices()).filter((device) => device.tabs > 0);
        return live.length === 1 && live[0]?.deviceId === issued ? true : undefined;
      },
      5_000,
      'the reloaded tab to count as the same device',
    );
    expect(await storedId()).toBe(issued);
  });
});
