/** @module Real-tab benchmarks: Chromium tabs against worker_threads on this machine. */
import { Worker } from 'node:worker_threads';
import { launchBrowser } from '../test/support/browser.ts';
import { startCoordinator } from '../test/support/start-coordinator.ts';
import { SMOKE, report, waitJob } from './support.ts';

/** Runs `map` over `inputs` on `threads` worker_threads, one message per item: the local ceiling. */
export async function workerThreadsBaseline(
  map: string,
  inputs: number[],
  threads: number,
): Promise<number> {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const map = new Function('"use strict"; return (' + ${JSON.stringify(map)} + ')')();
    parentPort.on('message', (x) => parentPort.postMessage(map(x)));
  `;
  const workers = Array.from({ length: threads }, () => new Worker(source, { eval: true }));
  const started = performance.now();
  await Promise.all(
    workers.map(
      (worker, w) =>
        new Promise<void>((resolve) => {
          const mine = inputs.filter((_, i) => i % threads === w);
          let next = 0;
          worker.on('message', () => {
            if (++next === mine.length) resolve();
            else worker.postMessage(mine[next]);
          });
          if (mine.length === 0) resolve();
          else worker.postMessage(mine[0]);
        }),
    ),
  );
  const elapsedMs = performance.now() - started;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return elapsedMs;
}

/** 2. Real tabs: tiny tasks and a CPU-bound job in 2 Chromium tabs against 2 worker_threads. */
export async function benchTabs(): Promise<void> {
  const { ensurePagesBuilt } = await import('../server/main.ts');
  const { loadConfig } = await import('../server/config.ts');
  const { createRootLog } = await import('../server/log.ts');
  const { JobSpec } = await import('../shared/job.ts');
  const config = loadConfig({});
  await ensurePagesBuilt(config, createRootLog('warn'));
  const chromium = await launchBrowser();
  const tabsServer = await startCoordinator({ staticDir: config.staticDir });
  const openTabs = async (cores: number) => {
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const page = await chromium.newTab(`${tabsServer.url}/?autostart=1&cores=${cores}`);
      await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
      pages.push(page);
    }
    return pages;
  };
  try {
    const run = async (map: string, items: number): Promise<number> => {
      const started = performance.now();
      const { id } = await tabsServer.coordinator.engine.submit(
        JobSpec.parse({ map, inputs: { range: { start: 0, end: items } } }),
      );
      await waitJob(tabsServer, id, 300_000);
      return performance.now() - started;
    };

    // Tiny tasks, 2 tabs x 2 Web Workers: what bounds them is per-task overhead everywhere.
    const tinyTabs = await openTabs(2);
    await run('(x) => x * x', 2_000); // warm up: pages, workers and JIT
    const tiny = SMOKE ? 2_000 : 20_000;
    const tabsMs = await run('(x) => x * x', tiny);
    const threadsMs = await workerThreadsBaseline(
      '(x) => x * x',
      Array.from({ length: tiny }, (_, i) => i),
      2,
    );
    report({
      bench: 'tabs',
      metric: `one-item tasks/s, 2 tabs x 2 workers`,
      value: (tiny / tabsMs) * 1000,
      baseline: (tiny / threadsMs) * 1000,
      ratio: threadsMs / tabsMs,
      unit: '/s',
      note: `${tiny} squares, ${tabsMs.toFixed(0)} ms from submit to completed; baseline: 2 worker_threads, one message per item`,
    });
    for (const page of tinyTabs) await page.browserContext().close();

    const pages = await openTabs(1);
    await run('(x) => x * x', 200);
    const cpuMap =
      '(n) => { let c = 0; for (let i = 2; i < 300000 + n; i++) { let p = true; for (let j = 2; j * j <= i; j++) if (i % j === 0) { p = false; break } if (p) c++ } return c }';
    // About 5 s of work on this machine, so the job's fixed costs (dispatch, a fresh worker per
    // job, the last task's tail) weigh as they would on a real job.
    const cpuItems = SMOKE ? 10 : 400;
    const cpuTabsMs = await run(cpuMap, cpuItems);
    const cpuThreadsMs = await workerThreadsBaseline(
      cpuMap,
      Array.from({ length: cpuItems }, (_, i) => i),
      2,
    );
    report({
      bench: 'tabs',
      metric: 'CPU-bound job, 2 tabs x 1 worker',
      value: cpuTabsMs,
      baseline: cpuThreadsMs,
      ratio: cpuThreadsMs / cpuTabsMs,
      unit: 'ms',
      note: `${cpuItems} prime counts; ratio = worker_threads time / tabs time (1.0 = the machine's limit)`,
    });

    // Hidden tabs: another page of each tab's window comes to the front, the same job again.
    const paced = '(x) => { const end = Date.now() + 2; while (Date.now() < end) {} return x }';
    const pacedItems = SMOKE ? 100 : 600;
    const visibleMs = await run(paced, pacedItems);
    for (const page of pages) {
      const front = await page.browserContext().newPage();
      await front.goto('about:blank');
      await front.bringToFront();
    }
    const hiddenMs = await run(paced, pacedItems);
    report({
      bench: 'tabs',
      metric: 'tasks/s with both tabs hidden',
      value: (pacedItems / hiddenMs) * 1000,
      baseline: (pacedItems / visibleMs) * 1000,
      ratio: visibleMs / hiddenMs,
      unit: '/s',
      note: `${pacedItems} tasks of 2 ms; baseline: the same tabs visible (headless Chromium; a desktop browser throttles hidden tabs harder)`,
    });
  } finally {
    await tabsServer.close();
    await chromium.close();
  }
}
