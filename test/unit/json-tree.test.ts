import { describe, expect, it } from 'vitest';
import { isTreeWithin } from '../../shared/json-checks.ts';

const nested = (levels: number): unknown => {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { next: value };
  return value;
};

describe('isTreeWithin', () => {
  it('measures depth exactly, scalars at 0', () => {
    expect(isTreeWithin(7, 0)).toBe(true);
    expect(isTreeWithin(nested(10), 10)).toBe(true);
    expect(isTreeWithin(nested(11), 10)).toBe(false);
  });

  it('refuses a million levels without exhausting the stack', () => {
    expect(isTreeWithin(nested(1_000_000), 512)).toBe(false);
  });

  it('refuses cycles and shared objects, which JSON never parses into', () => {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    const shared = { a: 1 };
    expect(isTreeWithin(cycle, 512)).toBe(false);
    expect(isTreeWithin([shared, shared], 512)).toBe(false);
    expect(isTreeWithin([{ a: 1 }, { a: 1 }], 512)).toBe(true);
  });

  it('walks prototype-named keys as data and wide values in one pass', () => {
    const hostile = JSON.parse(
      '{"__proto__": {"constructor": {"prototype": {"checkpoint": [[[1]]]}}}}',
    ) as unknown;
    expect(isTreeWithin(hostile, 7)).toBe(true);
    expect(isTreeWithin(hostile, 6)).toBe(false);
    expect(
      isTreeWithin(
        Array.from({ length: 200_000 }, (_, i) => ({ i })),
        2,
      ),
    ).toBe(true);
  });
});
