/**
 * @module Checks on JSON values without zod, so the task-runner worker can use them without
 * bundling a schema library: the canonical encoding results are compared by, and whether a value
 * a map function returned is JSON the coordinator accepts.
 */
import { formatJsonPath, jsonShapeIssue } from './json-bounds.ts';
import type { JsonValue } from './json.ts';

/**
 * Serializes a JSON value with object keys sorted, so two results that are equal as data are
 * equal as strings (the comparison redundancy and duplicate detection rely on).
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) === '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: JsonValue): string {
  // Recursive on purpose: every value it sees passed jsonShapeIssue at the edge, so its depth is
  // at most MAX_JSON_DEPTH. Own `__proto__` keys are read as data (Object.keys lists them).
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

/**
 * Why `value` is not a JSON value the coordinator accepts, or undefined when it is one. Rejects
 * what JSON.stringify would silently change (undefined, NaN, Infinity, functions), cycles, and
 * shapes over the bounds (depth, size, string and key lengths): a tab refuses such an output as
 * an item error instead of sending a results message the coordinator would refuse whole.
 */
export function notJsonReason(value: unknown, path = 'output'): string | undefined {
  const issue = jsonShapeIssue(value);
  return issue ? `${formatJsonPath(path, issue.path)} ${issue.message}` : undefined;
}

/**
 * Whether `value` is a tree of objects and arrays at most `maxDepth` deep (a scalar is depth 0),
 * as any value parsed from JSON is. Iterative, so a hostile depth cannot exhaust the stack, and it
 * stops at the first level too deep. An object reached twice (shared or cyclic, which structured
 * clone can carry) makes it not a tree: `jsonShapeIssue` counts visits, so one small object
 * shared at every level of many outcomes would cost it steps far beyond the message's size.
 */
export function isTreeWithin(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  // Only objects go on the stack: a message is mostly scalars, which need no visit of their own.
  const stack: Array<[object, number]> = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [next, depth] = stack.pop() as [object, number];
    if (depth > maxDepth || seen.has(next)) return false;
    seen.add(next);
    for (const child of Object.values(next))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return true;
}
