import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as viteBuild, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../server/errors.ts';
import { checkMapSource, functionExpressionOf, mapKindOf } from '../../server/jobs/map-source.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/map-functions/zod-job.js', import.meta.url));

function refusal(source: string): CoordinatorError {
  let caught: unknown;
  try {
    checkMapSource(source);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CoordinatorError);
  return caught as CoordinatorError;
}

describe('checkMapSource', () => {
  it.each([
    ['(x) => x * x', 'function'],
    ['x => x + 1', 'function'],
    ['async (x, ctx) => { ctx.progress(1); return x; }', 'function'],
    ['function square(x) { return x * x }', 'function'],
    ['export default (x) => x * 2', 'module'],
    ['const k = 3;\nexport default function (x) { return x * k }', 'module'],
    // What bundlers end a library build with.
    ['const f = (x) => x;\nexport { f as default };', 'module'],
    ['const f = (x) => x, g = 1;\nexport { f as default, g };', 'module'],
    ['var job_default = (x) => x * 2;\nexport {\n  job_default as default\n};\n', 'module'],
    ['function main(x) { return x }\nexport { main as default };', 'module'],
    ['const f = (x) => x;\nexport { f as "default" };', 'module'],
    ['const k = await Promise.resolve(2);\nexport default (x) => x * k;', 'module'],
  ])('accepts %j as a %s', (source, kind) => {
    expect(checkMapSource(source)).toBe(kind);
    expect(mapKindOf({ map: source })).toBe(kind);
  });

  it.each([
    ['(x) => x *', /does not compile/],
    ['42', /function expression/],
    ['const f = (x) => x', /does not compile|function expression/],
    ['export const f = 1', /default export/],
    ['(x) => x) ; (y => y', /does not compile/],
    ['export default 42', /export a function as default, not a value/],
    ['export default class Square {}', /export a function as default, not a value/],
    ['export default { map: (x) => x }', /export a function as default, not a value/],
    [
      "import { z } from 'zod';\nexport default (x) => z.parse(x)",
      /imports another file \(from "zod"\)/,
    ],
    ["import './side-effect.js';\nexport default (x) => x", /imports another file/],
    ["export { default } from './other.js';", /imports another file \(from ".\/other.js"\)/],
    ["export * from './other.js';\nexport default (x) => x", /imports another file/],
    ["const f = (x) => x;\nexport { f as default, g } from './g.js';", /imports another file/],
  ])('refuses %j with a map_compile_error naming map', (source, message) => {
    const error = refusal(source);
    expect(error.code).toBe('map_compile_error');
    expect(error.field).toBe('map');
    expect(error.message).toMatch(/^\[jobs\]: map /);
    expect(error.message).toMatch(message);
  });

  it('accepts a real npm library bundled into one ES module by esbuild, minified or not', async () => {
    for (const minify of [false, true]) {
      const { outputFiles } = await esbuild({
        entryPoints: [FIXTURE],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        minify,
        write: false,
        logLevel: 'silent',
      });
      const code = outputFiles[0]?.text ?? '';
      expect(code).toMatch(/export\s*\{\s*\w+ as default\s*\};\s*$/);
      expect(checkMapSource(code)).toBe('module');
    }
  });

  it('accepts the same library as a vite library build (rollup-style output)', async () => {
    const built = (await viteBuild({
      configFile: false,
      logLevel: 'silent',
      build: {
        write: false,
        lib: { entry: FIXTURE, formats: ['es'], fileName: 'job' },
      },
    })) as Rollup.RollupOutput | Rollup.RollupOutput[];
    const [chunk] = (Array.isArray(built) ? built : [built]).flatMap((out) => out.output);
    const code = chunk?.type === 'chunk' ? chunk.code : '';
    expect(code).toMatch(/export \{ \w+ as default \};\s*$/);
    expect(checkMapSource(code)).toBe('module');
  });

  it("refuses the library's entry unbundled, naming the import", async () => {
    const error = refusal(await readFile(FIXTURE, 'utf8'));
    expect(error.message).toMatch(
      /imports another file \(from "zod\/mini"\), and job code cannot load files; bundle it first: npx esbuild map\.js --bundle --format=esm --platform=browser --outfile=map\.bundle\.js, then submit map\.bundle\.js/,
    );
  });

  it.each([
    "import confetti from 'https://esm.sh/canvas-confetti@1';\nexport default (x) => x",
    "import { f } from '//cdn.example.org/f.js';\nexport default (x) => f(x)",
  ])('refuses %j as an import from the network, saying how to bundle instead', (source) => {
    const error = refusal(source);
    expect(error.message).toMatch(
      /^\[jobs\]: map must be one self-contained module: it imports a module from the network \(from ".+"\), and job code has no network access; bundle it first \(install it from npm instead, or save it next to map\.js\): npx esbuild map\.js --bundle/,
    );
  });
});

describe('functionExpressionOf', () => {
  it.each([
    ['(x) => x * x;\n', '(x) => x * x'],
    ['// squares\n(x) => x * x;', '(x) => x * x'],
    ['((acc, x) => acc + x);', '(acc, x) => acc + x'],
    ['async function (x) { return x; }', 'async function (x) { return x; }'],
    ['(function (x) { return x; });', 'function (x) { return x; }'],
  ])('reduces the statement %j to the expression tabs compile', (source, expected) => {
    expect(functionExpressionOf(source)).toBe(expected);
    expect(checkMapSource(functionExpressionOf(source))).toBe('function');
  });

  it.each([
    'export default (x) => x;',
    '(x) => x; (y) => y;',
    '1 + 2;',
    'function named(x) { return x; }',
    'not javascript (',
    '(x) => x;\nexport default 1',
  ])('leaves %j as it was', (source) => {
    expect(functionExpressionOf(source)).toBe(source);
  });
});
