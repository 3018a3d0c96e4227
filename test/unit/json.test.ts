import { describe, expect, it } from 'vitest';
import { canonicalJson, notJsonReason } from '../../shared/json-checks.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth so equal data gives equal strings', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
});

describe('notJsonReason', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  it.each([
    [undefined, /undefined/],
    [Number.NaN, /NaN/],
    [Infinity, /Infinity/],
    [() => 1, /function/],
    [{ a: [1, undefined] }, /output\.a\[1\] is undefined/],
    [cyclic, /cycle/],
    [new Date(0), /Date/],
    [10n, /bigint/],
  ])('rejects %s', (value, reason) => {
    expect(notJsonReason(value)).toMatch(reason);
  });

  it.each([[null], [0], ['s'], [true], [[1, [2]]], [{ a: { b: null } }]])('accepts %j', (value) => {
    expect(notJsonReason(value)).toBeUndefined();
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { v: 1 };
    expect(notJsonReason({ a: shared, b: shared })).toBeUndefined();
  });
});
