/**
 * @module `npm run bench [-- --smoke] [--json FILE] [--only NAME]`: each benchmark measures
 * browsergrid and a baseline in the same run and prints the ratio, the absolute figures and the
 * machine. All traffic stays on 127.0.0.1; every run is bounded in size and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';
import type { LoadOptions } from './load-worker.ts';
import { launchBrowser } from '../test/support/browser.ts';
import {
  startCoordinator,
  waitFor,
  type TestCoordinator,
} from '../test/support/start-coordinator.ts';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
  },
});
const SMOKE = args.smoke;

interface Figure {
  bench: string;
  metric: string;
  value: number;
  baseline: number;
  ratio: number;
  unit: string;
  note: string;
}
const figures: Figure[] = [];

function report(figure: Figure): void {
  figures.push(figure);
  process.stdout.write(
    `${figure.bench.padEnd(10)} ${figure.metric.padEnd(34)} ${fmt(figure.value)} ${figure.unit} vs baseline ${fmt(figure.baseline)} ${figure.unit}  ratio ${figure.ratio.toFixed(3)}  (${figure.note})\n`,
  );
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

/** Starts the TypeScript load worker; tsx is registered inside the thread first, since Node 20
 * resolves a worker's entry before `--import` hooks in its execArgv apply. */
function loadWorker(options: LoadOptions): Worker {
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

function nextMessage<T>(worker: Worker, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`[bench]: no ${type} from load worker in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(message as T);
    };
    worker.on('message', onMessage);
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function stopWorker(worker: Worker): Promise<void> {
  worker.postMessage({ type: 'stop' });
  await worker.terminate();
}

async function waitJob(server: TestCoordinator, jobId: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const summary = await server.coordinator.engine.summary(jobId);
      return summary.status === 'completed' ? true : undefined;
    },
    timeoutMs,
    `job ${jobId}`,
  );
}

/** 1. One-item tasks committed per second with simulated tabs, against bare socket.io round trips. */
async function benchDispatch(): Promise<void> {
  const clients = SMOKE ? 10 : 100;
  const tasks = SMOKE ? 2_000 : 50_000;

  const http = createServer();
  const bare = new Server(http, { serveClient: false });
  bare.on('connection', (socket) =>
    socket.on('ping', (_n: unknown, ack: (r: number) => void) => ack(1)),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const bareWorker = loadWorker({
    url: bareUrl,
    mode: 'bare',
    clients,
    slots: 1,
    roundTrips: tasks,
  });
  const done = await nextMessage<{ roundTrips: number; elapsedMs: number }>(
    bareWorker,
    'done',
    120_000,
  );
  await stopWorker(bareWorker);
  await new Promise<void>((resolve) => bare.close(() => resolve()));
  const baseline = (done.roundTrips / done.elapsedMs) * 1000;

  const server = await startCoordinator();
  const gridWorker = loadWorker({ url: server.url, mode: 'grid', clients, slots: 4 });
  await nextMessage(gridWorker, 'ready', 60_000);
  const started = performance.now();
  const { id } = await server.coordinator.engine.submit(
    (await import('../shared/job.ts')).JobSpec.parse({
      map: '(x) => x * x',
      inputs: { range: { start: 0, end: tasks } },
    }),
  );
  await waitJob(server, id, 300_000);
  const elapsedMs = performance.now() - started;
  await stopWorker(gridWorker);
  await server.close();
  const value = (tasks / elapsedMs) * 1000;
  report({
    bench: 'dispatch',
    metric: `one-item tasks/s, ${clients} simulated tabs`,
    value,
    baseline,
    ratio: value / baseline,
    unit: '/s',
    note: `${tasks} tasks committed to SQLite; baseline: bare socket.io emit+ack round trips, same clients`,
  });
}

/** Runs `map` over `inputs` on `threads` worker_threads, one message per item: the local ceiling. */
async function workerThreadsBaseline(
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
async function benchTabs(): Promise<void> {
  const { ensurePagesBuilt } = await import('../server/main.ts');
  const { loadConfig } = await import('../server/config.ts');
  const { createRootLog } = await import('../server/log.ts');
  const { JobSpec } = await import('../shared/job.ts');
  const config = loadConfig({});
  await ensurePagesBuilt(config, createRootLog('warn'));
  const chromium = await launchBrowser();
  const tabsServer = await startCoordinator({ staticDir: config.staticDir });
  try {
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const page = await chromium.newTab(`${tabsServer.url}/?autostart=1&cores=1`);
      await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
      pages.push(page);
    }
    const run = async (map: string, items: number): Promise<number> => {
      const started = performance.now();
      const { id } = await tabsServer.coordinator.engine.submit(
        JobSpec.parse({ map, inputs: { range: { start: 0, end: items } } }),
      );
      await waitJob(tabsServer, id, 300_000);
      return performance.now() - started;
    };
    // Warm up: pages, workers and JIT.
    await run('(x) => x * x', 200);

    const tiny = SMOKE ? 500 : 2_000;
    const tabsMs = await run('(x) => x * x', tiny);
    const threadsMs = await workerThreadsBaseline(
      '(x) => x * x',
      Array.from({ length: tiny }, (_, i) => i),
      2,
    );
    report({
      bench: 'tabs',
      metric: `one-item tasks/s, 2 tabs x 1 worker`,
      value: (tiny / tabsMs) * 1000,
      baseline: (tiny / threadsMs) * 1000,
      ratio: threadsMs / tabsMs,
      unit: '/s',
      note: `${tiny} squares, ${tabsMs.toFixed(0)} ms; baseline: 2 worker_threads, one message per item`,
    });

    const cpuMap =
      '(n) => { let c = 0; for (let i = 2; i < 300000 + n; i++) { let p = true; for (let j = 2; j * j <= i; j++) if (i % j === 0) { p = false; break } if (p) c++ } return c }';
    const cpuItems = SMOKE ? 10 : 100;
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

/** Runs one job on a fleet of simulated tabs (task times in ms); returns its completion time. */
async function runFleet(
  taskMs: number[],
  tasks: number,
  options: {
    speculation?: boolean;
    dropShare?: number;
    dropAtDone?: number;
    redundancy?: number;
    adaptiveTrust?: boolean;
  } = {},
): Promise<number> {
  const { JobSpec } = await import('../shared/job.ts');
  const { SimTab } = await import('./sim-fleet.ts');
  const server = await startCoordinator();
  const tabs = await Promise.all(taskMs.map((ms) => SimTab.connect(server.url, ms)));
  try {
    const started = performance.now();
    const { id } = await server.coordinator.engine.submit(
      JobSpec.parse({
        map: '(x) => x',
        inputs: { range: { start: 0, end: tasks } },
        timeoutMs: 60_000,
        speculation: options.speculation ?? true,
        redundancy: options.redundancy ?? 1,
        adaptiveTrust: options.adaptiveTrust ?? false,
      }),
    );
    if (options.dropShare) {
      const at = Math.floor(tasks * (options.dropAtDone ?? 0.3));
      await waitFor(
        async () => ((await server.coordinator.engine.summary(id)).done >= at ? true : undefined),
        120_000,
        `${at} tasks done`,
      );
      for (const tab of tabs.slice(0, Math.round(tabs.length * options.dropShare))) tab.close();
    }
    await waitJob(server, id, 300_000);
    return performance.now() - started;
  } finally {
    for (const tab of tabs) tab.close();
    await server.close();
  }
}

/** 3. Stragglers and drops: simulated tabs of set speeds (timers), against the fair baseline. */
async function benchFaults(): Promise<void> {
  const taskMs = 40;
  const tasks = SMOKE ? 30 : 240;
  const threeNormal = await runFleet([taskMs, taskMs, taskMs], tasks);
  const withSlow = [taskMs, taskMs, taskMs, taskMs * 10];
  const speculating = await runFleet(withSlow, tasks, { speculation: true });
  const plain = await runFleet(withSlow, tasks, { speculation: false });
  const note = `${tasks} tasks of ${taskMs} ms; one tab of four 10x slower; baseline: the three normal tabs alone`;
  report({
    bench: 'straggler',
    metric: 'job time, speculation on',
    value: speculating,
    baseline: threeNormal,
    ratio: speculating / threeNormal,
    unit: 'ms',
    note,
  });
  report({
    bench: 'straggler',
    metric: 'job time, speculation off',
    value: plain,
    baseline: threeNormal,
    ratio: plain / threeNormal,
    unit: 'ms',
    note,
  });
  const eight = Array.from({ length: 8 }, () => taskMs);
  const steady = await runFleet(eight, tasks);
  const dropped = await runFleet(eight, tasks, { dropShare: 0.25, dropAtDone: 0.3 });
  report({
    bench: 'drops',
    metric: 'job time, 2 of 8 tabs dropped at 30%',
    value: dropped,
    baseline: steady,
    ratio: dropped / steady,
    unit: 'ms',
    note: `${tasks} tasks of ${taskMs} ms; baseline: the same 8 tabs, none dropped (losing a quarter of the tabs for the last 70 % predicts about ${(0.3 + 0.7 * (8 / 6)).toFixed(2)})`,
  });
}

/** 4. The cost of verification by redundancy: the same job with each result needed twice. */
async function benchRedundancy(): Promise<void> {
  const taskMs = 40;
  const tasks = SMOKE ? 30 : 240;
  const eight = Array.from({ length: 8 }, () => taskMs);
  const single = await runFleet(eight, tasks, { redundancy: 1 });
  const double = await runFleet(eight, tasks, { redundancy: 2 });
  const adaptive = await runFleet(eight, tasks * 2, { redundancy: 2, adaptiveTrust: true });
  report({
    bench: 'redundancy',
    metric: 'tasks/s, redundancy 2, adaptive trust',
    value: ((tasks * 2) / adaptive) * 1000,
    baseline: (tasks / single) * 1000,
    ratio: (tasks * 2) / adaptive / (tasks / single),
    unit: '/s',
    note: `${tasks * 2} tasks; devices earn trust after 10 agreed results, then 10 % are spot-checked`,
  });
  report({
    bench: 'redundancy',
    metric: 'tasks/s, redundancy 2',
    value: (tasks / double) * 1000,
    baseline: (tasks / single) * 1000,
    ratio: single / double,
    unit: '/s',
    note: `${tasks} tasks of ${taskMs} ms on 8 simulated tabs; baseline: redundancy 1 (ideal ratio 0.5)`,
  });
}

/** 5. Efficiency at scale: many simulated tabs on 1-second tasks (timers), against the ideal. */
async function benchScale(): Promise<void> {
  const workers = SMOKE ? 50 : 1_000;
  const perWorker = SMOKE ? 2 : 5;
  const taskMs = 1_000;
  const tasks = workers * perWorker;
  const { JobSpec } = await import('../shared/job.ts');
  const server = await startCoordinator({ config: { maxConnectionsPerAddress: 0 } });
  const load = loadWorker({ url: server.url, mode: 'grid', clients: workers, slots: 1, taskMs });
  try {
    await nextMessage(load, 'ready', 120_000);
    const started = performance.now();
    const { id } = await server.coordinator.engine.submit(
      JobSpec.parse({
        map: '(x) => x',
        inputs: { range: { start: 0, end: tasks } },
        timeoutMs: 60_000,
      }),
    );
    await waitJob(server, id, 300_000);
    const elapsedMs = performance.now() - started;
    const idealMs = (tasks / workers) * taskMs;
    report({
      bench: 'scale',
      metric: `job time, ${workers} tabs on 1 s tasks`,
      value: elapsedMs,
      baseline: idealMs,
      ratio: idealMs / elapsedMs,
      unit: 'ms',
      note: `${tasks} tasks; baseline: the ideal tasks / tabs x 1 s; ratio = efficiency`,
    });
  } finally {
    await stopWorker(load);
    await server.close();
  }
}

/** Resident memory of a process, from /proc (Linux), in bytes. */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
  return kb * 1024;
}

/** Starts a server process and resolves its URL once it answers. */
async function serverProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  url: (stdout: string) => string | undefined,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const found = await waitFor(() => url(out), 60_000, `a server process (${args.join(' ')})`);
  return { child, url: found };
}

/** Settles before reading memory: two readings half a second apart within 1 %. */
async function steadyRss(pid: number): Promise<number> {
  let last = rssOf(pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = rssOf(pid);
    if (Math.abs(now - last) / last < 0.01) return now;
    last = now;
  }
  return last;
}

/** 6. Connections: memory per connected, registered tab, against a bare socket.io server. */
async function benchConnections(): Promise<void> {
  const clients = SMOKE ? 200 : 5_000;
  const measure = async (
    server: { child: ChildProcess; url: string },
    mode: 'grid' | 'bare',
  ): Promise<number> => {
    const before = await steadyRss(server.child.pid as number);
    const load = loadWorker({
      url: server.url,
      mode,
      clients,
      slots: 0,
      ...(mode === 'bare' ? { idle: true } : {}),
    });
    try {
      await nextMessage(load, 'ready', 300_000);
      const after = await steadyRss(server.child.pid as number);
      return (after - before) / clients;
    } finally {
      await stopWorker(load);
      server.child.kill('SIGTERM');
    }
  };
  const bare = await serverProcess(
    [
      '--input-type=module',
      '-e',
      `import { createServer } from 'node:http'; import { Server } from 'socket.io';
       const http = createServer(); const io = new Server(http, { serveClient: false });
       io.on('connection', (socket) => socket.on('ping', (n, ack) => ack(n)));
       http.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + http.address().port));`,
    ],
    {},
    (out) => out.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0],
  );
  const bareBytes = await measure(bare, 'bare');

  const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-bench-'));
  const staticDir = path.join(dataDir, 'pages');
  mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
  writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>');
  const port = await freePort();
  // The coordinator prints nothing at LOG_LEVEL=warn: wait for its health check.
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../server/bin.mjs', import.meta.url)), 'start'],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: dataDir,
        BROWSERGRID_STATIC_DIR: staticDir,
        BROWSERGRID_ADMIN_TOKEN: 'bench-admin-token-0123456789',
        BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    'the coordinator',
  );
  const gridBytes = await measure({ child, url }, 'grid');
  rmSync(dataDir, { recursive: true, force: true });
  report({
    bench: 'conns',
    metric: `RSS per connected tab, ${clients} tabs`,
    value: gridBytes / 1024,
    baseline: bareBytes / 1024,
    ratio: gridBytes / bareBytes,
    unit: 'KiB',
    note: 'registered tabs (hello, no slots) on the coordinator; baseline: bare socket.io server, same clients',
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const benches: Record<string, () => Promise<void>> = {
  scale: benchScale,
  connections: benchConnections,
  redundancy: benchRedundancy,
  dispatch: benchDispatch,
  faults: benchFaults,
  tabs: benchTabs,
};

process.stdout.write(
  `browsergrid bench${SMOKE ? ' (smoke: small sizes, figures not meaningful)' : ''}: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})\n`,
);
for (const [name, bench] of Object.entries(benches)) {
  if (args.only && args.only !== name) continue;
  await bench();
}
if (args.json)
  writeFileSync(
    args.json,
    `${JSON.stringify({ node: process.version, cores: cpus().length, figures }, null, 2)}\n`,
  );
process.exit(0);
