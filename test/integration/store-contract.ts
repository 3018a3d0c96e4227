/**
 * @module The JobStore contract: one suite every backend must pass. A backend's test file calls
 * `runStoreContract(name, makeStore)`; `makeStore(key)` opens the store on persistent storage
 * named by `key` (a fresh temp dir per test: SQLite keeps its file there, PostgreSQL maps it to
 * a database), so opening the same key again, even while the first store is open, reaches what
 * was written. Several stores open on one key are what several coordinator nodes are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStore, StoredTaskResult } from '../../server/store/store.ts';
import { JobSpec } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { MAX_JSON_DEPTH } from '../../shared/limits.ts';
import { nest, ownObject } from '../support/hostile-json.ts';
import { clusterContract, type ClusterContext } from './cluster-contract.ts';
import { clusterEventsContract } from './cluster-events-contract.ts';
import { clusterRaceContract } from './cluster-race-contract.ts';
import { standingContract } from './standing-contract.ts';

const spec = JobSpec.parse({ map: '(x) => x', inputs: [1, 2, 3, 4, 5], chunkSize: 2 });

async function collect(iterable: AsyncIterable<StoredTaskResult>): Promise<StoredTaskResult[]> {
  const out: StoredTaskResult[] = [];
  for await (const row of iterable) out.push(row);
  return out;
}

export type MakeStore = (key: string) => JobStore | Promise<JobStore>;

export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`JobStore contract: ${name}`, () => {
    let dir: string;
    let store: JobStore;
    let others: JobStore[] = [];

    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), `browsergrid-store-${name}-`));
      store = await makeStore(dir);
    });

    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const cluster: ClusterContext = {
      store: () => store,
      another: async () => {
        const other = await makeStore(dir);
        others.push(other);
        return other;
      },
    };
    clusterContract(cluster);
    clusterRaceContract(cluster);
    clusterEventsContract(cluster);
    standingContract(cluster);

    const create = (jobId: string) =>
      store.createJob({ jobId, spec, status: 'queued', items: 5, tasks: 3, createdAt: 1000 });

    it('creates jobs with increasing sequence numbers and refuses a duplicate id', async () => {
      const a = await create('a');
      const b = await create('b');
      expect(b.seq).toBeGreaterThan(a.seq);
      await expect(create('a')).rejects.toMatchObject({ code: 'conflict' });
      expect((await store.listJobs()).map((job) => job.jobId)).toEqual(['b', 'a']);
      expect(await store.getJob('a')).toMatchObject({
        jobId: 'a',
        status: 'queued',
        spec,
        done: 0,
        failed: 0,
      });
      expect(await store.getJob('missing')).toBeUndefined();
    });

    it('commits a task once: a second settle changes nothing', async () => {
      await create('a');
      await store.apply([
        { type: 'job', jobId: 'a', status: 'running', at: 2000 },
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 1,
          status: 'committed',
          items: [{ output: 3 }, { output: 4 }],
          attempts: 0,
          at: 2001,
        },
      ]);
      await store.apply([
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 1,
          status: 'committed',
          items: [{ output: 99 }, { output: 99 }],
          attempts: 0,
          at: 2002,
        },
      ]);
      expect(await store.getJob('a')).toMatchObject({
        status: 'running',
        startedAt: 2000,
        done: 1,
        failed: 0,
      });
      expect(await collect(store.results('a'))).toEqual([
        { taskIndex: 1, items: [{ output: 3 }, { output: 4 }] },
      ]);
    });

    it('keeps attempts until the task settles, and results in task order', async () => {
      await create('a');
      await store.apply([
        { type: 'attempt', jobId: 'a', taskIndex: 2, attempts: 1, drops: 0 },
        { type: 'attempt', jobId: 'a', taskIndex: 0, attempts: 2, drops: 3 },
      ]);
      expect((await store.taskAttempts('a')).sort((x, y) => x.taskIndex - y.taskIndex)).toEqual([
        { taskIndex: 0, attempts: 2, drops: 3 },
        { taskIndex: 2, attempts: 1, drops: 0 },
      ]);
      await store.apply([
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 2,
          status: 'failed',
          items: [{ error: 'x' }],
          attempts: 3,
          at: 3,
        },
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 0,
          status: 'committed',
          items: [{ output: 1 }, { output: 2 }],
          attempts: 2,
          at: 3,
        },
      ]);
      expect(await store.taskAttempts('a')).toEqual([]);
      expect((await collect(store.results('a'))).map((row) => row.taskIndex)).toEqual([0, 2]);
      expect((await store.settledTasks('a')).sort((x, y) => x.taskIndex - y.taskIndex)).toEqual([
        { taskIndex: 0, status: 'committed' },
        { taskIndex: 2, status: 'failed' },
      ]);
      expect(await store.getJob('a')).toMatchObject({ done: 1, failed: 1 });
    });

    it('lists unfinished jobs and never reopens a finished one', async () => {
      await create('a');
      await create('b');
      await store.apply([
        { type: 'job', jobId: 'a', status: 'running', at: 5 },
        { type: 'job', jobId: 'a', status: 'completed', at: 6 },
        { type: 'job', jobId: 'a', status: 'running', at: 7 },
      ]);
      expect((await store.unfinishedJobs()).map((job) => job.jobId)).toEqual(['b']);
      expect(await store.getJob('a')).toMatchObject({ status: 'completed', finishedAt: 6 });
    });

    it('rolls a batch back whole when one change fails', async () => {
      await create('a');
      await expect(
        store.apply([
          {
            type: 'settle',
            jobId: 'a',
            taskIndex: 0,
            status: 'committed',
            items: [],
            attempts: 0,
            at: 1,
          },
          {
            type: 'settle',
            jobId: 'no-such-job',
            taskIndex: 0,
            status: 'committed',
            items: [],
            attempts: 0,
            at: 1,
          },
        ]),
      ).rejects.toThrow();
      expect(await store.settledTasks('a')).toEqual([]);
      expect(await store.getJob('a')).toMatchObject({ done: 0 });
    });

    it('keeps everything across a reopen', async () => {
      await create('a');
      await store.apply([
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 0,
          status: 'committed',
          items: [{ output: 1 }, { output: 2 }],
          attempts: 0,
          at: 1,
        },
      ]);
      await store.close();
      store = await makeStore(dir);
      expect(await store.getJob('a')).toMatchObject({ done: 1 });
      expect(await collect(store.results('a'))).toHaveLength(1);
    });

    it('keeps the latest checkpoint of an open task and forgets it when the task settles', async () => {
      await create('a');
      const first = { item: 0, state: { n: 1 }, done: [] };
      const later = { item: 1, state: { n: 2 }, done: [{ output: 1 }] };
      await store.apply([{ type: 'checkpoint', jobId: 'a', taskIndex: 0, checkpoint: first }]);
      await store.apply([{ type: 'checkpoint', jobId: 'a', taskIndex: 0, checkpoint: later }]);
      expect(await store.checkpoints('a')).toEqual([{ taskIndex: 0, checkpoint: later }]);
      await store.apply([
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 0,
          status: 'committed',
          items: [{ output: 1 }, { output: 2 }],
          attempts: 0,
          at: 1,
        },
      ]);
      expect(await store.checkpoints('a')).toEqual([]);
    });

    it('lists jobs newest first, a page at a time before a given sequence number', async () => {
      const jobs = [await create('a'), await create('b'), await create('c')];
      const ids = async (options: { limit?: number; beforeSeq?: number }) =>
        (await store.listJobs(options)).map((job) => job.jobId);
      expect(await ids({})).toEqual(['c', 'b', 'a']);
      expect(await ids({ limit: 2 })).toEqual(['c', 'b']);
      expect(await ids({ limit: 2, beforeSeq: jobs[1]?.seq })).toEqual(['a']);
      expect(await ids({ beforeSeq: jobs[0]?.seq })).toEqual([]);
    });

    it("reads the first failed tasks' outcomes in task order, up to a limit", async () => {
      await create('a');
      await create('b');
      const settle = (jobId: string, taskIndex: number, failed: boolean) => ({
        type: 'settle' as const,
        jobId,
        taskIndex,
        status: failed ? ('failed' as const) : ('committed' as const),
        items: [failed ? { error: `boom ${taskIndex}` } : { output: taskIndex }],
        attempts: 1,
        at: 5,
      });
      await store.apply([
        settle('a', 2, true),
        settle('a', 0, false),
        settle('a', 1, true),
        settle('b', 0, true),
      ]);
      await store.apply([settle('a', 4, true)]);
      expect(await store.failedTasks('a', 2)).toEqual([
        { taskIndex: 1, items: [{ error: 'boom 1' }] },
        { taskIndex: 2, items: [{ error: 'boom 2' }] },
      ]);
      expect((await store.failedTasks('a', 10)).map((row) => row.taskIndex)).toEqual([1, 2, 4]);
      expect(await store.failedTasks('missing', 10)).toEqual([]);
    });

    it('records ended copies for the timeline, by task then dispatch time', async () => {
      await create('a');
      const copy = {
        type: 'copy' as const,
        jobId: 'a',
        volunteerId: 'tab-1',
        kind: 'first' as const,
        endedAt: 50,
        end: 'result' as const,
        won: true,
      };
      await store.apply([
        { ...copy, taskIndex: 1, leaseId: 'L3', dispatchedAt: 30, startedAt: 31, fraction: 1 },
        {
          ...copy,
          taskIndex: 0,
          leaseId: 'L2',
          dispatchedAt: 20,
          kind: 'backup',
          end: 'superseded',
          won: false,
        },
        { ...copy, taskIndex: 0, leaseId: 'L1', dispatchedAt: 10 },
        { ...copy, taskIndex: 2, leaseId: 'L4', dispatchedAt: 40 },
      ]);
      const rows = await store.copies('a', { fromTask: 0, tasks: 2 });
      expect(rows.map((row) => row.leaseId)).toEqual(['L1', 'L2', 'L3']);
      expect(rows[1]).toEqual({
        jobId: 'a',
        taskIndex: 0,
        leaseId: 'L2',
        volunteerId: 'tab-1',
        kind: 'backup',
        dispatchedAt: 20,
        endedAt: 50,
        end: 'superseded',
        won: false,
      });
      expect(rows[2]).toMatchObject({ startedAt: 31, fraction: 1, won: true });
    });

    it('keeps copies, attempts and checkpoints as written whatever their text holds', async () => {
      const odd = ['', 'NULL', 'a,b', '{x}', 'say "hi"', 'back\\slash\\', ' spaced ', 'é😀'];
      const jobId = 'job "odd", {NULL}\\';
      await create(jobId);
      await store.apply(
        odd.flatMap((text, taskIndex) => [
          {
            type: 'copy' as const,
            jobId,
            taskIndex,
            leaseId: text,
            volunteerId: `${text}-tab`,
            kind: 'first' as const,
            dispatchedAt: 2 ** 40 + taskIndex,
            fraction: taskIndex / 7,
            endedAt: 2 ** 41,
            end: 'result' as const,
            won: taskIndex % 2 === 0,
          },
          { type: 'attempt' as const, jobId, taskIndex, attempts: taskIndex + 1, drops: taskIndex },
          {
            type: 'checkpoint' as const,
            jobId,
            taskIndex,
            checkpoint: { item: 0, state: { [text]: [text, null, -0.5] }, done: [] },
          },
        ]),
      );
      const copies = await store.copies(jobId, { fromTask: 0, tasks: odd.length });
      expect(copies.map((row) => [row.jobId, row.leaseId, row.volunteerId, row.won])).toEqual(
        odd.map((text, i) => [jobId, text, `${text}-tab`, i % 2 === 0]),
      );
      expect(copies.map((row) => [row.dispatchedAt, row.fraction])).toEqual(
        odd.map((_, i) => [2 ** 40 + i, i / 7]),
      );
      expect(await store.taskAttempts(jobId)).toEqual(
        expect.arrayContaining(odd.map((_, i) => ({ taskIndex: i, attempts: i + 1, drops: i }))),
      );
      const checkpoints = await store.checkpoints(jobId);
      expect(checkpoints.sort((a, b) => a.taskIndex - b.taskIndex)).toEqual(
        odd.map((text, taskIndex) => ({
          taskIndex,
          checkpoint: { item: 0, state: { [text]: [text, null, -0.5] }, done: [] },
        })),
      );
    });

    it('clears the attempts and checkpoint a batch wrote for a task it settles, and keeps the others', async () => {
      await create('a');
      const checkpoint = { item: 0, state: 'half', done: [] };
      await store.apply([
        { type: 'attempt', jobId: 'a', taskIndex: 0, attempts: 1, drops: 0 },
        { type: 'checkpoint', jobId: 'a', taskIndex: 0, checkpoint },
        { type: 'attempt', jobId: 'a', taskIndex: 1, attempts: 2, drops: 1 },
        { type: 'checkpoint', jobId: 'a', taskIndex: 1, checkpoint },
      ]);
      await store.apply([
        { type: 'attempt', jobId: 'a', taskIndex: 0, attempts: 2, drops: 0 },
        { type: 'checkpoint', jobId: 'a', taskIndex: 0, checkpoint },
        { type: 'attempt', jobId: 'a', taskIndex: 2, attempts: 1, drops: 0 },
        {
          type: 'settle',
          jobId: 'a',
          taskIndex: 0,
          status: 'committed',
          items: [{ output: 0 }],
          attempts: 2,
          at: 5,
        },
      ]);
      expect(await store.taskAttempts('a')).toEqual(
        expect.arrayContaining([
          { taskIndex: 1, attempts: 2, drops: 1 },
          { taskIndex: 2, attempts: 1, drops: 0 },
        ]),
      );
      expect((await store.taskAttempts('a')).map((row) => row.taskIndex).sort()).toEqual([1, 2]);
      expect(await store.checkpoints('a')).toEqual([{ taskIndex: 1, checkpoint }]);
      expect(await store.getJob('a')).toMatchObject({ done: 1, failed: 0 });
    });

    it('refuses a batch whose copy, attempt or checkpoint names a job that does not exist', async () => {
      await create('a');
      const changes = [
        { type: 'attempt' as const, jobId: 'no-such-job', taskIndex: 0, attempts: 1, drops: 0 },
        {
          type: 'checkpoint' as const,
          jobId: 'no-such-job',
          taskIndex: 0,
          checkpoint: { item: 0, state: 1, done: [] },
        },
        {
          type: 'copy' as const,
          jobId: 'no-such-job',
          taskIndex: 0,
          leaseId: 'L1',
          volunteerId: 'tab-1',
          kind: 'first' as const,
          dispatchedAt: 1,
          endedAt: 2,
          end: 'result' as const,
          won: true,
        },
      ];
      for (const change of changes) {
        await expect(
          store.apply([
            { type: 'attempt', jobId: 'a', taskIndex: 1, attempts: 1, drops: 0 },
            change,
          ]),
        ).rejects.toThrow();
      }
      expect(await store.taskAttempts('a')).toEqual([]);
      expect(await store.taskAttempts('no-such-job')).toEqual([]);
    });

    it('pages through large result sets in order', async () => {
      await store.createJob({
        jobId: 'big',
        spec,
        status: 'queued',
        items: 1200,
        tasks: 1200,
        createdAt: 1,
      });
      const changes = Array.from({ length: 1200 }, (_, i) => ({
        type: 'settle' as const,
        jobId: 'big',
        taskIndex: 1199 - i,
        status: 'committed' as const,
        items: [{ output: 1199 - i }],
        attempts: 0,
        at: 1,
      }));
      await store.apply(changes);
      const rows = await collect(store.results('big'));
      expect(rows.map((row) => row.taskIndex)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    });

    it("keeps grid and tab pauses; resuming a grid clears its tabs' own", async () => {
      await store.createGrid({ code: 'ROOM1', name: 'room', createdAt: 1 });
      await store.createGrid({ code: 'ROOM2', name: 'other', createdAt: 2 });
      await store.setTabPaused({ volunteerId: 'a', grid: 'ROOM1', pausedAt: 10 }, true);
      await store.setTabPaused({ volunteerId: 'b', grid: 'ROOM2', pausedAt: 5 }, true);
      await store.setTabPaused({ volunteerId: 'c', grid: 'ROOM1', pausedAt: 20 }, true);
      await store.setTabPaused({ volunteerId: 'c', grid: 'ROOM1', pausedAt: 0 }, false);
      expect((await store.pausedTabs()).map((tab) => tab.volunteerId)).toEqual(['b', 'a']);

      await store.setGridPaused('ROOM1', true);
      expect(await store.getGrid('ROOM1')).toMatchObject({ paused: true });
      await store.setGridPaused('ROOM1', false);
      expect(await store.getGrid('ROOM1')).toMatchObject({ paused: false });
      expect(await store.pausedTabs()).toEqual([{ volunteerId: 'b', grid: 'ROOM2', pausedAt: 5 }]);
    });

    it('appends upload items in order, reads any span of them, and deletes them', async () => {
      const uploadId = `u-${'1'.repeat(8)}-1111-1111-1111-${'1'.repeat(12)}`;
      await store.createUpload({ uploadId, format: 'ndjson', createdAt: 5 });
      expect(await store.getUpload(uploadId)).toMatchObject({ items: 0, complete: false });
      await store.appendUpload(uploadId, ['1', '"two"', '{"n":3}']);
      await store.appendUpload(uploadId, ['[4]', 'null']);
      const upload = await store.completeUpload(uploadId);
      expect(upload).toMatchObject({
        uploadId,
        format: 'ndjson',
        items: 5,
        bytes: 20,
        complete: true,
      });
      await expect(store.appendUpload(uploadId, ['6'])).rejects.toThrow(/already complete/);

      const inputs = store.uploadInputs(upload);
      expect(inputs.items).toBe(5);
      expect(inputs.itemBytes).toBeCloseTo(20 / 5);
      expect(await inputs.read({ start: 1, count: 3 })).toEqual(['two', { n: 3 }, [4]]);
      expect(await inputs.read({ start: 4, count: 1 })).toEqual([null]);

      expect(await store.deleteUpload(uploadId)).toBe(true);
      expect(await store.deleteUpload(uploadId)).toBe(false);
      expect(await store.listUploads()).toEqual([]);
    });

    it('commits each task once when two stores on one database apply the same settles at once', async () => {
      await store.createJob({
        jobId: 'a',
        spec,
        status: 'queued',
        items: 60,
        tasks: 60,
        createdAt: 1,
      });
      const other = await makeStore(dir);
      try {
        const settles = Array.from({ length: 60 }, (_, taskIndex) => ({
          type: 'settle' as const,
          jobId: 'a',
          taskIndex,
          status: taskIndex % 4 === 0 ? ('failed' as const) : ('committed' as const),
          items: [{ output: taskIndex }],
          attempts: 1,
          at: 10,
        }));
        // Opposite orders, as two nodes' group commits would meet them.
        await Promise.all([
          store.apply(settles),
          other.apply([...settles].reverse()),
          other.apply(settles.slice(20, 40)),
        ]);
        expect(await store.getJob('a')).toMatchObject({ done: 45, failed: 15 });
        expect(await other.getJob('a')).toMatchObject({ done: 45, failed: 15 });
        expect(await store.settledTasks('a')).toHaveLength(60);
      } finally {
        await other.close();
      }
    });

    it('keeps the first of two settles of one task in one batch, and the last attempt and checkpoint', async () => {
      await create('a');
      const settle = {
        type: 'settle' as const,
        jobId: 'a',
        taskIndex: 0,
        status: 'committed' as const,
        attempts: 0,
        at: 1,
      };
      await store.apply([
        { type: 'attempt', jobId: 'a', taskIndex: 1, attempts: 1, drops: 0 },
        { type: 'attempt', jobId: 'a', taskIndex: 1, attempts: 2, drops: 1 },
        {
          type: 'checkpoint',
          jobId: 'a',
          taskIndex: 1,
          checkpoint: { item: 0, state: 1, done: [] },
        },
        {
          type: 'checkpoint',
          jobId: 'a',
          taskIndex: 1,
          checkpoint: { item: 1, state: 2, done: [] },
        },
        { ...settle, items: [{ output: 'first' }] },
        { ...settle, items: [{ output: 'second' }] },
      ]);
      expect(await collect(store.results('a'))).toEqual([
        { taskIndex: 0, items: [{ output: 'first' }] },
      ]);
      expect(await store.getJob('a')).toMatchObject({ done: 1 });
      expect(await store.taskAttempts('a')).toEqual([{ taskIndex: 1, attempts: 2, drops: 1 }]);
      expect(await store.checkpoints('a')).toEqual([
        { taskIndex: 1, checkpoint: { item: 1, state: 2, done: [] } },
      ]);
    });

    it("reads today's millisecond times back as numbers, not text", async () => {
      const now = 1_764_930_000_123;
      const job = await store.createJob({
        jobId: 'a',
        spec,
        status: 'running',
        items: 5,
        tasks: 3,
        createdAt: now,
        startedAt: now + 1,
      });
      await store.apply([
        { type: 'job', jobId: 'a', status: 'completed', at: now + 2 },
        {
          type: 'copy',
          jobId: 'a',
          taskIndex: 0,
          leaseId: 'L',
          volunteerId: 'tab',
          kind: 'first',
          dispatchedAt: now + 3,
          startedAt: now + 4,
          fraction: 0.25,
          endedAt: now + 5,
          end: 'result',
          won: true,
        },
      ]);
      await store.createGrid({ code: 'ROOM', name: 'r', createdAt: now });
      await store.createToken({ tokenId: 't', name: 'n', hash: 'h', createdAt: now });
      await store.revokeToken('t', now + 6);
      await store.setTabPaused({ volunteerId: 'v', grid: 'ROOM', pausedAt: now + 7 }, true);
      await store.createUpload({ uploadId: 'u', format: 'ndjson', createdAt: now });
      expect(job.seq).toBeTypeOf('number');
      expect(await store.getJob('a')).toMatchObject({
        seq: job.seq,
        createdAt: now,
        startedAt: now + 1,
        finishedAt: now + 2,
      });
      expect(await store.copies('a', { fromTask: 0, tasks: 1 })).toEqual([
        expect.objectContaining({ dispatchedAt: now + 3, startedAt: now + 4, endedAt: now + 5 }),
      ]);
      expect((await store.listGrids())[0]?.createdAt).toBe(now);
      expect(await store.listTokens()).toEqual([
        { tokenId: 't', name: 'n', hash: 'h', createdAt: now, revokedAt: now + 6 },
      ]);
      expect(await store.pausedTabs()).toEqual([
        { volunteerId: 'v', grid: 'ROOM', pausedAt: now + 7 },
      ]);
      expect(await store.getUpload('u')).toMatchObject({ createdAt: now, bytes: 0, items: 0 });
    });

    it('gives back JSON exactly as written: key order, prototype keys as data, depth, odd text', async () => {
      const hostile = ownObject([
        ['z', 1],
        ['__proto__', ownObject([['polluted', true]])],
        ['constructor', { prototype: { x: 1 } }],
        ['a', ['\u0000', '\ud800', 'é😀', '', 1e308, -1.5e-300, 2 ** 53]],
        ['deep', nest(MAX_JSON_DEPTH - 4, 'array')],
      ]) as JsonValue;
      const hostileSpec = { ...spec, name: '__proto__', inputs: [hostile, null] } as JobSpec;
      await store.createJob({
        jobId: 'h',
        spec: hostileSpec,
        status: 'queued',
        items: 2,
        tasks: 1,
        createdAt: 1,
      });
      const items = [{ output: hostile }, { error: '__proto__' }];
      const checkpoint = { item: 1, state: hostile, done: [{ output: hostile }] };
      await store.apply([
        { type: 'checkpoint', jobId: 'h', taskIndex: 1, checkpoint },
        {
          type: 'settle',
          jobId: 'h',
          taskIndex: 0,
          status: 'committed',
          items,
          attempts: 0,
          at: 1,
        },
      ]);
      await store.setReduced('h', { value: hostile });
      const text = (value: unknown): string => JSON.stringify(value);
      const job = await store.getJob('h');
      expect(text(job?.spec)).toBe(text(hostileSpec));
      expect(text(job?.reduced)).toBe(text({ value: hostile }));
      expect(text((await collect(store.results('h')))[0]?.items)).toBe(text(items));
      expect(text((await store.checkpoints('h'))[0]?.checkpoint)).toBe(text(checkpoint));
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

      const values = [text(hostile), '"\\u0000"', '{"__proto__":1,"__proto__":2}'];
      await store.createUpload({ uploadId: 'u', format: 'ndjson', createdAt: 1 });
      await store.appendUpload('u', values);
      const upload = await store.completeUpload('u');
      const read = await store.uploadInputs(upload).read({ start: 0, count: 3 });
      expect(read.map(text)).toEqual(values.map((value) => text(JSON.parse(value))));
    });
  });
}
