import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../server/errors.ts';
import { checkMapSource } from '../../server/jobs/map-source.ts';

describe('checkMapSource', () => {
  it.each([
    ['(x) => x * x', 'function'],
    ['x => x + 1', 'function'],
    ['async (x, ctx) => { ctx.progress(1); return x; }', 'function'],
    ['function square(x) { return x * x }', 'function'],
    ['export default (x) => x * 2', 'module'],
    ['const k = 3;\nexport default function (x) { return x * k }', 'module'],
  ])('accepts %j as a %s', (source, kind) => {
    expect(checkMapSource(source)).toBe(kind);
  });

  it.each([
    ['(x) => x *', /does not compile/],
    ['42', /function expression/],
    ['const f = (x) => x', /does not compile|function expression/],
    ['export const f = 1', /default export/],
    ['(x) => x) ; (y => y', /does not compile/],
  ])('refuses %j with a map_compile_error naming map', (source, message) => {
    let caught: unknown;
    try {
      checkMapSource(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CoordinatorError);
    expect((caught as CoordinatorError).code).toBe('map_compile_error');
    expect((caught as CoordinatorError).field).toBe('map');
    expect((caught as CoordinatorError).message).toMatch(message);
  });
});
