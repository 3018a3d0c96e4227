/**
 * Every job in examples/ run by the one command its README documents, copied from the README's
 * first `sh` block and run by a shell, against a real coordinator with one real volunteer tab in
 * Chromium (the sandbox that runs job code for real: modules, `ctx`, base64, bundles). `npx` there
 * resolves to this checkout's own tools, never the registry.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import type { Page } from 'puppeteer';
import type { ResultLine } from '../../shared/job.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { within } from '../support/events.ts';
import { startCoordinator, type TestCoordinator } from '../support/start-coordinator.ts';

const e2e = useE2E();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let server: TestCoordinator;
let tab: Page;
/** Holds the shell's `npx` and, per example, the dir its command runs in and writes to. */
let work: string;

beforeAll(async () => {
  server = await startCoordinator({ staticDir: e2e.staticDir });
  tab = await e2e.browser().newTab(`${server.url}/?autostart=1&cores=2`);
  await tab.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
  work = mkdtempSync(path.join(tmpdir(), 'browsergrid-examples-'));
  const npx = path.join(work, 'bin', 'npx');
  mkdirSync(path.dirname(npx));
  writeFileSync(
    npx,
    [
      '#!/bin/sh',
      'tool="$1"; shift',
      `if [ "$tool" = browsergrid ]; then exec "${process.execPath}" "${ROOT}server/bin.mjs" "$@"; fi`,
      `exec "${ROOT}node_modules/.bin/$tool" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(npx, 0o755);
});

afterAll(async () => {
  if (tab && !tab.isClosed()) await tab.browserContext().close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The first `sh` block of examples/<name>/README.md: the example's one command. */
function documentedCommand(name: string): string {
  const readme = readFileSync(path.join(ROOT, 'examples', name, 'README.md'), 'utf8');
  const command = /```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (!command) throw new Error(`examples/${name}/README.md has no sh block`);
  return command;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in a shell from `cwd`, as a user at the checkout's root would. */
function shell(command: string, cwd: string, timeoutMs = 60_000): Promise<Run> {
  const child = spawn('sh', ['-c', command], {
    cwd,
    env: {
      PATH: `${path.join(work, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: work,
      BROWSERGRID_URL: server.url,
      BROWSERGRID_ADMIN_TOKEN: server.token,
      // As at the checkout's root, where tsx finds tsconfig's path to the SDK's source.
      TSX_TSCONFIG_PATH: path.join(ROOT, 'tsconfig.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<Run>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return within(ended, timeoutMs, command).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
}

/**
 * Runs an example's documented command in a fresh dir linked to the checkout's examples/, so
 * the relative paths in the README hold and whatever it writes stays out of the checkout.
 */
async function runExample(name: string): Promise<Run & { dir: string }> {
  const dir = mkdtempSync(path.join(work, `${name}-`));
  symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'));
  const run = await shell(documentedCommand(name), dir);
  expect(run.code, `${documentedCommand(name)}\n${run.stderr}`).toBe(0);
  return { ...run, dir };
}

/** What a command chain printed last (`submit` prints the job it created first). */
function lastLine(stdout: string): string | undefined {
  return stdout.trimEnd().split('\n').at(-1);
}

function resultsIn(dir: string, file: string): ResultLine[] {
  return readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ResultLine);
}

function outputsIn<T>(dir: string, file: string): T[] {
  const lines = resultsIn(dir, file);
  expect(lines.filter((line) => 'error' in line)).toEqual([]);
  expect(lines.map((line) => line.index)).toEqual(lines.map((_, i) => i));
  return lines.map((line) => ('output' in line ? line.output : undefined) as T);
}

describe('examples/, each run by the command its README gives', () => {
  it('squares: every number in the range comes back squared, in input order', async () => {
    const { dir } = await runExample('squares');
    const outputs = outputsIn<number>(dir, 'squares.ndjson');
    expect(outputs).toEqual(Array.from({ length: 1000 }, (_, i) => i * i));
  });

  it('rooms: each CSV row gives its floor area from string columns', async () => {
    const { dir, stderr } = await runExample('rooms');
    expect(stderr).toMatch(/uploaded 6 items from examples\/rooms\/rooms\.csv/);
    expect(outputsIn<number>(dir, 'areas.ndjson')).toEqual([
      4.2 * 3.5,
      6 * 4.8,
      3.6 * 3.2,
      2.4 * 2.1,
      5.5 * 1.2,
      3 * 2.75,
    ]);
  });

  it('primes: the counts over ten blocks add up to pi(10^7) = 664579', async () => {
    const { dir, stdout } = await runExample('primes');
    expect(lastLine(stdout)).toBe('664579 primes in 10 ranges below 10000000');
    const outputs = outputsIn<{ from: number; count: number }>(dir, 'primes.ndjson');
    // pi(10^6) = 78498: the first block alone, checked apart from the sum.
    expect(outputs[0]).toEqual({ from: 0, to: 1_000_000, count: 78_498 });
  });

  it('mandelbrot: the tiles assemble into a 768 x 512 PNG of the set', async () => {
    const { dir, stdout } = await runExample('mandelbrot');
    expect(lastLine(stdout)).toBe('mandelbrot.png: 768 x 512 pixels from 96 tiles');
    const png = PNG.sync.read(readFileSync(path.join(dir, 'mandelbrot.png')));
    expect([png.width, png.height]).toEqual([768, 512]);
    // Each pixel against the same map run here: a tile out of place would differ by whole tiles.
    const { default: renderTile } = (await import(
      path.join(ROOT, 'examples/mandelbrot/mandelbrot.js')
    )) as {
      default: (n: number, ctx: { progress(f: number): void }) => Record<string, number | string>;
    };
    let differing = 0;
    for (let n = 0; n < 96; n++) {
      const tile = renderTile(n, { progress: () => undefined });
      const rgb = Buffer.from(String(tile['rgb']), 'base64');
      const [x0, y0] = [Number(tile['x']), Number(tile['y'])];
      for (let i = 0; i < 64 * 64; i++) {
        const at = ((y0 + Math.floor(i / 64)) * 768 + x0 + (i % 64)) * 4;
        for (let c = 0; c < 3; c++) {
          if (Math.abs((png.data[at + c] ?? -1) - (rgb[i * 3 + c] ?? -1)) > 2) {
            differing++;
            break;
          }
        }
      }
    }
    expect(differing).toBeLessThan(768 * 512 * 0.001);
    // c = -0.5 lies in the set (black); c = -2.25 + i lies far outside it.
    const pixel = (x: number, y: number): number[] => [
      ...png.data.subarray((y * 768 + x) * 4, (y * 768 + x) * 4 + 4),
    ];
    expect(pixel(448, 256)).toEqual([0, 0, 0, 255]);
    expect(pixel(0, 0).slice(0, 3)).not.toEqual([0, 0, 0]);
  });

  it('monte-carlo-pi: the reduce of 2.5 x 10^7 darts estimates pi within 0.002', async () => {
    const { stdout } = await runExample('monte-carlo-pi');
    const answer = JSON.parse(stdout) as { pi: number; darts: number; inside: number };
    expect(answer.darts).toBe(25_000_000);
    // The standard error is 3.3e-4.
    expect(Math.abs(answer.pi - Math.PI)).toBeLessThan(0.002);
    // Seeded draws: the same count on every run and every tab, as its README shows.
    expect(answer.inside).toBe(19_631_727);
  });

  it('dew-point: each CSV reading gets its dew point; 20 °C at 50 % gives 9.3 °C', async () => {
    const { dir } = await runExample('dew-point');
    const outputs = outputsIn<{ station: string; dewPointC: number; spreadC: number }>(
      dir,
      'dew-points.ndjson',
    );
    expect(outputs).toHaveLength(25);
    expect(outputs[0]).toEqual({
      station: 'oslo-blindern',
      time: '2026-03-14T00:00Z',
      dewPointC: -0.9,
      spreadC: 1.8,
    });
    expect(outputs.at(-1)).toMatchObject({ station: 'test-bench', dewPointC: 9.3 });
    for (const output of outputs) expect(output.spreadC).toBeGreaterThanOrEqual(0);
  });

  it('wasm-collatz: WebAssembly compiled in the sandbox finds 837799, 524 steps', async () => {
    const { dir } = await runExample('wasm-collatz');
    const outputs = outputsIn<{ from: number; start: number; steps: number }>(
      dir,
      'collatz.ndjson',
    );
    expect(outputs).toHaveLength(10);
    expect(outputs[8]).toEqual({ from: 800_000, to: 900_000, start: 837_799, steps: 524 });
    expect(Math.max(...outputs.map((output) => output.steps))).toBe(524);
    expect(outputs[0]).toMatchObject({ from: 1, start: 77_031, steps: 350 });
  });

  it('statistics: a map importing simple-statistics runs once bundled by esbuild', async () => {
    const { dir } = await runExample('statistics');
    const outputs = outputsIn<Record<string, unknown>>(dir, 'trends.ndjson');
    expect(outputs.map((output) => output['station'])).toEqual([
      'bergen',
      'madrid',
      'reykjavik',
      'valletta',
      'reference',
    ]);
    expect(outputs[0]).toEqual({
      station: 'bergen',
      n: 30,
      mean: 8.435,
      median: 8.49,
      sd: 0.487,
      q1: 8.135,
      q3: 8.738,
      trendPerDecade: 0.246,
      r: 0.444,
    });
    expect(outputs[4]).toMatchObject({ mean: 10.2, trendPerDecade: 1, r: 1 });
  });

  it('statistics: the map unbundled is refused at submit with the esbuild command', async () => {
    const run = await shell(
      `npx browsergrid submit --map ${ROOT}examples/statistics/summary.js --range 0:1`,
      work,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/simple-statistics/);
    expect(run.stderr).toMatch(/npx esbuild map\.js --bundle --format=esm/);
  });
});
