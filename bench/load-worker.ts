/**
 * @module Load generator, run in a worker thread so the clients do not share the coordinator's
 * event loop. `grid` mode: simulated tabs speaking the real protocol, computing x * x at once and
 * reporting each assignment batch in one message (or, with `taskMs`, taking that long per task on
 * each slot). `bare` mode: the transport's own ceiling, one emit-and-ack round trip at a time per
 * client against a bare socket.io server (or, `idle`, connections that only stay open).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION, type AssignBatch, type TaskResult } from '../shared/protocol.ts';

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

async function runGrid(sockets: Socket[]): Promise<void> {
  await Promise.all(
    sockets.map(async (socket, i) => {
      const taskMs = options.taskMs ?? 0;
      const queue: AssignBatch['tasks'] = [];
      let running = 0;
      const report = (tasks: AssignBatch['tasks']): void => {
        const results: TaskResult[] = tasks.map((task) => ({
          leaseId: task.leaseId,
          jobId: task.jobId,
          taskIndex: task.taskIndex,
          durationMs: Math.max(taskMs, 0.01),
          outcome: {
            status: 'ok',
            items: task.inputs.map((x) => ({ output: (x as number) * (x as number) })),
          },
        }));
        socket.emit('task:results', { results }, () => undefined);
      };
      const pump = (): void => {
        while (running < options.slots && queue.length > 0) {
          const task = queue.shift() as AssignBatch['tasks'][number];
          running++;
          setTimeout(() => {
            running--;
            report([task]);
            pump();
          }, taskMs);
        }
      };
      socket.on('task:assign', (batch: AssignBatch) => {
        if (taskMs === 0) {
          report(batch.tasks);
          return;
        }
        queue.push(...batch.tasks);
        pump();
      });
      await socket.emitWithAck('volunteer:hello', {
        protocolVersion: PROTOCOL_VERSION,
        deviceId: `bench-device-${i}`,
        tabId: `bench-tab-${i}`,
        slots: options.slots,
      });
    }),
  );
  parentPort?.postMessage({ type: 'ready' });
}

async function runBare(sockets: Socket[]): Promise<void> {
  parentPort?.postMessage({ type: 'ready' });
  if (options.idle) return;
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
}

const sockets = await connectAll();
parentPort?.on('message', (message: { type: string }) => {
  if (message.type === 'stop') {
    for (const socket of sockets) socket.disconnect();
    parentPort?.close();
  }
});
if (options.mode === 'grid') await runGrid(sockets);
else await runBare(sockets);
