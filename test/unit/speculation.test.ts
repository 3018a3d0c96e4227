import { describe, expect, it } from 'vitest';
import { median, pickBackups, type SpeculationInput } from '../../server/scheduling/speculation.ts';
import { DEFAULT_SPECULATION } from '../../shared/speculation.ts';

const base: SpeculationInput = {
  policy: DEFAULT_SPECULATION,
  taskCount: 100,
  finished: 80,
  medianMs: 1_000,
  single: [],
  backedUp: 0,
  running: 20,
  queueEmpty: false,
  idleTabs: 0,
};

describe('pickBackups', () => {
  it.each<[string, Partial<SpeculationInput>, number[]]>([
    [
      'nothing runs long: no backup',
      { single: [{ taskIndex: 1, runtimeMs: 1_400, ageMs: 1_400 }] },
      [],
    ],
    [
      'a copy past 1.5x the median is backed up',
      { single: [{ taskIndex: 1, runtimeMs: 1_600, ageMs: 1_600 }] },
      [1],
    ],
    [
      'too few tasks finished yet (below the quantile): wait',
      { finished: 70, single: [{ taskIndex: 1, runtimeMs: 9_000, ageMs: 9_000 }] },
      [],
    ],
    [
      'never before the minimum runtime, however short the median',
      { medianMs: 10, single: [{ taskIndex: 1, runtimeMs: 400, ageMs: 400 }] },
      [],
    ],
    [
      'copies still queued in their tab are not stragglers',
      { single: [{ taskIndex: 1, ageMs: 9_000 }] },
      [],
    ],
    [
      'at most maxShare of running tasks at once, most overdue first',
      {
        running: 20,
        single: [
          { taskIndex: 1, runtimeMs: 2_000, ageMs: 2_000 },
          { taskIndex: 2, runtimeMs: 5_000, ageMs: 5_000 },
          { taskIndex: 3, runtimeMs: 3_000, ageMs: 3_000 },
        ],
      },
      [2, 3],
    ],
    [
      'backups already running count against the cap',
      { running: 20, backedUp: 2, single: [{ taskIndex: 1, runtimeMs: 9_000, ageMs: 9_000 }] },
      [],
    ],
    [
      'at least one backup even when maxShare rounds down to zero',
      { running: 3, single: [{ taskIndex: 1, runtimeMs: 9_000, ageMs: 9_000 }] },
      [1],
    ],
    [
      'end game: queue empty and tabs idle, the oldest copies are backed up, one per idle tab',
      {
        finished: 10,
        queueEmpty: true,
        idleTabs: 2,
        single: [
          { taskIndex: 1, ageMs: 1_200 },
          { taskIndex: 2, runtimeMs: 3_000, ageMs: 3_000 },
          { taskIndex: 3, runtimeMs: 2_000, ageMs: 2_000 },
        ],
      },
      [2, 3],
    ],
    [
      'end game skips copies younger than the median',
      { finished: 10, queueEmpty: true, idleTabs: 4, single: [{ taskIndex: 1, ageMs: 900 }] },
      [],
    ],
    [
      'end game without idle tabs does nothing',
      { finished: 10, queueEmpty: true, idleTabs: 0, single: [{ taskIndex: 1, ageMs: 9_000 }] },
      [],
    ],
    [
      'end game can be turned off',
      {
        finished: 10,
        queueEmpty: true,
        idleTabs: 3,
        policy: { ...DEFAULT_SPECULATION, endGame: false },
        single: [{ taskIndex: 1, ageMs: 9_000 }],
      },
      [],
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(pickBackups({ ...base, ...overrides })).toEqual(expected);
  });
});

describe('median', () => {
  it.each([
    [[], undefined],
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %s', (sample, expected) => {
    expect(median(sample)).toBe(expected);
  });
});
