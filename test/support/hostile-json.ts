/**
 * @module fast-check arbitraries and text builders for hostile JSON shapes: deep nesting of
 * arrays and objects, very wide containers, huge strings and keys, many values, and
 * `__proto__` / `constructor` / `prototype` keys held as own data. Deep values are built with
 * loops, never recursion, and also as JSON text, since JSON.stringify itself overflows the stack
 * on them.
 */
import fc from 'fast-check';
import {
  MAX_JSON_DEPTH,
  MAX_JSON_KEY_CHARS,
  MAX_JSON_NODES,
  MAX_JSON_STRING_CHARS,
} from '../../shared/limits.ts';

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** An object whose keys are own data properties, `__proto__` included (never through its setter). */
export function ownObject(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/** `depth` nested containers around `leaf`, built inside out with a loop. */
export function nest(depth: number, kind: 'array' | 'object', leaf: unknown = 0): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : ownObject([['a', value]]);
  return value;
}

/** The JSON text of `nest(depth, kind, 0)`, for depths no JSON.stringify can write. */
export function nestedText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}0${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;
}

/** JSON text of an array of `count` empty objects (`[{},{},…]`): many values in few bytes. */
export function manyObjectsText(count: number): string {
  return `[${'{},'.repeat(count - 1)}{}]`;
}

/** Values with prototype keys at any position, built as own data properties. */
export function prototypeKeyed(): fc.Arbitrary<unknown> {
  const key = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 8 }));
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null)),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((entries) => ownObject(entries)),
    ),
  })).value;
}

/** JSON values the bounds accept: fast-check's JSON plus prototype keys. */
export function acceptableJson(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.jsonValue({ maxDepth: 6 }), prototypeKeyed());
}

export interface HostileShape {
  name: string;
  /** The limit the value breaks, as named in shared/limits.ts. */
  limit: string;
  /** The value as JSON text (a socket frame or a body can carry it). */
  text: string;
}

/**
 * One shape over each bound, as JSON text, with room to spare: `scale` multiplies how far over
 * (1 = just over, larger = the sizes an attacker sends).
 */
export function hostileShapes(scale: 'edge' | 'attack'): HostileShape[] {
  const depth = scale === 'edge' ? MAX_JSON_DEPTH + 1 : 200_000;
  return [
    { name: 'deep arrays', limit: 'MAX_JSON_DEPTH', text: nestedText(depth, 'array') },
    { name: 'deep objects', limit: 'MAX_JSON_DEPTH', text: nestedText(depth, 'object') },
    {
      name: 'many empty objects',
      limit: 'MAX_JSON_NODES',
      text: manyObjectsText(scale === 'edge' ? MAX_JSON_NODES : 2 * MAX_JSON_NODES),
    },
    {
      name: 'a wide object',
      limit: 'MAX_JSON_NODES',
      text: `{${Array.from({ length: MAX_JSON_NODES + 1 }, (_, i) => `"${i}":0`).join(',')}}`,
    },
    {
      name: 'a huge string',
      limit: 'MAX_JSON_STRING_CHARS',
      text: JSON.stringify(['x'.repeat(MAX_JSON_STRING_CHARS + 1)]),
    },
    {
      name: 'a huge key',
      limit: 'MAX_JSON_KEY_CHARS',
      text: `{"${'k'.repeat(scale === 'edge' ? MAX_JSON_KEY_CHARS + 1 : 1024 * 1024)}":1}`,
    },
  ];
}

/** Hostile shapes as an arbitrary, for fuzzing: any bound, just over or far over. */
export function hostileShape(): fc.Arbitrary<HostileShape> {
  const shapes = [...hostileShapes('edge'), ...hostileShapes('attack')];
  return fc.constantFrom(...shapes);
}

/** An arbitrary depth over the limit with an arbitrary mix of arrays and objects, as text. */
export function mixedDeepText(): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: MAX_JSON_DEPTH + 1, max: 50_000 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
    )
    .map(([depth, pattern]) => {
      let open = '';
      let close = '';
      for (let i = 0; i < depth; i++) {
        const array = pattern[i % pattern.length];
        open += array ? '[' : '{"__proto__":';
        close += array ? ']' : '}';
      }
      return `${open}0${[...close].reverse().join('')}`;
    });
}
