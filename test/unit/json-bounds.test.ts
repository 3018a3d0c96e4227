import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ItemOutcome, JobSpec } from '../../shared/job.ts';
import { JSON_BOUNDS, formatJsonPath, jsonShapeIssue } from '../../shared/json-bounds.ts';
import { canonicalJson, notJsonReason } from '../../shared/json-checks.ts';
import { JsonValue } from '../../shared/json.ts';
import { MAX_ITEM_OUTPUT_DEPTH, MAX_JSON_DEPTH, MAX_JSON_KEY_CHARS } from '../../shared/limits.ts';
import { CheckpointReport } from '../../shared/protocol.ts';
import {
  PROTOTYPE_KEYS,
  acceptableJson,
  hostileShapes,
  mixedDeepText,
  nest,
  ownObject,
} from '../support/hostile-json.ts';

describe('jsonShapeIssue', () => {
  it('is the bound the tab holds outputs and checkpoint states to: the tab and the coordinator agree', () => {
    expect(MAX_ITEM_OUTPUT_DEPTH).toBe(MAX_JSON_DEPTH);
    expect(notJsonReason(nest(MAX_JSON_DEPTH + 1, 'array'))).toMatch(/MAX_JSON_DEPTH/);
    expect(notJsonReason({ ['k'.repeat(MAX_JSON_KEY_CHARS + 1)]: 1 }, 'checkpoint state')).toMatch(
      /MAX_JSON_KEY_CHARS/,
    );
  });

  it('accepts nesting up to MAX_JSON_DEPTH and refuses one level more, naming the path', () => {
    expect(jsonShapeIssue(nest(MAX_JSON_DEPTH, 'array'))).toBeUndefined();
    expect(jsonShapeIssue(nest(MAX_JSON_DEPTH, 'object'))).toBeUndefined();
    const issue = jsonShapeIssue(nest(MAX_JSON_DEPTH + 1, 'object'));
    expect(issue?.message).toMatch(/deeper than 64 levels \(MAX_JSON_DEPTH\)/);
    expect(issue?.path).toEqual(Array.from({ length: MAX_JSON_DEPTH }, () => 'a'));
  });

  it.each(hostileShapes('edge').map((shape) => [shape.name, shape] as const))(
    'refuses %s, just over its bound, naming the limit',
    (_name, shape) => {
      expect(jsonShapeIssue(JSON.parse(shape.text))?.message).toContain(shape.limit);
    },
  );

  it.each(hostileShapes('attack').map((shape) => [shape.name, shape] as const))(
    'refuses %s far over its bound without overflowing the stack',
    (_name, shape) => {
      expect(jsonShapeIssue(JSON.parse(shape.text))?.message).toContain(shape.limit);
    },
  );

  it('refuses any mix of arrays and `__proto__` objects nested past the limit', () => {
    fc.assert(
      fc.property(mixedDeepText(), (text) => {
        expect(jsonShapeIssue(JSON.parse(text))?.message).toContain('MAX_JSON_DEPTH');
      }),
      { numRuns: 50 },
    );
  });

  it('accepts a key of MAX_JSON_KEY_CHARS and shortens long keys in the path', () => {
    const key = 'k'.repeat(MAX_JSON_KEY_CHARS);
    expect(jsonShapeIssue({ [key]: 1 })).toBeUndefined();
    const issue = jsonShapeIssue({ [key]: [undefined] });
    expect(issue?.path).toEqual([`${'k'.repeat(64)}…`, 0]);
  });

  it.each([
    [undefined, /undefined/],
    [Number.NaN, /NaN/],
    [[1, Infinity], /Infinity/],
    [{ f: () => 1 }, /function/],
    [{ b: Buffer.from('x') }, /Buffer.*binary/],
    [new Date(0), /Date/],
    [10n, /bigint/],
  ])('refuses %s, which is not JSON', (value, reason) => {
    expect(jsonShapeIssue(value)?.message).toMatch(reason);
  });

  it('refuses a cycle instead of walking it forever', () => {
    const cyclic: unknown[] = [];
    cyclic.push({ back: cyclic });
    expect(jsonShapeIssue(cyclic)).toEqual({
      path: [0, 'back'],
      message: 'refers back to itself (a cycle)',
    });
  });

  it('accepted values round-trip through JSON.stringify and JSON.parse unchanged, __proto__ keys included', () => {
    fc.assert(
      fc.property(acceptableJson(), (value) => {
        expect(jsonShapeIssue(value)).toBeUndefined();
        const text = JSON.stringify(value);
        const back: unknown = JSON.parse(text);
        expect(JSON.stringify(back)).toBe(text);
        expect(canonicalJson(back as JsonValue)).toBe(canonicalJson(value as JsonValue));
      }),
      { numRuns: 300 },
    );
  });

  it('walks a value of MAX_JSON_NODES values in linear time', () => {
    const wide = Array.from({ length: JSON_BOUNDS.maxNodes - 1 }, () => ({}));
    const started = performance.now();
    expect(jsonShapeIssue(wide)).toBeUndefined();
    // Generous: a recursive zod walk of this took seconds; the check takes tens of ms.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('the JsonValue schema', () => {
  it('refuses deep values as an issue naming the field instead of throwing RangeError', () => {
    const parsed = JobSpec.safeParse({
      map: '(x) => x',
      inputs: [1, JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path.slice(0, 2)).toEqual(['inputs', 1]);
    expect(parsed.error?.issues[0]?.message).toContain('MAX_JSON_DEPTH');
  });

  it('keeps __proto__, constructor and prototype keys as own data, and the value as it arrived', () => {
    const text = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":2}},"prototype":3}';
    const value: unknown = JSON.parse(text);
    const parsed = ItemOutcome.parse({ output: value });
    expect('output' in parsed && parsed.output).toBe(value);
    expect(JSON.stringify('output' in parsed ? parsed.output : null)).toBe(text);
    expect(Object.keys(value as object)).toEqual([...PROTOTYPE_KEYS]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses a checkpoint state of more than MAX_JSON_NODES empty objects quickly', () => {
    const state = Array.from({ length: JSON_BOUNDS.maxNodes + 1 }, () => ({}));
    const started = performance.now();
    const parsed = CheckpointReport.safeParse({
      leaseId: 'l1',
      jobId: 'j1',
      taskIndex: 0,
      checkpoint: { item: 0, state, done: [] },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('MAX_JSON_NODES');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('notJsonReason and canonicalJson', () => {
  it('notJsonReason refuses what the coordinator would refuse, with a readable path', () => {
    expect(
      notJsonReason(ownObject([['__proto__', { 'a b': [nest(MAX_JSON_DEPTH, 'array')] }]])),
    ).toMatch(/^output\.__proto__\["a b"\]\[0\](\[0\])+ is nested deeper/);
    expect(notJsonReason(nest(100_000, 'array'))).toMatch(/MAX_JSON_DEPTH/);
  });

  it('canonicalJson keeps __proto__ keys, so results that differ only there do not match', () => {
    const withProto = JSON.parse('{"__proto__":{"x":1},"b":2}') as JsonValue;
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"x":1},"b":2}');
    expect(canonicalJson(withProto)).not.toBe(canonicalJson({ b: 2 }));
  });

  it('formatJsonPath quotes keys that are not identifiers', () => {
    expect(formatJsonPath('output', ['a', 0, '__proto__', 'a.b'])).toBe(
      'output.a[0].__proto__["a.b"]',
    );
  });
});
