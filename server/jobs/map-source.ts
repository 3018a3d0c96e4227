/**
 * @module Checks job code at submit, so code that cannot compile is refused with a 400 rather
 * than discovered in a volunteer's tab. The code is parsed (acorn), never run, on the coordinator.
 */
import { parse, type Program } from 'acorn';
import type { MapKind } from '../../shared/protocol.ts';
import { CoordinatorError } from '../errors.ts';

export type MapSourceKind = MapKind;

const FUNCTION_TYPES = new Set(['ArrowFunctionExpression', 'FunctionExpression']);

/**
 * Accepts the source of a function expression (`(x) => x * x`, `async function (x, ctx) {…}`) or
 * an ES module whose default export is the map function. Throws `map_compile_error` naming `map`.
 */
export function checkMapSource(source: string, field = 'map'): MapSourceKind {
  let expressionError: unknown;
  try {
    const program = parse(`(${source}\n)`, { ecmaVersion: 'latest', sourceType: 'script' });
    const statement = program.body[0];
    if (
      program.body.length === 1 &&
      statement?.type === 'ExpressionStatement' &&
      FUNCTION_TYPES.has(statement.expression.type)
    ) {
      return 'function';
    }
    expressionError = new Error('it is an expression, but not a function');
  } catch (error) {
    expressionError = error;
  }
  let program: Program;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module' });
  } catch (moduleError) {
    const detail = /export|import/.test(source) ? moduleError : expressionError;
    throw new CoordinatorError(
      'map_compile_error',
      `[jobs]: ${field} does not compile: ${(detail as Error).message}`,
      { field, cause: detail },
    );
  }
  if (!program.body.some((node) => node.type === 'ExportDefaultDeclaration')) {
    throw new CoordinatorError(
      'map_compile_error',
      `[jobs]: ${field} must be a function expression such as "(x) => x * x", or a module with a default export`,
      { field },
    );
  }
  return 'module';
}

const kinds = new WeakMap<{ map: string }, MapKind>();

/**
 * How tabs compile an accepted job's map: the kind `checkMapSource` decided at submit, worked out
 * again once per job in this process (a job restored from the store was checked when submitted).
 */
export function mapKindOf(spec: { map: string }): MapKind {
  let kind = kinds.get(spec);
  if (!kind) {
    try {
      kind = checkMapSource(spec.map);
    } catch {
      kind = 'module';
    }
    kinds.set(spec, kind);
  }
  return kind;
}
