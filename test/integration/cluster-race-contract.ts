/**
 * @module The cluster contract where nodes meet: two stores on one database claiming at once, a
 * node declared gone while it claims, and a node presumed dead that wakes and tries to commit.
 */
import { expect, it } from 'vitest';
import type { ClaimedRange } from '../../server/store/cluster.ts';
import type { JobStore } from '../../server/store/store.ts';
import {
  clusterHelpers,
  expectExactCover,
  settle,
  type ClusterContext,
} from './cluster-contract.ts';

export function clusterRaceContract(ctx: ClusterContext): void {
  const { job, join } = clusterHelpers(ctx);

  it('never gives two nodes on one database overlapping ranges: together they cover the job exactly', async () => {
    const other = await ctx.another();
    const tasks = 600;
    await job('j', tasks);
    const leaver = await join('leaver');
    const released: ClaimedRange[] = [];
    for (let i = 0; i < 4; i++)
      released.push(...(await ctx.store().claimTasks('j', leaver.epoch, 9)));
    await ctx.store().leaveCluster(leaver.epoch);
    const a = await join('a');
    const b = await join('b', other);
    const claimAll = async (store: JobStore, epoch: number): Promise<ClaimedRange[]> => {
      const got: ClaimedRange[] = [];
      for (let size = epoch % 5; ; size++) {
        const ranges = await store.claimTasks('j', epoch, 1 + (size % 13));
        if (ranges.length === 0) return got;
        got.push(...ranges);
      }
    };
    const [ofA, ofB] = await Promise.all([
      claimAll(ctx.store(), a.epoch),
      claimAll(other, b.epoch),
    ]);
    expectExactCover([...ofA, ...ofB], tasks);
    for (const range of released) expect([...ofA, ...ofB]).toContainEqual(range);
  });

  it('leaves no claim with a node declared gone while it claims: the claim is refused or released', async () => {
    const other = await ctx.another();
    await job('j', 100_000);
    const keeper = await join('keeper');
    for (let round = 0; round < 40; round++) {
      const node = await join(`n${round}`);
      const [claimed] = await Promise.allSettled([
        ctx.store().claimTasks('j', node.epoch, 7),
        other.leaveCluster(node.epoch),
      ]);
      if (claimed.status === 'rejected') {
        expect(claimed.reason).toMatchObject({ code: 'fenced' });
        continue;
      }
      for (const range of claimed.value) {
        expect(await ctx.store().claimTasks('j', keeper.epoch, 1)).toEqual([range]);
      }
    }
  });

  it('lets a node presumed dead commit nothing once woken, while the node that took its range over commits', async () => {
    const other = await ctx.another();
    await job('j', 8);
    const sleeper = await join('sleeper');
    const [range] = await ctx.store().claimTasks('j', sleeper.epoch, 4);
    await ctx.store().apply([settle('j', 0)], { epoch: sleeper.epoch });
    // The sleeper stops renewing; another node declares it dead and takes its range over.
    const taker = await join('taker', other);
    await other.leaveCluster(sleeper.epoch);
    expect(await other.claimTasks('j', taker.epoch, 4)).toEqual([range]);
    expect((await other.rangeState(range as ClaimedRange)).settled).toEqual([0]);

    expect(await ctx.store().heartbeat(sleeper.epoch)).toBe(false);
    await expect(
      ctx.store().apply([settle('j', 1), settle('j', 2)], { epoch: sleeper.epoch }),
    ).rejects.toMatchObject({ code: 'fenced' });
    await other.apply([settle('j', 2), settle('j', 3)], { epoch: taker.epoch });
    expect((await other.settledTasks('j')).map((task) => task.taskIndex).sort()).toEqual([0, 2, 3]);
    expect(await other.getJob('j')).toMatchObject({ done: 3 });
  });
}
