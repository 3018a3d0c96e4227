/**
 * @module The device-standing part of the JobStore contract (server/store/standing.ts): deltas
 * from several nodes add up, a disagreement or a ban ends the streak, and reads find what was
 * written. `runStoreContract` runs it inside its own suite, on every backend.
 */
import { expect, it } from 'vitest';
import type { JobStore, StoreChange } from '../../server/store/store.ts';
import { clusterHelpers, type ClusterContext } from './cluster-contract.ts';
import { committed } from '../support/store-changes.ts';

const standing = (deviceId: string, agreed: number, disagreed = 0, at = 10): StoreChange => ({
  type: 'standing',
  deviceId,
  agreed,
  disagreed,
  at,
});

async function standingOf(store: JobStore, deviceId: string) {
  const [found] = await store.deviceStandings([deviceId]);
  return (
    found && { streak: found.streak, disagreements: found.disagreements, resets: found.resets }
  );
}

export function standingContract(ctx: ClusterContext): void {
  const { job } = clusterHelpers(ctx);

  it('adds up the standing deltas two nodes write at once, and a disagreement ends the streak', async () => {
    const store = ctx.store();
    const other = await ctx.another();
    await Promise.all([
      ...Array.from({ length: 5 }, () => store.apply([standing('d', 1)])),
      ...Array.from({ length: 5 }, () => other.apply([standing('d', 2)])),
    ]);
    expect(await standingOf(other, 'd')).toEqual({ streak: 15, disagreements: 0, resets: 0 });

    // A disagreement in a batch: the streak is what came after it, whichever node wrote it.
    await other.apply([standing('d', 3), standing('d', 1, 1), standing('d', 2)]);
    expect(await standingOf(store, 'd')).toEqual({ streak: 3, disagreements: 1, resets: 1 });
    await store.apply([standing('d', 4)]);
    expect(await standingOf(other, 'd')).toEqual({ streak: 7, disagreements: 1, resets: 1 });
  });

  it("moves a device's standing in the same batch as the settles, and not at all when the batch is refused", async () => {
    const store = ctx.store();
    await job('j', 2);
    await store.apply([committed('j', 0), standing('d', 1)]);
    expect(await standingOf(store, 'd')).toEqual({ streak: 1, disagreements: 0, resets: 0 });
    await expect(store.apply([standing('d', 0, 1), committed('missing-job', 0)])).rejects.toThrow();
    expect(await standingOf(store, 'd')).toEqual({ streak: 1, disagreements: 0, resets: 0 });
  });

  it("ends a banned device's streak, so an unban does not bring its trust back", async () => {
    const store = ctx.store();
    await store.apply([standing('d', 12)]);
    await store.banDevice('d', 20);
    await store.unbanDevice('d');
    expect(await standingOf(store, 'd')).toEqual({ streak: 0, disagreements: 0, resets: 1 });
    await store.banDevice('never-judged', 30);
    expect(await standingOf(store, 'never-judged')).toEqual({
      streak: 0,
      disagreements: 0,
      resets: 1,
    });
  });

  it('reads the standings of the devices asked for, and the latest changed first, at most `limit`', async () => {
    const store = ctx.store();
    // Ids as hostile as a device id can be: quotes, escapes, array syntax, prototype keys.
    const odd = ['a"b', 'c\\d', '{e,f}', '__proto__', 'constructor', 'NULL', ''];
    await store.apply(odd.map((deviceId, i) => standing(deviceId, i + 1, 0, 100 + i)));
    const found = await store.deviceStandings([...odd, 'unknown']);
    expect(new Map(found.map((row) => [row.deviceId, row.streak]))).toEqual(
      new Map(odd.map((deviceId, i) => [deviceId, i + 1])),
    );
    expect(await store.deviceStandings([])).toEqual([]);
    const recent = await store.recentStandings(3);
    expect(recent.map((row) => [row.deviceId, row.updatedAt])).toEqual([
      ['', 106],
      ['NULL', 105],
      ['constructor', 104],
    ]);
  });
}
