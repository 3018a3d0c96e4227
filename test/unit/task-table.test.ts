import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexRanges } from '../../server/scheduling/index-ranges.ts';
import { TaskTable } from '../../server/scheduling/task-table.ts';

describe('IndexRanges', () => {
  it('behaves as a sorted set under any mix of shifts and deletes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 299 })),
        fc.array(fc.oneof(fc.constant('shift' as const), fc.integer({ min: -2, max: 301 }))),
        (count, settled, steps) => {
          const sorted = [...settled].filter((i) => i < count).sort((a, b) => a - b);
          const model = new Set<number>();
          for (let i = 0; i < count; i++) if (!sorted.includes(i)) model.add(i);
          const table = new TaskTable(count, sorted);
          const ranges = new IndexRanges(gapsOf(count, sorted));
          for (const step of steps) {
            if (step === 'shift') {
              const smallest = model.size === 0 ? undefined : Math.min(...model);
              expect(ranges.shift()).toBe(smallest);
              if (smallest !== undefined) model.delete(smallest);
            } else {
              expect(ranges.has(step)).toBe(model.has(step));
              expect(ranges.delete(step)).toBe(model.delete(step));
            }
            expect(ranges.size).toBe(model.size);
          }
          expect(table.freshCount).toBe(count - sorted.length);
        },
      ),
    );
  });
});

describe('IndexRanges.add', () => {
  it('merges added ranges into a sorted set, whatever order they arrive in', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(
          Array.from({ length: 40 }, (_, i) => i),
          { minLength: 0, maxLength: 40 },
        ),
        fc.array(fc.oneof(fc.constant('shift' as const), fc.integer({ min: 0, max: 399 })), {
          maxLength: 30,
        }),
        (blocks, steps) => {
          // Blocks of 10 indices, added in a random order: adjacent ones merge.
          const ranges = new IndexRanges();
          const model = new Set<number>();
          for (const block of blocks) {
            ranges.add(block * 10, block * 10 + 10);
            for (let i = block * 10; i < block * 10 + 10; i++) model.add(i);
            expect(ranges.size).toBe(model.size);
          }
          expect(ranges.rangeCount).toBeLessThanOrEqual(blocks.length);
          for (const step of steps) {
            if (step === 'shift') {
              const smallest = model.size === 0 ? undefined : Math.min(...model);
              expect(ranges.shift()).toBe(smallest);
              if (smallest !== undefined) model.delete(smallest);
            } else expect(ranges.delete(step)).toBe(model.delete(step));
          }
          for (let i = 0; i < 400; i++) expect(ranges.has(i)).toBe(model.has(i));
        },
      ),
    );
  });

  it('refuses a range that overlaps one it holds', () => {
    const ranges = new IndexRanges([[10, 20]]);
    expect(() => ranges.add(15, 25)).toThrow(/already held/);
    expect(() => ranges.add(5, 11)).toThrow(/already held/);
    expect(ranges.size).toBe(10);
  });
});

function gapsOf(count: number, sorted: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const i of sorted) {
    if (i > next) out.push([next, i]);
    next = i + 1;
  }
  if (next < count) out.push([next, count]);
  return out;
}

describe('TaskTable', () => {
  it('keeps entries only for touched, unsettled tasks, however large the job', () => {
    const table = new TaskTable(10_000_000);
    expect(table.freshCount).toBe(10_000_000);
    for (let i = 0; i < 1_000; i++) {
      const taken = table.takeFresh() as number;
      expect(taken).toBe(i);
      if (i >= 10) table.settle(i - 10); // ten in flight at a time
    }
    expect(table.liveCount).toBe(10);
    expect(table.freshCount).toBe(10_000_000 - 1_000);
  });

  it('tells settled, untouched and outside tasks apart', () => {
    const table = new TaskTable(5, [1, 3]);
    expect(table.isSettled(1)).toBe(true);
    expect(table.isSettled(0)).toBe(false);
    expect(table.isSettled(5)).toBe(false);
    expect(table.isSettled(-1)).toBe(false);
    expect(table.at(3)).toBeUndefined();
    expect(table.at(7)).toBeUndefined();
    expect(table.at(0.5)).toBeUndefined();
    // A late result for an untouched task touches it: it leaves the untouched set.
    expect(table.at(4)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(table.freshCount).toBe(2);
    expect([table.takeFresh(), table.takeFresh(), table.takeFresh()]).toEqual([0, 2, undefined]);
    table.settle(4);
    expect(table.isSettled(4)).toBe(true);
    expect(table.liveCount).toBe(2);
  });

  it('holds no task until a range is claimed, and only claimed tasks count as its own', () => {
    const table = new TaskTable(100, [], 'none');
    expect(table.freshCount).toBe(0);
    expect(table.takeFresh()).toBeUndefined();
    expect(table.at(5)).toBeUndefined();
    table.addRange(40, 50, [41, 43]);
    table.addRange(0, 10);
    expect(table.freshCount).toBe(18);
    expect(table.isClaimed(41)).toBe(true);
    expect(table.isSettled(41)).toBe(true);
    expect(table.isClaimed(20)).toBe(false);
    expect(table.isSettled(20)).toBe(false);
    expect(table.at(20)).toBeUndefined();
    expect(table.takeFresh()).toBe(0);
    table.addRange(95, 120); // clipped to the job
    expect(table.freshCount).toBe(17 + 5);
    expect(() => table.addRange(45, 46)).toThrow(/already held/);
  });
});
