/**
 * The package as a user gets it: `npm pack`, `npm install <tarball>` into an empty directory,
 * then the `browsergrid` bin and `browsergrid/sdk` on plain Node 20 (no tsx, no TypeScript
 * sources), with a simulated tab doing the work.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { within } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { installTarball, packCheckout, run } from '../support/packed-package.ts';
import { TEST_TOKEN } from '../support/start-coordinator.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const TYPES = fileURLToPath(new URL('../../node_modules/@types', import.meta.url));
const { defer, volunteer } = useHarness();

/** Runs the installed bin's `start` and resolves with the URL its log says it listens on. */
async function startInstalled(app: string, dataDir: string): Promise<string> {
  const child = spawn(path.join(app, 'node_modules', '.bin', 'browsergrid'), ['start'], {
    cwd: app,
    env: {
      PATH: process.env['PATH'],
      PORT: '0',
      HOST: '127.0.0.1',
      BROWSERGRID_DATA: dataDir,
      BROWSERGRID_ADMIN_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(`code ${code}, signal ${signal}`)),
  );
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await within(exited, 15_000, 'the installed coordinator to exit');
  });
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return within(
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        output.push(`${line}\n`);
        const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line)?.[1];
        if (url) resolve(url);
      });
      void exited.then((how) =>
        reject(new Error(`installed coordinator exited (${how}):\n${output.join('')}`)),
      );
    }),
    30_000,
    'the installed coordinator to listen',
  );
}

const SDK_SCRIPT = `
import { connect } from 'browsergrid/sdk';
const client = connect(process.env.URL, { token: process.env.TOKEN });
const squares = await client.map([1, 2, 3, 4], (x) => x * x, { name: 'packed' });
console.log(JSON.stringify(squares));
`;

const CONSUMER_TS = `
import { connect, BrowsergridError, type Job } from 'browsergrid/sdk';
const client = connect('http://127.0.0.1:8080', { token: 'a-token-of-sixteen-chars' });
const job: Job = await client.submit({ map: '(x) => x + 1', inputs: { range: { start: 0, end: 9 } } });
const summary = await job.status();
const tasks: number = summary.tasks;
// @ts-expect-error a job's id is a string: the declarations are real types, not any
const id: number = job.id;
// @ts-expect-error a status is one of a few strings (a schema in shared/, inferred through zod)
const status: number = summary.status;
console.log(tasks, id, status, BrowsergridError);
`;

describe('the packed package', () => {
  it('leaves browsergrid/sdk the TypeScript source in a checkout, under tsx and with no build', async () => {
    const resolved = await run(
      process.execPath,
      [
        ...['--import', 'tsx', '--input-type=module'],
        ...['-e', "console.log(import.meta.resolve('browsergrid/sdk'))"],
      ],
      { cwd: ROOT, timeoutMs: 30_000 },
    );
    expect(resolved.stdout.trim()).toBe(pathToFileURL(path.join(ROOT, 'server/sdk/index.ts')).href);
  });

  it('installs from its tarball into an empty directory and runs a job through its bin and SDK on plain node', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-package-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));

    const tarball = await packCheckout(dir);
    const listing = await run('tar', ['-tzf', tarball], { cwd: dir, timeoutMs: 10_000 });
    const files = listing.stdout.trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/server/cli.js',
        'package/dist/server/sdk/index.js',
        'package/dist/server/sdk/index.d.ts',
        'package/dist/server/store/migrations/001-init.sql',
        'package/dist/client/volunteer/index.html',
        'package/dist/client/sandbox/index.html',
      ]),
    );
    // Built JavaScript and declarations only (and the bin, which loads them): no TypeScript
    // source, test or page source.
    expect(files.filter((file) => /(?<!\.d)\.ts$/.test(file))).toEqual([]);
    expect(
      files.filter((file) => !/^package\/(dist\/|server\/bin\.mjs$|[^/]+$)/.test(file)),
    ).toEqual([]);

    const app = path.join(dir, 'app');
    await installTarball(tarball, app);
    const installed = path.join(app, 'node_modules', 'browsergrid');
    const version = (
      JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const bin = path.join(app, 'node_modules', '.bin', 'browsergrid');
    expect((await run(bin, ['--version'], { cwd: app, timeoutMs: 15_000 })).stdout.trim()).toBe(
      version,
    );

    const url = await startInstalled(app, path.join(dir, 'data'));
    // The pages it ships, served as they are.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script type="module"[^>]* src="\/assets\//);
    expect((await fetch(`${url}/sandbox/`)).status).toBe(200);

    await volunteer({ url });
    writeFileSync(path.join(app, 'job.mjs'), SDK_SCRIPT);
    const job = await run(process.execPath, ['job.mjs'], {
      cwd: app,
      env: { PATH: process.env['PATH'], URL: url, TOKEN: TEST_TOKEN },
      timeoutMs: 30_000,
    });
    expect(JSON.parse(job.stdout)).toEqual([1, 4, 9, 16]);

    const listed = await run(bin, ['status', '--json', '--url', url, '--token', TEST_TOKEN], {
      cwd: app,
      timeoutMs: 15_000,
    });
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'packed', status: 'completed' }),
    ]);

    writeFileSync(path.join(app, 'consumer.ts'), CONSUMER_TS);
    await run(
      process.execPath,
      [
        ...[TSC, '--noEmit', '--strict', '--target', 'es2022'],
        ...['--module', 'nodenext', '--moduleResolution', 'nodenext'],
        // Checks the consumer's use of the declarations, not every .d.ts it reaches (4x faster).
        ...['--skipLibCheck', '--typeRoots', TYPES, '--types', 'node', 'consumer.ts'],
      ],
      { cwd: app, timeoutMs: 60_000 },
    );
  }, 240_000);
});
