/**
 * @module Load generator, run in a worker thread so the clients do not share the coordinator's
 * event loop. `grid` mode: simulated tabs (test/support/sim-tab.ts) running the job's map at once
 * and reporting each assignment batch in one message (or, with `taskMs`, taking that long per
 * task on each slot). `bare` mode: the transport's own ceiling, one emit-and-ack round trip at a
 * time per client against a bare socket.io server (or, `idle`, connections that only stay open).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { io, type Socket } from 'socket.io-client';
import { MAX_RESULTS_PER_MESSAGE } from '../shared/limits.ts';
import { SimTab } from '../test/support/sim-tab.ts';

export interface LoadOptions {
  url: string;
  mode: 'grid' | 'bare';
  clients: number;
  slots: number;
  /** bare mode: stop after this many round trips in all. */
  roundTrips?: number;
  /** grid mode: each task takes this long (a timer), one at a time per slot; 0 answers at once. */
  taskMs?: number;
  /** bare mode without round trips: only connect and stay connected (memory per connection). */
  idle?: boolean;
}

const options = workerData as LoadOptions;

async function connectAll(): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: options.clients },
      (_, i) =>
        new Promise<Socket>((resolve, reject) => {
          const socket = io(options.url, {
            transports: ['websocket'],
            forceNew: true,
            reconnection: false,
          });
          socket.once('connect', () => resolve(socket));
          socket.once('connect_error', (error) =>
            reject(new Error(`client ${i}: ${error.message}`)),
          );
        }),
    ),
  );
}

async function runGrid(): Promise<Array<{ close(): void }>> {
  const taskMs = options.taskMs ?? 0;
  const tabs = await Promise.all(
    Array.from({ length: options.clients }, (_, i) =>
      SimTab.connect(options.url, {
        deviceId: `bench-device-${i}`,
        tabId: `bench-tab-${i}`,
        slots: options.slots,
        taskMs,
        concurrency: options.slots,
        resultsPerMessage: MAX_RESULTS_PER_MESSAGE,
        record: false,
      }),
    ),
  );
  parentPort?.postMessage({ type: 'ready' });
  return tabs;
}

async function runBare(): Promise<Array<{ close(): void }>> {
  const sockets = await connectAll();
  const clients = sockets.map((socket) => ({ close: () => socket.disconnect() }));
  parentPort?.postMessage({ type: 'ready' });
  if (options.idle) return clients;
  const total = options.roundTrips ?? 10_000;
  let started = 0;
  const started0 = performance.now();
  await Promise.all(
    sockets.map(async (socket) => {
      while (started < total) {
        started++;
        await socket.emitWithAck('ping', 1);
      }
    }),
  );
  parentPort?.postMessage({
    type: 'done',
    roundTrips: started,
    elapsedMs: performance.now() - started0,
  });
  return clients;
}

let clients: Array<{ close(): void }> = [];
parentPort?.on('message', (message: { type: string }) => {
  if (message.type === 'stop') {
    for (const client of clients) client.close();
    parentPort?.close();
  }
});
clients = options.mode === 'grid' ? await runGrid() : await runBare();
