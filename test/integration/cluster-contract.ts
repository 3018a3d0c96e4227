/**
 * @module The cluster part of the JobStore contract (server/store/cluster.ts): nodes and epochs,
 * claimed ranges, the fence on `apply`, forwarded results, shared secrets, tab presence and
 * events. `runStoreContract` runs it inside its own suite, on every backend. Heartbeat ages are
 * the store's clock against real time, so the reaping test waits real milliseconds.
 */
import { expect, it } from 'vitest';
import type { ClaimedRange } from '../../server/store/cluster.ts';
import type { JobStore, StoreChange } from '../../server/store/store.ts';
import { JobSpec } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import { ownObject } from '../support/hostile-json.ts';
import { committed } from '../support/store-changes.ts';

export const spec = JobSpec.parse({ map: '(x) => x', inputs: [1, 2, 3], chunkSize: 1 });

export interface ClusterContext {
  store(): JobStore;
  /** Another store on the same storage: another node. The suite closes it. */
  another(): Promise<JobStore>;
}

export const settle = (jobId: string, taskIndex: number): StoreChange =>
  committed(jobId, taskIndex);

const result = (jobId: string, taskIndex: number): TaskResult => ({
  leaseId: `lease-${taskIndex}`,
  jobId,
  taskIndex,
  durationMs: 5,
  outcome: {
    status: 'ok',
    items: [
      {
        output: ownObject([
          ['__proto__', { polluted: true }],
          ['n', taskIndex],
        ]) as JsonValue,
      },
    ],
  },
});

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Ranges sorted by start; fails unless they cover [0, tasks) exactly, once. */
export function expectExactCover(ranges: ClaimedRange[], tasks: number): void {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  let next = 0;
  for (const range of sorted) {
    expect(range.start, 'ranges overlap or leave a gap').toBe(next);
    expect(range.end).toBeGreaterThan(range.start);
    next = range.end;
  }
  expect(next).toBe(tasks);
}

/** Helpers every cluster test uses, bound to the suite's store. */
export function clusterHelpers(ctx: ClusterContext) {
  return {
    job: (jobId: string, tasks: number) =>
      ctx.store().createJob({ jobId, spec, status: 'queued', items: tasks, tasks, createdAt: 1 }),
    join: (nodeId: string, store = ctx.store()) =>
      store.joinCluster({ nodeId, url: `http://${nodeId}.test` }),
  };
}

export function clusterContract(ctx: ClusterContext): void {
  const { job, join } = clusterHelpers(ctx);

  it('gives each joining node an epoch larger than every one before, and lists live nodes oldest first', async () => {
    const a = await join('a');
    const b = await join('b');
    const c = await (await ctx.another()).joinCluster({ nodeId: 'c' });
    expect(b.epoch).toBeGreaterThan(a.epoch);
    expect(c.epoch).toBeGreaterThan(b.epoch);
    expect(a).toMatchObject({ nodeId: 'a', url: 'http://a.test' });
    expect(c.url).toBeUndefined();
    expect(a.heartbeatAt).toBeGreaterThanOrEqual(a.startedAt);
    await ctx.store().leaveCluster(b.epoch);
    const d = await join('b');
    expect(d.epoch).toBeGreaterThan(c.epoch);
    expect((await ctx.store().liveNodes()).map((node) => node.epoch)).toEqual([
      a.epoch,
      c.epoch,
      d.epoch,
    ]);
  });

  it('keeps the URL a live node announces once it listens, and ignores one from a node that left', async () => {
    const store = ctx.store();
    const a = await store.joinCluster({ nodeId: 'a' });
    const gone = await store.joinCluster({ nodeId: 'gone' });
    await store.leaveCluster(gone.epoch);
    await store.announceUrl(a.epoch, 'http://127.0.0.1:4100');
    await store.announceUrl(gone.epoch, 'http://127.0.0.1:4101');
    expect((await store.liveNodes()).map((node) => [node.nodeId, node.url])).toEqual([
      ['a', 'http://127.0.0.1:4100'],
    ]);
  });

  it('reaps only nodes silent for longer than asked, fails their heartbeats and releases their claims', async () => {
    const store = ctx.store();
    await job('j', 20);
    const silent = await join('silent');
    const [range] = await store.claimTasks('j', silent.epoch, 5);
    await wait(400);
    const fresh = await join('fresh');
    expect(await store.heartbeat(fresh.epoch)).toBe(true);
    expect(await store.reapNodes(300)).toEqual([silent.epoch]);
    expect(await store.reapNodes(300)).toEqual([]);
    expect(await store.heartbeat(silent.epoch)).toBe(false);
    expect(await store.heartbeat(fresh.epoch)).toBe(true);
    expect((await store.liveNodes()).map((node) => node.nodeId)).toEqual(['fresh']);
    await expect(store.claimTasks('j', silent.epoch, 5)).rejects.toMatchObject({ code: 'fenced' });
    expect(await store.claimTasks('j', fresh.epoch, 1)).toEqual([range]);

    await store.leaveCluster(fresh.epoch);
    expect(await store.heartbeat(fresh.epoch)).toBe(false);
    expect(await store.liveNodes()).toEqual([]);
    const next = await join('next');
    expect(await store.claimTasks('j', next.epoch, 50)).toEqual([range]);
  });

  it('claims fresh tasks past the frontier in order, and nothing once all are claimed or the job ended', async () => {
    const store = ctx.store();
    await job('j', 10);
    await job('gone', 10);
    const node = await join('n');
    expect(await store.claimTasks('j', node.epoch, 4)).toEqual([{ jobId: 'j', start: 0, end: 4 }]);
    expect(await store.claimTasks('j', node.epoch, 4)).toEqual([{ jobId: 'j', start: 4, end: 8 }]);
    expect(await store.claimTasks('j', node.epoch, 4)).toEqual([{ jobId: 'j', start: 8, end: 10 }]);
    expect(await store.claimTasks('j', node.epoch, 4)).toEqual([]);
    expect(await store.claimTasks('no-such-job', node.epoch, 4)).toEqual([]);
    await store.apply([{ type: 'job', jobId: 'gone', status: 'cancelled', at: 5 }]);
    expect(await store.claimTasks('gone', node.epoch, 4)).toEqual([]);
  });

  it('re-claims a released range whole before the frontier advances; a release by another epoch does nothing', async () => {
    const store = ctx.store();
    await job('j', 12);
    const a = await join('a');
    const b = await join('b');
    const first = (await store.claimTasks('j', a.epoch, 4))[0] as ClaimedRange;
    const second = (await store.claimTasks('j', a.epoch, 4))[0] as ClaimedRange;
    await store.releaseRange(first, b.epoch);
    await store.releaseRange({ ...first, end: 3 }, a.epoch);
    expect(await store.claimTasks('j', b.epoch, 2)).toEqual([{ jobId: 'j', start: 8, end: 10 }]);
    await store.releaseRange(first, a.epoch);
    expect(await store.claimTasks('j', b.epoch, 2)).toEqual([first]);
    await store.leaveCluster(a.epoch);
    expect(await store.claimTasks('j', b.epoch, 1)).toEqual([second]);
    expect(await store.claimTasks('j', b.epoch, 9)).toEqual([{ jobId: 'j', start: 10, end: 12 }]);
  });

  it('tells a node which ranges of a job it holds, in task order, and none it released or never had', async () => {
    const store = ctx.store();
    await job('j', 40);
    const a = await join('a');
    const b = await join('b');
    const first = await store.claimTasks('j', a.epoch, 10);
    await store.claimTasks('j', b.epoch, 10);
    const second = await store.claimTasks('j', a.epoch, 10);
    expect(await store.heldRanges('j', a.epoch)).toEqual([...first, ...second]);
    await store.releaseRange(first[0] as ClaimedRange, a.epoch);
    expect(await store.heldRanges('j', a.epoch)).toEqual(second);
    expect(await store.heldRanges('other', a.epoch)).toEqual([]);
    await store.leaveCluster(a.epoch);
    expect(await store.heldRanges('j', a.epoch)).toEqual([]);
  });

  it('refuses claims of a node that is no longer live, and claims nothing for it', async () => {
    const store = ctx.store();
    await job('j', 10);
    const gone = await join('gone');
    await store.leaveCluster(gone.epoch);
    await expect(store.claimTasks('j', gone.epoch, 3)).rejects.toMatchObject({ code: 'fenced' });
    await expect(store.claimTasks('j', gone.epoch + 1000, 3)).rejects.toMatchObject({
      code: 'fenced',
    });
    const live = await join('live');
    expect(await store.claimTasks('j', live.epoch, 3)).toEqual([{ jobId: 'j', start: 0, end: 3 }]);
  });

  it('reports settled tasks, attempts and checkpoints within a range, never beyond it', async () => {
    const store = ctx.store();
    await job('j', 10);
    const checkpoint = { item: 0, state: { n: 1 }, done: [] };
    await store.apply([
      settle('j', 5),
      settle('j', 2),
      settle('j', 3),
      settle('j', 7),
      { type: 'attempt', jobId: 'j', taskIndex: 6, attempts: 2, drops: 1 },
      { type: 'attempt', jobId: 'j', taskIndex: 4, attempts: 1, drops: 0 },
      { type: 'attempt', jobId: 'j', taskIndex: 1, attempts: 1, drops: 0 },
      { type: 'checkpoint', jobId: 'j', taskIndex: 6, checkpoint },
      { type: 'checkpoint', jobId: 'j', taskIndex: 8, checkpoint },
    ]);
    expect(await store.rangeState({ jobId: 'j', start: 2, end: 7 })).toEqual({
      settled: [2, 3, 5],
      attempts: [
        { taskIndex: 4, attempts: 1, drops: 0 },
        { taskIndex: 6, attempts: 2, drops: 1 },
      ],
      checkpoints: [{ taskIndex: 6, checkpoint }],
    });
  });

  it('writes nothing of a fenced batch whose settle lies outside its live claims, and rejects it as fenced', async () => {
    const store = ctx.store();
    await job('j', 12);
    const a = await join('a');
    const b = await join('b');
    await store.claimTasks('j', a.epoch, 4);
    await store.claimTasks('j', b.epoch, 4);
    const extras: StoreChange[] = [
      { type: 'attempt', jobId: 'j', taskIndex: 2, attempts: 1, drops: 0 },
      { type: 'checkpoint', jobId: 'j', taskIndex: 3, checkpoint: { item: 0, state: 1, done: [] } },
      { type: 'job', jobId: 'j', status: 'running', at: 9 },
    ];
    const nothingWritten = async () => {
      expect(await store.settledTasks('j')).toEqual([]);
      expect(await store.taskAttempts('j')).toEqual([]);
      expect(await store.checkpoints('j')).toEqual([]);
      expect(await store.getJob('j')).toMatchObject({ status: 'queued', done: 0 });
    };
    // Another node's task, then a task nobody claimed.
    for (const outside of [5, 9]) {
      await expect(
        store.apply([settle('j', 1), ...extras, settle('j', outside)], { epoch: a.epoch }),
      ).rejects.toMatchObject({ code: 'fenced' });
      await nothingWritten();
    }
    await store.leaveCluster(a.epoch);
    await expect(
      store.apply([settle('j', 1), ...extras], { epoch: a.epoch }),
    ).rejects.toMatchObject({ code: 'fenced' });
    await expect(store.apply(extras, { epoch: a.epoch })).rejects.toMatchObject({ code: 'fenced' });
    await nothingWritten();

    await store.apply([settle('j', 5), ...extras], { epoch: b.epoch });
    await store.apply([settle('j', 9), settle('j', 1)]);
    expect((await store.settledTasks('j')).map((task) => task.taskIndex).sort()).toEqual([1, 5, 9]);
    expect(await store.getJob('j')).toMatchObject({ status: 'running', done: 3 });
  });

  it('lists forwarded results only within live claims of that epoch, oldest first, at most `limit`', async () => {
    const store = ctx.store();
    await job('j', 12);
    const a = await join('a');
    const b = await join('b');
    await store.claimTasks('j', a.epoch, 4);
    await store.claimTasks('j', b.epoch, 4);
    await store.forwardResults([]);
    await store.forwardResults(
      [2, 5, 9, 0].map((taskIndex) => ({
        jobId: 'j',
        taskIndex,
        volunteerId: taskIndex === 0 ? 'tab-"{0,}\\' : `tab-${taskIndex}`,
        deviceId: 'dev',
        ...(taskIndex === 2 ? { address: '127.0.0.9' } : {}),
        result: result('j', taskIndex),
      })),
    );
    const ofA = await store.forwardedResults(a.epoch, 10);
    expect(ofA[1]?.volunteerId).toBe('tab-"{0,}\\');
    expect(ofA.map((row) => row.taskIndex)).toEqual([2, 0]);
    expect(ofA[0]).toEqual({
      forwardId: expect.any(Number),
      jobId: 'j',
      taskIndex: 2,
      volunteerId: 'tab-2',
      deviceId: 'dev',
      address: '127.0.0.9',
      result: result('j', 2),
    });
    expect(ofA[1]?.address).toBeUndefined();
    expect(JSON.stringify(ofA[0]?.result)).toBe(JSON.stringify(result('j', 2)));
    expect(JSON.stringify(ofA[0]?.result)).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((await store.forwardedResults(a.epoch, 1)).map((row) => row.taskIndex)).toEqual([2]);
    const afterFirst = await store.forwardedResults(a.epoch, 10, ofA[0]?.forwardId);
    expect(afterFirst.map((row) => row.taskIndex)).toEqual([0]);
    expect(await store.forwardedResults(a.epoch, 10, ofA[1]?.forwardId)).toEqual([]);
    expect((await store.forwardedResults(b.epoch, 10)).map((row) => row.taskIndex)).toEqual([5]);
    await store.leaveCluster(b.epoch);
    expect(await store.forwardedResults(b.epoch, 10)).toEqual([]);
    const c = await join('c');
    await store.claimTasks('j', c.epoch, 1);
    expect((await store.forwardedResults(c.epoch, 10)).map((row) => row.taskIndex)).toEqual([5]);
    await store.dropClaims('j');
    expect(await store.forwardedResults(a.epoch, 10)).toEqual([]);
  });

  it("lists other live nodes' open tasks for backups, lowest first: not its own, settled, forwarded or a dead node's", async () => {
    const store = ctx.store();
    await job('j', 20);
    const a = await join('a');
    const b = await join('b');
    const c = await join('c');
    await store.claimTasks('j', a.epoch, 4); // [0, 4)
    await store.claimTasks('j', b.epoch, 8); // [4, 12)
    await store.claimTasks('j', c.epoch, 4); // [12, 16); [16, 20) unclaimed
    await store.apply([settle('j', 4), settle('j', 6)], { epoch: b.epoch });
    await store.forwardResults([
      { jobId: 'j', taskIndex: 7, volunteerId: 'tab', deviceId: 'dev', result: result('j', 7) },
    ]);
    expect(await store.unsettledElsewhere('j', a.epoch, 0, 100)).toEqual([
      5, 8, 9, 10, 11, 12, 13, 14, 15,
    ]);
    expect(await store.unsettledElsewhere('j', a.epoch, 0, 3)).toEqual([5, 8, 9]);
    expect(await store.unsettledElsewhere('j', a.epoch, 9, 3)).toEqual([9, 10, 11]);
    expect(await store.unsettledElsewhere('j', a.epoch, 12, 100)).toEqual([12, 13, 14, 15]);
    expect(await store.unsettledElsewhere('j', a.epoch, 16, 100)).toEqual([]);
    expect(await store.unsettledElsewhere('j', b.epoch, 0, 100)).toEqual([
      0, 1, 2, 3, 12, 13, 14, 15,
    ]);
    await store.leaveCluster(c.epoch);
    expect(await store.unsettledElsewhere('j', a.epoch, 0, 100)).toEqual([5, 8, 9, 10, 11]);
    expect(await store.unsettledElsewhere('other', a.epoch, 0, 100)).toEqual([]);
    expect(await store.unsettledElsewhere('j', a.epoch, 0, 0)).toEqual([]);
  });

  it('says which of some tasks have settled or have a result forwarded, in task order', async () => {
    const store = ctx.store();
    await job('j', 10);
    const a = await join('a');
    await store.claimTasks('j', a.epoch, 10);
    await store.apply([settle('j', 7), settle('j', 2)], { epoch: a.epoch });
    await store.forwardResults([
      { jobId: 'j', taskIndex: 4, volunteerId: 'tab', deviceId: 'dev', result: result('j', 4) },
    ]);
    expect(await store.closedAmong('j', [9, 7, 4, 3, 2, 2])).toEqual([2, 4, 7]);
    expect(await store.closedAmong('j', [])).toEqual([]);
    expect(await store.closedAmong('other', [2])).toEqual([]);
  });

  it('deletes exactly a taken forwarded result together with its settle, and keeps it when the batch is fenced', async () => {
    const store = ctx.store();
    await job('j', 8);
    const a = await join('a');
    await store.claimTasks('j', a.epoch, 4);
    await store.forwardResults(
      [1, 1, 2].map((taskIndex) => ({
        jobId: 'j',
        taskIndex,
        volunteerId: 'tab',
        deviceId: 'dev',
        result: result('j', taskIndex),
      })),
    );
    const [first, second, third] = await store.forwardedResults(a.epoch, 10);
    if (!first || !second || !third) throw new Error('three forwarded results expected');
    await store.apply([settle('j', 1), { type: 'forward-taken', forwardId: first.forwardId }], {
      epoch: a.epoch,
    });
    expect((await store.forwardedResults(a.epoch, 10)).map((row) => row.forwardId)).toEqual([
      second.forwardId,
      third.forwardId,
    ]);
    await expect(
      store.apply(
        [settle('j', 2), { type: 'forward-taken', forwardId: third.forwardId }, settle('j', 6)],
        { epoch: a.epoch },
      ),
    ).rejects.toMatchObject({ code: 'fenced' });
    expect((await store.forwardedResults(a.epoch, 10)).map((row) => row.forwardId)).toEqual([
      second.forwardId,
      third.forwardId,
    ]);
    expect((await store.settledTasks('j')).map((task) => task.taskIndex)).toEqual([1]);
  });

  it('gives every caller the first shared secret stored, on every node', async () => {
    const other = await ctx.another();
    const values = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? ctx.store() : other).sharedSecret('lease', `secret-${i}`),
      ),
    );
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toMatch(/^secret-[0-7]$/);
    expect(await other.sharedSecret('lease', 'later')).toBe(values[0]);
    expect(await ctx.store().sharedSecret('device', 'dev-secret')).toBe('dev-secret');
  });

  it("lists every live node's tabs with its node id, and no tabs of a node gone", async () => {
    const store = ctx.store();
    const a = await join('node-a');
    const b = await join('node-b', await ctx.another());
    const tab = (volunteerId: string) => ({
      volunteerId,
      deviceId: 'dev',
      slots: 2,
      holding: 1,
      tasksDone: 3,
      node: 'whatever the node said',
    });
    await store.publishTabs(a.epoch, [tab('t1'), { ...tab('t2'), grid: 'ROOM', taskMs: 12.5 }]);
    await store.publishTabs(b.epoch, [tab('t3')]);
    expect(await store.clusterTabs()).toEqual([
      { ...tab('t1'), node: 'node-a' },
      { ...tab('t2'), grid: 'ROOM', taskMs: 12.5, node: 'node-a' },
      { ...tab('t3'), node: 'node-b' },
    ]);
    await store.publishTabs(a.epoch, [tab('t2')]);
    await store.leaveCluster(b.epoch);
    await store.publishTabs(b.epoch, [tab('t4')]);
    expect(await store.clusterTabs()).toEqual([{ ...tab('t2'), node: 'node-a' }]);
  });
}
