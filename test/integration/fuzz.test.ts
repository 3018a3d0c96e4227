/**
 * Property tests: random and malformed socket events and HTTP bodies thrown at a real
 * coordinator. It never crashes, never commits a result it should not, and the job in flight
 * still completes with every result once. fast-check prints the seed of a failing run.
 */
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { JobCreated } from '../../shared/job.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import { useHarness } from '../support/harness.ts';
import { hostileShape, prototypeKeyed } from '../support/hostile-json.ts';
import { SimTab } from '../support/sim-tab.ts';
import {
  api,
  resultLines,
  startCoordinator,
  waitForJob,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const { defer } = useHarness();

const ACKED = new Set(['volunteer:hello', 'volunteer:capacity', 'task:results', 'task:release']);
const EVENTS = [
  'volunteer:hello',
  'volunteer:capacity',
  'task:results',
  'task:progress',
  'task:checkpoint',
  'task:release',
];

/** Payloads near the real shapes (so validation is exercised past the first check) and far from them. */
function payload(jobId: string): fc.Arbitrary<unknown> {
  const leaseId = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constant('a.b'),
    fc.constant('x'.repeat(200)),
  );
  const taskIndex = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double(), fc.string());
  const items = fc.array(
    fc.oneof(
      fc.record({ output: fc.jsonValue() }),
      fc.record({ error: fc.string() }),
      fc.anything(),
    ),
    { maxLength: 4 },
  );
  const result = fc.record(
    {
      leaseId,
      jobId: fc.oneof(fc.constant(jobId), fc.string()),
      taskIndex,
      durationMs: fc.oneof(fc.nat(), fc.double(), fc.constant(-1)),
      outcome: fc.oneof(
        fc.record({ status: fc.constant('ok'), items }),
        fc.record({ status: fc.constant('error'), message: fc.string() }),
        fc.anything(),
      ),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    fc.anything(),
    fc.record({ results: fc.array(result, { maxLength: 5 }) }),
    fc.record({
      updates: fc.array(fc.record({ leaseId, elapsedMs: fc.double(), fraction: fc.double() }), {
        maxLength: 5,
      }),
    }),
    fc.record({ leaseIds: fc.array(leaseId, { maxLength: 5 }) }),
    fc.record({ slots: fc.oneof(fc.integer({ min: -2, max: 100 }), fc.string()) }),
    fc.record(
      {
        protocolVersion: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.integer()),
        deviceId: fc.string({ maxLength: 140 }),
        tabId: fc.string({ maxLength: 140 }),
        slots: fc.integer({ min: -1, max: 70 }),
        grid: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
      },
      { requiredKeys: [] },
    ),
    fc.record({ leaseId, jobId: fc.constant(jobId), taskIndex, checkpoint: fc.anything() }),
  );
}

function connect(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('coordinator under random input', () => {
  it('survives random socket events: no crash, no forged commit, the job completes with every result once', async () => {
    const server: TestCoordinator = await startCoordinator();
    defer(() => server.close());
    const job = (
      await api<JobCreated>(server, 'POST', '/api/jobs', {
        map: '(x) => x * 2',
        inputs: { range: { start: 0, end: 200 } },
        chunkSize: 2,
      })
    ).body;
    const attackers: Socket[] = [];
    defer(() => attackers.forEach((socket) => socket.disconnect()));

    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(
          fc.record({
            event: fc.oneof(fc.constantFrom(...EVENTS), fc.string()),
            data: payload(job.id),
            ack: fc.boolean(),
          }),
          {
            maxLength: 20,
          },
        ),
        async (registerFirst, events) => {
          const socket = await connect(server.url);
          attackers.push(socket);
          if (registerFirst) {
            // Registered, so results and checkpoints get past the first check. No slots: a tab
            // that takes tasks and vanishes costs drops, which the chaos test covers.
            await socket.timeout(5_000).emitWithAck('volunteer:hello', {
              protocolVersion: PROTOCOL_VERSION,
              deviceId: `attacker-${attackers.length}`,
              tabId: `attacker-${attackers.length}`,
              slots: 0,
            });
          }
          for (const { event, data, ack } of events) {
            // Only request-like events are answered; waiting on others would just time out.
            if (ack && ACKED.has(event)) {
              const reply = (await socket.timeout(5_000).emitWithAck(event, data)) as {
                ok?: unknown;
              };
              if (typeof reply?.ok !== 'boolean') return false;
            } else {
              socket.emit(event, data);
            }
          }
          socket.disconnect();
          const health = await fetch(`${server.url}/healthz`);
          return health.status === 200;
        },
      ),
      { numRuns: 30 },
    );

    // Honest tabs finish the job: every item once, with the right output, nothing forged.
    const honest = [
      await SimTab.connect(server.url, { slots: 4 }),
      await SimTab.connect(server.url, { slots: 4 }),
    ];
    defer(() => honest.forEach((sim) => sim.close()));
    const summary = await waitForJob(server, job.id, undefined, 30_000);
    expect(summary).toMatchObject({ status: 'completed', done: 100, failed: 0 });
    expect(await resultLines(server, job.id)).toEqual(
      Array.from({ length: 200 }, (_, index) => ({ index, output: index * 2 })),
    );
  });

  it('answers random HTTP bodies with a 4xx and creates nothing for them', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              map: fc.oneof(fc.constant('(x) => x'), fc.string()),
              inputs: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.anything()),
              chunkSize: fc.anything(),
              timeoutMs: fc.anything(),
              redundancy: fc.anything(),
              grid: fc.anything(),
            },
            { requiredKeys: [] },
          ),
        ),
        async (body) => {
          const text = JSON.stringify(body) ?? 'undefined';
          const res = await api<{ error?: { code: string } }>(server, 'POST', '/api/jobs', text);
          if (res.status === 201) {
            created++;
            return true;
          }
          return res.status >= 400 && res.status < 500 && typeof res.body.error?.code === 'string';
        },
      ),
      { numRuns: 150 },
    );
    const jobs = (await api<unknown[]>(server, 'GET', '/api/jobs')).body;
    expect(jobs).toHaveLength(created);
  });

  it('answers hostile JSON shapes anywhere in a job body with a 400 naming the field and the limit', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const places = fc.constantFrom(
      { field: 'inputs.1', body: (text: string) => `{"map":"(x) => x","inputs":[0,${text}]}` },
      {
        field: 'inputs.0.a.0',
        body: (text: string) => `{"map":"(x) => x","inputs":[{"a":[${text}]}]}`,
      },
      {
        field: 'reduce.initial',
        body: (text: string) =>
          `{"map":"(x) => x","inputs":[0],"reduce":{"fn":"(a) => a","initial":${text}}}`,
      },
    );
    await fc.assert(
      fc.asyncProperty(hostileShape(), places, async (shape, place) => {
        const res = await api<{ error?: { code: string; message: string; field?: string } }>(
          server,
          'POST',
          '/api/jobs',
          place.body(shape.text),
        );
        expect(res.status).toBe(400);
        expect(res.body.error?.field?.startsWith(place.field), res.body.error?.field).toBe(true);
        expect(res.body.error?.message).toContain(shape.limit);
      }),
      { numRuns: 25 },
    );
    expect((await api<unknown[]>(server, 'GET', '/api/jobs')).body).toEqual([]);
  }, 120_000);

  it('carries inputs with __proto__, constructor and prototype keys anywhere, as data, to the tab and back', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const tab = await SimTab.connect(server.url, { slots: 4 });
    defer(() => tab.close());
    await fc.assert(
      fc.asyncProperty(
        fc.array(prototypeKeyed(), { minLength: 1, maxLength: 5 }),
        async (inputs) => {
          const res = await api<JobCreated>(server, 'POST', '/api/jobs', {
            map: '(x) => x',
            inputs,
          });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          await waitForJob(server, res.body.id);
          const lines = await resultLines(server, res.body.id);
          const expected = inputs.map((input, index) => JSON.stringify({ index, output: input }));
          expect(lines.map((line) => JSON.stringify(line))).toEqual(expected);
        },
      ),
      { numRuns: 20 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 60_000);
});
