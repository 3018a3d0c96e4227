/**
 * @module The package as a user gets it: `npm pack` (its prepack builds dist/) from a copy of the
 * checkout, then `npm install <tarball>` into an empty directory, for tests that run what that
 * install holds with plain `node`.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the build reads: copied, so the build writes no dist/ in the checkout that other tests serve. */
const BUILD_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'vite.config.ts',
  'README.md',
  'LICENSE',
  'scripts',
  'server',
  'shared',
  'client',
];

export interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; rejects, with its output, on a non-zero exit or after `timeoutMs`. */
export async function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  try {
    return await promisify(execFile)(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
      encoding: 'utf8',
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${String(error)}\n${stdout}\n${stderr}`, {
      cause: error,
    });
  }
}

/** `npm pack` of a copy of the checkout into `dir`; resolves with the tarball's path. */
export async function packCheckout(dir: string): Promise<string> {
  const source = path.join(dir, 'source');
  mkdirSync(source);
  for (const name of BUILD_INPUTS) {
    if (existsSync(path.join(ROOT, name))) {
      cpSync(path.join(ROOT, name), path.join(source, name), { recursive: true });
    }
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'));
  await run('npm', ['pack', '--pack-destination', dir], { cwd: source, timeoutMs: 120_000 });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`[test]: npm pack left no tarball in ${dir}`);
  return path.join(dir, tarball);
}

/**
 * Installs `tarball` into the empty directory `app`, as `npm install <tarball>` does, from the npm
 * cache the checkout's `npm ci` filled. better-sqlite3's install script, which compiles SQLite
 * (about a minute here), is the one script skipped: the checkout's compiled addon, of the same
 * pinned version for the same Node, goes where that script would have put it.
 */
export async function installTarball(tarball: string, app: string): Promise<void> {
  mkdirSync(app);
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await run(
    'npm',
    ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
    { cwd: app, timeoutMs: 120_000 },
  );
  const addon = path.join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(path.dirname(path.join(app, 'node_modules', addon)), { recursive: true });
  copyFileSync(path.join(ROOT, 'node_modules', addon), path.join(app, 'node_modules', addon));
}
