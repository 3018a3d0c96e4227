import { afterEach, describe, expect, it } from 'vitest';
import type { ItemOutcome } from '../../shared/job.ts';
import { TAMPERED_MESSAGE, type RunBatch } from '../../shared/runner-protocol.ts';
import { WorkerPool, type PoolResult, type PoolTask } from '../../client/volunteer/worker-pool.ts';
import type { SandboxedWorker } from '../../client/volunteer/sandbox-host.ts';

/**
 * The pool against workers that are real MessageChannels whose far end this test drives: an
 * honest runner answers each batch with its outputs; a hostile one is job code that got hold of
 * the channel and says what it likes.
 */
interface FakeWorker {
  port: MessagePort;
  requests: RunBatch[];
  terminated: boolean;
}

type Behaviour = (worker: FakeWorker, request: RunBatch) => void;

const honest: Behaviour = (worker, request) => {
  worker.port.postMessage({
    type: 'results',
    batchId: request.batchId,
    outcomes: request.tasks.map((task) => task.inputs.map((input) => ({ output: input }))),
  });
};

function createPool(behaviourOf: (jobId: string) => Behaviour): {
  pool: WorkerPool;
  workers: FakeWorker[];
} {
  const workers: FakeWorker[] = [];
  const pool = new WorkerPool(1, (): SandboxedWorker => {
    const channel = new MessageChannel();
    const worker: FakeWorker = { port: channel.port2, requests: [], terminated: false };
    workers.push(worker);
    channel.port2.onmessage = (event: MessageEvent<RunBatch>) => {
      worker.requests.push(event.data);
      behaviourOf(event.data.jobId)(worker, event.data);
    };
    return {
      port: channel.port1,
      terminate: () => {
        worker.terminated = true;
        channel.port1.close();
        channel.port2.close();
      },
    };
  });
  return { pool, workers };
}

let current: WorkerPool | undefined;
afterEach(() => {
  current?.terminate();
  current = undefined;
});

function task(jobId: string, key: string, inputs: number[] = [1]): PoolTask {
  return { key, jobId, source: '(x) => x', mapKind: 'function', timeoutMs: 10_000, inputs };
}

function items(result: PoolResult | undefined): ItemOutcome[] | string | undefined {
  if (!result) return undefined;
  return result.outcome.status === 'ok' ? result.outcome.items : result.outcome.message;
}

/** Each is one message job code might send on the runner's channel mid-batch (batch ids start at 1). */
const deep = (levels: number): unknown => {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};
const forged = { item: 0, state: null, done: [] };
const HOSTILE: Array<[string, (batchId: number) => unknown]> = [
  ['null', () => null],
  ['a string', () => 'results'],
  ['an unknown type', (batchId) => ({ type: 'eval', batchId })],
  [
    'a comlink SET on __proto__',
    () => ({
      id: 'x',
      type: 'SET',
      path: ['__proto__', 'checkpoint'],
      value: { type: 'RAW', value: forged },
    }),
  ],
  [
    'results of another batch',
    (batchId) => ({ type: 'results', batchId: batchId + 1, outcomes: [[{ output: 'FORGED' }]] }),
  ],
  [
    'results with an extra key',
    (batchId) => ({ type: 'results', batchId, outcomes: [[{ output: 1 }]], extra: 1 }),
  ],
  [
    'results for more tasks than the batch',
    (batchId) => ({
      type: 'results',
      batchId,
      outcomes: [[{ output: 1 }], [{ output: 'FORGED' }]],
    }),
  ],
  [
    'results with an item too many',
    (batchId) => ({ type: 'results', batchId, outcomes: [[{ output: 1 }, { output: 'FORGED' }]] }),
  ],
  [
    'results whose output is a 2,000-deep array',
    (batchId) => ({ type: 'results', batchId, outcomes: [[{ output: deep(2_000) }]] }),
  ],
  [
    'results whose output refers to itself',
    (batchId) => {
      const cycle: unknown[] = [];
      cycle.push(cycle);
      return { type: 'results', batchId, outcomes: [[{ output: cycle }]] };
    },
  ],
  [
    'results with a __proto__ key in the outcome',
    (batchId) => ({
      type: 'results',
      batchId,
      outcomes: [[JSON.parse('{"__proto__": {"output": 1}}')]],
    }),
  ],
  [
    'progress for a key it does not hold',
    (batchId) => ({ type: 'progress', batchId, key: 'lease-of-another-job', fraction: 0.5 }),
  ],
  ['progress past 1', (batchId) => ({ type: 'progress', batchId, key: 'k1', fraction: 2 })],
  [
    'a checkpoint for a key it does not hold',
    (batchId) => ({ type: 'checkpoint', batchId, key: 'lease-of-another-job', checkpoint: forged }),
  ],
  [
    'a checkpoint past the last item',
    (batchId) => ({
      type: 'checkpoint',
      batchId,
      key: 'k1',
      checkpoint: { item: 1, state: null, done: [{ output: 'FORGED' }] },
    }),
  ],
  [
    'a checkpoint whose done list is not its item count',
    (batchId) => ({
      type: 'checkpoint',
      batchId,
      key: 'k1',
      checkpoint: { item: 0, state: null, done: [{ output: 'FORGED' }] },
    }),
  ],
  [
    'a checkpoint with a constructor.prototype key',
    (batchId) => ({
      type: 'checkpoint',
      batchId,
      key: 'k1',
      checkpoint: { ...forged, constructor: { prototype: { checkpoint: forged } } },
    }),
  ],
];

describe('the worker pool, against a worker whose channel job code took over', () => {
  it.each(HOSTILE)(
    'stops the worker that sends %s, ends its task as an error and refuses its job from then on',
    async (_name, message) => {
      let sent = false;
      const { pool, workers } = createPool((jobId) =>
        jobId === 'mallory'
          ? (worker, request) => {
              sent = true;
              worker.port.postMessage(message(request.batchId));
            }
          : honest,
      );
      current = pool;
      const first = pool.run(task('mallory', 'k1'));
      const queued = pool.run(task('mallory', 'k2'));
      expect(items(await first)).toBe(TAMPERED_MESSAGE);
      expect(sent).toBe(true);
      expect(workers[0]?.terminated).toBe(true);
      // Its other tasks in this tab end the same way without reaching any worker.
      expect(items(await queued)).toBe(TAMPERED_MESSAGE);
      expect(items(await pool.run(task('mallory', 'k3')))).toBe(TAMPERED_MESSAGE);
      expect(workers.flatMap((worker) => worker.requests).length).toBe(1);
      // Another job runs on a fresh worker, and nothing leaked onto the page's prototypes.
      expect(items(await pool.run(task('alice', 'a1', [2, 4])))).toEqual([
        { output: 2 },
        { output: 4 },
      ]);
      expect(workers.length).toBe(2);
      expect(({} as Record<string, unknown>)['checkpoint']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('output');
    },
  );

  it("stops the job's other workers in the tab too, and keeps their results out", async () => {
    const workers: FakeWorker[] = [];
    let mallory = 0;
    const pool = new WorkerPool(2, (): SandboxedWorker => {
      const channel = new MessageChannel();
      const worker: FakeWorker = { port: channel.port2, requests: [], terminated: false };
      workers.push(worker);
      channel.port2.onmessage = (event: MessageEvent<RunBatch>) => {
        worker.requests.push(event.data);
        // The first worker holds its batch; the second tampers once both are running.
        if (event.data.jobId !== 'mallory') honest(worker, event.data);
        else if (++mallory === 2) worker.port.postMessage({ type: 'eval', batchId: 0 });
      };
      return {
        port: channel.port1,
        terminate: () => {
          worker.terminated = true;
          channel.port1.close();
          channel.port2.close();
        },
      };
    });
    current = pool;
    const results = await Promise.all([
      pool.run(task('mallory', 'k1')),
      pool.run(task('mallory', 'k2')),
    ]);
    expect(results.map(items)).toEqual([TAMPERED_MESSAGE, TAMPERED_MESSAGE]);
    expect(workers.slice(0, 2).map((worker) => worker.terminated)).toEqual([true, true]);
    expect(items(await pool.run(task('alice', 'a1')))).toEqual([{ output: 1 }]);
  });

  it('stops a worker that speaks when it runs no batch', async () => {
    const { pool, workers } = createPool(() => honest);
    current = pool;
    expect(items(await pool.run(task('mallory', 'k1')))).toEqual([{ output: 1 }]);
    workers[0]?.port.postMessage({
      type: 'results',
      batchId: 1,
      outcomes: [[{ output: 'FORGED' }]],
    });
    await expect.poll(() => workers[0]?.terminated).toBe(true);
    expect(items(await pool.run(task('mallory', 'k2')))).toBe(TAMPERED_MESSAGE);
  });

  it('takes progress and checkpoints for the tasks of the running batch, and its results', async () => {
    const progress: number[] = [];
    const { pool } = createPool(() => (worker, request) => {
      const key = request.tasks[0]?.key ?? '';
      worker.port.postMessage({ type: 'progress', batchId: request.batchId, key, fraction: 0.5 });
      worker.port.postMessage({
        type: 'checkpoint',
        batchId: request.batchId,
        key,
        checkpoint: { item: 1, state: { at: 1 }, done: [{ output: 10 }] },
      });
      honest(worker, request);
    });
    current = pool;
    const checkpoints: unknown[] = [];
    const result = await pool.run({
      ...task('alice', 'a1', [10, 20]),
      onProgress: (fraction) => progress.push(fraction),
      onCheckpoint: (checkpoint) => checkpoints.push(checkpoint),
    });
    expect(items(result)).toEqual([{ output: 10 }, { output: 20 }]);
    expect(progress).toEqual([0.5]);
    expect(checkpoints).toEqual([{ item: 1, state: { at: 1 }, done: [{ output: 10 }] }]);
  });

  it("sends a job's code with the worker's first batch of it only, with the kind decided at submit", async () => {
    const { pool, workers } = createPool(() => honest);
    current = pool;
    await pool.run({
      ...task('alice', 'a1'),
      mapKind: 'module',
      source: 'export default (x) => x',
    });
    await pool.run({
      ...task('alice', 'a2'),
      mapKind: 'module',
      source: 'export default (x) => x',
    });
    const requests = workers[0]?.requests ?? [];
    expect(requests.map((request) => [request.mapKind, request.source])).toEqual([
      ['module', 'export default (x) => x'],
      ['module', undefined],
    ]);
  });
});
