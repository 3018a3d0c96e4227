/**
 * @module `npx browsergrid` in a fresh checkout, as the README's CLI section runs it: npm links the
 * checkout itself and runs its bin, before any `npm pack` has built dist/.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEnv, collect } from '../support/cli-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the bin in a checkout', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs `npx browsergrid --version` from the repository root without a build', async () => {
    // A fresh npm cache, so npx links the checkout as a newcomer's first run does.
    const cache = mkdtempSync(path.join(tmpdir(), 'bg-npx-cache-'));
    dirs.push(cache);
    const child = spawn('npx', ['--offline', 'browsergrid', '--version'], {
      cwd: ROOT,
      env: cliEnv({ npm_config_cache: cache, npm_config_update_notifier: 'false' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }) as unknown as ChildProcessWithoutNullStreams;
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await collect(child, 60_000, 'npx browsergrid --version');
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(version);
    expect(run.code).toBe(0);
  }, 90_000);
});
