/**
 * @module Checks job code at submit, so code that cannot compile is refused with a 400 rather
 * than discovered in a volunteer's tab, and decides how tabs compile it (MapKind, sent with the
 * code). The code is parsed (acorn), never run, on the coordinator.
 */
import { parse, type Program } from 'acorn';
import type { MapKind } from '../../shared/protocol.ts';
import { CoordinatorError } from '../errors.ts';

const FUNCTION_TYPES = new Set(['ArrowFunctionExpression', 'FunctionExpression']);
/** Default exports that can never be called as a map. */
const NOT_CALLABLE = new Set([
  'Literal',
  'ObjectExpression',
  'ArrayExpression',
  'TemplateLiteral',
  'ClassDeclaration',
  'ClassExpression',
]);

/** Why `source` is not a function expression, or undefined when it is one. */
function notFunctionExpression(source: string): unknown {
  try {
    const program = parse(`(${source}\n)`, { ecmaVersion: 'latest', sourceType: 'script' });
    const statement = program.body[0];
    if (
      program.body.length === 1 &&
      statement?.type === 'ExpressionStatement' &&
      FUNCTION_TYPES.has(statement.expression.type)
    ) {
      return undefined;
    }
    return new Error('it is an expression, but not a function');
  } catch (error) {
    return error;
  }
}

function refuse(field: string, message: string, cause?: unknown): CoordinatorError {
  return new CoordinatorError('map_compile_error', `[jobs]: ${field} ${message}`, {
    field,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Run in the job's folder, it inlines every import; `format=esm` keeps the default export. */
const BUNDLE_COMMAND =
  'npx esbuild map.js --bundle --format=esm --platform=browser --outfile=map.bundle.js';

/**
 * A tab's sandbox loads no other file and has no network, so an import fails there on every item:
 * say so at submit, with the command that makes one module of the code and what it imports.
 */
function importProblem(specifier: string | undefined): string {
  const remote = specifier !== undefined && /^(https?:)?\/\//i.test(specifier);
  const what = remote
    ? `imports a module from the network (from ${JSON.stringify(specifier)}), and job code has no network access`
    : `imports another file${specifier !== undefined ? ` (from ${JSON.stringify(specifier)})` : ''}, and job code cannot load files`;
  const source = remote ? ' (install it from npm instead, or save it next to map.js)' : '';
  return `must be one self-contained module: it ${what}; bundle it first${source}: ${BUNDLE_COMMAND}, then submit map.bundle.js (rollup or vite with format "es" work too)`;
}

/**
 * Why a parsed module cannot be a map: it reaches for other files (a tab's sandbox can load none),
 * or it has no default export that could be a function. Undefined when it can be one.
 */
function moduleProblem(program: Program): string | undefined {
  let hasDefault = false;
  for (const node of program.body) {
    if (
      node.type === 'ImportDeclaration' ||
      node.type === 'ExportAllDeclaration' ||
      (node.type === 'ExportNamedDeclaration' && node.source)
    ) {
      return importProblem(node.source ? String(node.source.value) : undefined);
    }
    if (node.type === 'ExportDefaultDeclaration') {
      if (NOT_CALLABLE.has(node.declaration.type)) {
        return 'must export a function as default, not a value';
      }
      hasDefault = true;
    }
    if (node.type === 'ExportNamedDeclaration') {
      // `export { f as default }`, as esbuild, rollup and vite library builds end.
      for (const specifier of node.specifiers) {
        const exported = specifier.exported;
        const name = exported.type === 'Identifier' ? exported.name : exported.value;
        if (name === 'default') hasDefault = true;
      }
    }
  }
  return hasDefault
    ? undefined
    : 'must be a function expression such as "(x) => x * x", or a module with a default export';
}

/**
 * Accepts the source of a function expression (`(x) => x * x`, `async function (x, ctx) {…}`) or
 * a self-contained ES module whose default export is the map function (`export default …`,
 * `export { f as default }`). Throws `map_compile_error` naming `field`.
 *
 * @example checkMapSource('var f = (x) => x;\nexport { f as default };') === 'module'
 */
export function checkMapSource(source: string, field = 'map'): MapKind {
  const expressionError = notFunctionExpression(source);
  if (expressionError === undefined) return 'function';
  let program: Program;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module' });
  } catch (moduleError) {
    const detail = /export|import/.test(source) ? moduleError : expressionError;
    throw refuse(field, `does not compile: ${(detail as Error).message}`, detail);
  }
  const problem = moduleProblem(program);
  if (problem) throw refuse(field, problem);
  return 'module';
}

/**
 * A function expression written as a statement, as a file holding one is formatted
 * (`(x) => x * x;`, prettier's output), reduced to the expression that tabs compile; any other
 * source comes back unchanged (and is then checked by `checkMapSource` as it is).
 *
 * @example functionExpressionOf('(x) => x * x;\n') === '(x) => x * x'
 */
export function functionExpressionOf(source: string): string {
  let program: Program;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'script' });
  } catch {
    return source;
  }
  const [statement] = program.body;
  if (
    program.body.length !== 1 ||
    statement?.type !== 'ExpressionStatement' ||
    !FUNCTION_TYPES.has(statement.expression.type)
  ) {
    return source;
  }
  return source.slice(statement.expression.start, statement.expression.end);
}

const kinds = new WeakMap<{ map: string }, MapKind>();

/**
 * How tabs compile an accepted job's map: the kind `checkMapSource` decided at submit, worked out
 * again once per job in this process (a job restored from the store was checked when submitted).
 */
export function mapKindOf(spec: { map: string }): MapKind {
  let kind = kinds.get(spec);
  if (!kind) {
    kind = notFunctionExpression(spec.map) === undefined ? 'function' : 'module';
    kinds.set(spec, kind);
  }
  return kind;
}
