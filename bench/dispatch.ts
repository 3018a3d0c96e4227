/**
 * @module Coordinator benchmarks with simulated tabs: dispatch throughput, efficiency at scale,
 * memory per connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { startCoordinator, waitFor } from '../test/support/start-coordinator.ts';

import {
  SMOKE,
  report,
  loadWorker,
  nextMessage,
  stopWorker,
  waitJob,
  serverProcess,
  steadyRss,
  freePort,
} from './support.ts';

/** 1. One-item tasks committed per second with simulated tabs, against bare socket.io round trips. */
export async function benchDispatch(): Promise<void> {
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

/** 5. Efficiency at scale: many simulated tabs on 1-second tasks (timers), against the ideal. */
export async function benchScale(): Promise<void> {
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

/** 6. Connections: memory per connected, registered tab, against a bare socket.io server. */
export async function benchConnections(): Promise<void> {
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
