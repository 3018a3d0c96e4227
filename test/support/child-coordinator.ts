/**
 * @module A coordinator in a child process (`server/bin.mjs start`) on 127.0.0.1:0, for tests
 * whose failure is the process dying: a crash shows as the child's exit, with its log, instead of
 * taking the test runner down with it.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nextEvent, within } from './events.ts';

/** One line of the coordinator's JSON log. */
export type LogEntry = Record<string, unknown>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildCoordinator {
  url: string;
  token: string;
  /** Its BROWSERGRID_DATA (removed by `stop`). */
  dataDir: string;
  /** How the process ended (`code 1, signal null`), or undefined while it runs. */
  exit(): string | undefined;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Stops it (SIGTERM) and removes its data dir; resolves with how it ended. */
  stop(): Promise<string>;
  /** Sends it a signal (SIGSTOP to freeze it, SIGCONT to wake it, SIGKILL). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with how it ended, when it does. */
  exited: Promise<string>;
  /** The first JSON log line, from line `since` on (0 unless told), for which `accept` holds. */
  logLine(
    accept: (entry: LogEntry) => boolean,
    timeoutMs: number,
    what: string,
    since?: number,
  ): Promise<LogEntry>;
  /** JSON log lines written so far: a `since` for lines yet to come. */
  logCount(): number;
}

export async function startChildCoordinator(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<ChildCoordinator> {
  const token = 'child-coordinator-token-0123456789';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-child-'));
  // Stand-in pages, so the coordinator does not build the real ones.
  const staticDir = path.join(dataDir, 'pages');
  mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
  writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>');
  const child = spawn(process.execPath, [...nodeArgs, 'server/bin.mjs', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      BROWSERGRID_DATA: dataDir,
      BROWSERGRID_ADMIN_TOKEN: token,
      BROWSERGRID_STATIC_DIR: staticDir,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const entries: LogEntry[] = [];
  const logged = new EventEmitter();
  let exit: string | undefined;
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve((exit = `code ${code}, signal ${signal}`))),
  );
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  // Its log says where it listens; an exit first is a failed start.
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      const entry = parseLogLine(line);
      if (entry) {
        entries.push(entry);
        logged.emit('entry', entry);
      }
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line)?.[1];
      if (url) resolve(url);
    });
    void exited.then((how) =>
      reject(new Error(`coordinator exited (${how}):\n${output.join('')}`)),
    );
  });
  const stop = async (): Promise<string> => {
    if (exit === undefined) {
      child.kill('SIGCONT'); // a frozen child would not hear the SIGTERM
      child.kill('SIGTERM');
      await within(exited, 15_000, 'the coordinator to exit');
    }
    rmSync(dataDir, { recursive: true, force: true });
    return exit as string;
  };
  let url: string;
  try {
    url = await within(listening, 30_000, 'the coordinator to listen');
  } catch (error) {
    await stop();
    throw error;
  }
  const logLine = async (
    accept: (entry: LogEntry) => boolean,
    timeoutMs: number,
    what: string,
    since = 0,
  ): Promise<LogEntry> => {
    const seen = entries.slice(since).find(accept);
    if (seen) return seen;
    const [entry] = await nextEvent<[LogEntry]>(logged, 'entry', timeoutMs, what, accept);
    return entry;
  };
  return {
    url,
    token,
    dataDir,
    logLine,
    logCount: () => entries.length,
    exit: () => exit,
    output: () => output.join(''),
    stop,
    signal: (signal) => child.kill(signal),
    exited,
  };
}

function parseLogLine(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return undefined;
  }
}
