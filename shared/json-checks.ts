/**
 * @module Checks on JSON values without zod, so the task-runner worker can use them without
 * bundling a schema library: the canonical encoding results are compared by, and whether a value
 * a map function returned is JSON at all.
 */
import type { JsonValue } from './json.ts';

/**
 * Serializes a JSON value with object keys sorted, so two results that are equal as data are
 * equal as strings (the comparison redundancy and duplicate detection rely on).
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) === '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const entry = value[key];
    if (entry !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(entry)}`);
  }
  return `{${parts.join(',')}}`;
}

/** Why `value` is not a JSON value, or undefined when it is one. Rejects what JSON.stringify
 * would silently change (undefined, NaN, Infinity, functions) as well as cycles. */
export function notJsonReason(
  value: unknown,
  path = 'output',
  seen = new Set<object>(),
): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot hold`;
    case 'object': {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path} refers back to itself (a cycle)`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
        return `${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}, not a plain object`;
      }
      seen.add(value);
      const entries = Array.isArray(value)
        ? value.map((v, i) => [`[${i}]`, v] as const)
        : Object.entries(value).map(([k, v]) => [`.${k}`, v] as const);
      for (const [key, entry] of entries) {
        const reason = notJsonReason(entry, `${path}${key}`, seen);
        if (reason) return reason;
      }
      seen.delete(value);
      return undefined;
    }
    default:
      return `${path} is ${typeof value}, which JSON cannot hold`;
  }
}

/**
 * Whether `value` is a tree of objects and arrays at most `maxDepth` deep (a scalar is depth 0),
 * as any value parsed from JSON is. Iterative, so a hostile depth cannot exhaust the stack, and it
 * stops at the first level too deep. An object reached twice (shared or cyclic, which structured
 * clone can carry and zod's JSON schema accepts) makes it not a tree.
 */
export function isTreeWithin(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [next, depth] = stack.pop() as [unknown, number];
    if (next === null || typeof next !== 'object') continue;
    if (depth + 1 > maxDepth || seen.has(next)) return false;
    seen.add(next);
    for (const child of Object.values(next)) stack.push([child, depth + 1]);
  }
  return true;
}
