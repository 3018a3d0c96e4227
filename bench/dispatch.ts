/**
 * @module Coordinator benchmarks with simulated tabs: dispatch throughput and efficiency at scale.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { startCoordinator } from '../test/support/start-coordinator.ts';

import { SMOKE, report, loadWorker, nextMessage, stopWorker, waitJob } from './support.ts';

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
