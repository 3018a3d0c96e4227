/**
 * @module The bounded-shape check every JSON value that enters passes before any schema sees it:
 * depth, total values, string and key lengths, and that it is JSON at all (finite numbers, plain
 * objects and arrays, no cycles). It walks with an explicit stack, never recursion, in time linear
 * in the value's size, and stops at the first value over a limit, so a hostile value costs no
 * more than reading the bytes that carried it. Free of zod, so the task-runner worker can use it.
 */
import {
  MAX_JSON_DEPTH,
  MAX_JSON_KEY_CHARS,
  MAX_JSON_NODES,
  MAX_JSON_STRING_CHARS,
} from './limits.ts';

export interface JsonBounds {
  maxDepth: number;
  maxNodes: number;
  maxStringChars: number;
  maxKeyChars: number;
}

export const JSON_BOUNDS: JsonBounds = {
  maxDepth: MAX_JSON_DEPTH,
  maxNodes: MAX_JSON_NODES,
  maxStringChars: MAX_JSON_STRING_CHARS,
  maxKeyChars: MAX_JSON_KEY_CHARS,
};

/** Where the value is (keys and indexes from the root) and what is wrong with it. */
export interface JsonShapeIssue {
  path: Array<string | number>;
  message: string;
}

/** A container being walked: its children are visited in order, `next` is the next one's index. */
interface Frame {
  container: object;
  /** Own enumerable keys of an object (`__proto__` included, as data); undefined for an array. */
  keys: string[] | undefined;
  length: number;
  next: number;
}

/** Keys longer than this are shortened in paths, so an error message stays small. */
const PATH_KEY_CHARS = 64;

/**
 * The first way `value` is not a bounded JSON value, or undefined when it is one.
 *
 * @example jsonShapeIssue(JSON.parse('[[[1]]]'), { ...JSON_BOUNDS, maxDepth: 2 })
 *   // { path: [0, 0], message: 'nested deeper than 2 levels (MAX_JSON_DEPTH)' }
 */
export function jsonShapeIssue(
  value: unknown,
  bounds: JsonBounds = JSON_BOUNDS,
): JsonShapeIssue | undefined {
  if (typeof value !== 'object' || value === null) {
    // Most values are scalars: no walk, nothing allocated.
    const problem = scalarProblem(value, bounds);
    return problem === undefined ? undefined : { path: [], message: problem };
  }
  const frames: Frame[] = [];
  let nodes = 0;
  let current: unknown = value;
  for (;;) {
    if (++nodes > bounds.maxNodes) {
      return {
        path: pathOf(frames),
        message: `holds more than ${bounds.maxNodes} values (MAX_JSON_NODES)`,
      };
    }
    const problem = scalarProblem(current, bounds);
    if (problem !== undefined) return { path: pathOf(frames), message: problem };
    if (typeof current === 'object' && current !== null) {
      // A container among its own ancestors is a cycle; the scan is at most maxDepth long.
      for (const frame of frames) {
        if (frame.container === current) {
          return { path: pathOf(frames), message: 'refers back to itself (a cycle)' };
        }
      }
      if (frames.length >= bounds.maxDepth) {
        return {
          path: pathOf(frames),
          message: `is nested deeper than ${bounds.maxDepth} levels (MAX_JSON_DEPTH)`,
        };
      }
      const keys = Array.isArray(current) ? undefined : Object.keys(current);
      const length = keys ? keys.length : (current as unknown[]).length;
      frames.push({ container: current, keys, length, next: 0 });
    }
    // Next: the following child of the innermost container that has one left.
    let frame = frames[frames.length - 1];
    while (frame && frame.next >= frame.length) {
      frames.pop();
      frame = frames[frames.length - 1];
    }
    if (!frame) return undefined;
    const index = frame.next++;
    if (frame.keys) {
      const key = frame.keys[index] as string;
      if (key.length > bounds.maxKeyChars) {
        frame.next--;
        return {
          path: pathOf(frames),
          message: `has a key of ${key.length} characters, over the limit of ${bounds.maxKeyChars} (MAX_JSON_KEY_CHARS)`,
        };
      }
      // An own `__proto__` key reads its own value here: own properties shadow the accessor.
      current = (frame.container as Record<string, unknown>)[key];
    } else {
      current = (frame.container as unknown[])[index];
    }
  }
}

/** The path to the value being visited: each open container's current key or index. */
function pathOf(frames: readonly Frame[]): Array<string | number> {
  const path: Array<string | number> = [];
  for (const frame of frames) {
    const index = frame.next - 1;
    const key = frame.keys ? (frame.keys[index] ?? '') : index;
    path.push(typeof key === 'string' ? shorten(key) : key);
  }
  return path;
}

/** What is wrong with `value` itself (not its children), or undefined. */
function scalarProblem(value: unknown, bounds: JsonBounds): string | undefined {
  switch (typeof value) {
    case 'boolean':
      return undefined;
    case 'string':
      return value.length > bounds.maxStringChars
        ? `is a string of ${value.length} characters, over the limit of ${bounds.maxStringChars} (MAX_JSON_STRING_CHARS)`
        : undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `is ${value}, which JSON cannot hold`;
    case 'object': {
      if (value === null || Array.isArray(value)) return undefined;
      const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
      if (proto === Object.prototype || proto === null) return undefined;
      const name = typeof proto.constructor?.name === 'string' ? proto.constructor.name : '';
      return `is a ${name || 'non-plain object'}, not a plain object or array (binary data is not accepted)`;
    }
    default:
      return `is ${typeof value}, which JSON cannot hold`;
  }
}

function shorten(key: string): string {
  return key.length > PATH_KEY_CHARS ? `${key.slice(0, PATH_KEY_CHARS)}…` : key;
}

/**
 * A path as JavaScript would write it, from `root`: `output.a[1]`. Keys that are not identifiers
 * are quoted, so `__proto__` and `a.b` stay unambiguous.
 */
export function formatJsonPath(root: string, path: ReadonlyArray<string | number>): string {
  let text = root;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}
