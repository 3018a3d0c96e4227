/**
 * @module The JobStore contract: one suite every backend must pass. A backend's test file calls
 * `runStoreContract(name, makeStore)`; `makeStore(dir)` opens the store on persistent storage
 * under `dir`, so reopening sees what was written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStore, StoredTaskResult } from '../../server/store/store.ts';
import { JobSpec } from '../../shared/job.ts';

const spec = JobSpec.parse({ map: '(x) => x', inputs: [1, 2, 3, 4, 5], chunkSize: 2 });

async function collect(iterable: AsyncIterable<StoredTaskResult>): Promise<StoredTaskResult[]> {
  const out: StoredTaskResult[] = [];
  for await (const row of iterable) out.push(row);
  return out;
}

export function runStoreContract(name: string, makeStore: (dir: string) => JobStore): void {
  describe(`JobStore contract: ${name}`, () => {
    let dir: string;
    let store: JobStore;

    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), `browsergrid-store-${name}-`));
      store = makeStore(dir);
    });

    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

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
      store = makeStore(dir);
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
  });
}
