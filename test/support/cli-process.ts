/**
 * @module The `browsergrid` command run as a real child process (`node server/bin.mjs …`), with no
 * stdin, for tests of what a user at a terminal sees: stdout, stderr and the exit status. The
 * environment is the test's, less every BROWSERGRID_* variable unless a test sets one.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './events.ts';

export const BIN = fileURLToPath(new URL('../../server/bin.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment a CLI child gets: no BROWSERGRID_* from the test runner's own shell. */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('BROWSERGRID_')),
  );
  return { ...clean, ...env };
}

/** Starts the CLI; its stdout and stderr are pipes the test reads. */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    env: cliEnv(options.env),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as unknown as ChildProcessWithoutNullStreams;
}

/** Runs the CLI to its end, whatever its exit status. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const child = spawnCli(args, options);
  return collect(child, options.timeoutMs ?? 20_000, `browsergrid ${args.join(' ')}`);
}

/** Everything a started CLI writes, and how it ends. */
export function collect(
  child: ChildProcessWithoutNullStreams,
  timeoutMs: number,
  what: string,
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<CliRun>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return within(ended, timeoutMs, `${what} to exit`).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** How it ends, with all it wrote. */
  ended: Promise<CliRun>;
  /** Resolves with what `stream` has said so far once it matches `pattern`. */
  until(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** Starts the CLI and lets a test wait for what it says while it runs. */
export function startCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): RunningCli {
  const child = spawnCli(args, options);
  const said = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (said.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (said.stderr += chunk.toString()));
  const ended = collect(child, options.timeoutMs ?? 60_000, `browsergrid ${args.join(' ')}`);
  return {
    child,
    ended,
    until(stream, pattern, timeoutMs) {
      if (pattern.test(said[stream])) return Promise.resolve(said[stream]);
      const seen = new Promise<string>((resolve, reject) => {
        const onData = (): void => {
          if (!pattern.test(said[stream])) return;
          child[stream].off('data', onData);
          resolve(said[stream]);
        };
        child[stream].on('data', onData);
        void ended.then(() =>
          reject(new Error(`exited before ${stream} matched ${pattern}:\n${said.stderr}`)),
        );
      });
      return within(seen, timeoutMs, `${stream} to match ${pattern}`);
    },
  };
}
