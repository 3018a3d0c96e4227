/**
 * @module What every benchmark shares: the command line, the report of figures against their
 * baselines, the load-generator threads, waiting on jobs, and reading a process's memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { nextEvent } from '../test/support/events.ts';
import { waitFor, type TestCoordinator } from '../test/support/start-coordinator.ts';
import type { LoadOptions } from './load-worker.ts';

export const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    /** Length of the soak benchmark (default 10; 0.4 with --smoke). */
    'soak-minutes': { type: 'string' },
    /** Tasks of the memory benchmark's big job (default 2,000,000; 200,000 with --smoke). */
    'memory-tasks': { type: 'string' },
    /** Tasks of the store benchmark's job (default 200,000; 20,000 with --smoke). */
    'store-tasks': { type: 'string' },
    /** Rounds of 1, 2 and 3 nodes in the nodes benchmark (default 2; 1 with --smoke). */
    'nodes-rounds': { type: 'string' },
  },
});
export const SMOKE = args.smoke;

export interface Figure {
  bench: string;
  metric: string;
  value: number;
  baseline: number;
  ratio: number;
  unit: string;
  note: string;
}
export const figures: Figure[] = [];

export function report(figure: Figure): void {
  figures.push(figure);
  process.stdout.write(
    `${figure.bench.padEnd(10)} ${figure.metric.padEnd(34)} ${fmt(figure.value)} ${figure.unit} vs baseline ${fmt(figure.baseline)} ${figure.unit}  ratio ${figure.ratio.toFixed(3)}  (${figure.note})\n`,
  );
}

export function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(2);
}

/** Starts the TypeScript load worker; tsx is registered inside the thread first, since Node 20
 * resolves a worker's entry before `--import` hooks in its execArgv apply. */
export function loadWorker(options: LoadOptions): Worker {
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

export function nextMessage<T>(worker: Worker, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`[bench]: no ${type} from load worker in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(message as T);
    };
    worker.on('message', onMessage);
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function stopWorker(worker: Worker): Promise<void> {
  worker.postMessage({ type: 'stop' });
  await worker.terminate();
}

export async function waitJob(
  server: TestCoordinator,
  jobId: string,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    async () => {
      const summary = await server.coordinator.engine.summary(jobId);
      return summary.status === 'completed' ? true : undefined;
    },
    timeoutMs,
    `job ${jobId}`,
  );
}

/** Resident memory of a process, from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
  return kb * 1024;
}

/** Starts a server process and resolves its URL once it answers. */
export async function serverProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  url: (stdout: string) => string | undefined,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let found: string | undefined;
  await nextEvent(
    child.stdout as Readable,
    'data',
    60_000,
    `a server process (${args.join(' ')})`,
    (chunk: Buffer) => {
      out += chunk.toString();
      found = url(out);
      return found !== undefined;
    },
  );
  return { child, url: found as string };
}

/** Settles before reading memory: two readings half a second apart within 1 %. */
export async function steadyRss(pid: number): Promise<number> {
  let last = rssOf(pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = rssOf(pid);
    if (Math.abs(now - last) / last < 0.01) return now;
    last = now;
  }
  return last;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** Headers for the REST API of a coordinator started by `coordinatorProcess`. */
export const BENCH_HEADERS = {
  Authorization: `Bearer ${BENCH_ADMIN_TOKEN}`,
  'Content-Type': 'application/json',
};

/** Submits a job of `tasks` one-item tasks (a range, no speculation); returns its id. */
export async function submitRangeJob(
  server: { url: string },
  tasks: number,
  spec: Record<string, unknown> = {},
): Promise<string> {
  const submitted = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: BENCH_HEADERS,
    body: JSON.stringify({
      map: '(x) => x * x',
      inputs: { range: { start: 0, end: tasks } },
      chunkSize: 1,
      speculation: false,
      ...spec,
    }),
  });
  if (!submitted.ok) throw new Error(`[bench]: submit: ${await submitted.text()}`);
  return ((await submitted.json()) as { id: string }).id;
}

/** A job's summary over REST. */
export async function jobState(
  server: { url: string },
  jobId: string,
): Promise<{ status: string; done: number }> {
  const res = await fetch(`${server.url}/api/jobs/${jobId}`, { headers: BENCH_HEADERS });
  return (await res.json()) as { status: string; done: number };
}

/** Waits for a job to complete; a job that failed or was cancelled fails the benchmark. */
export async function completedJob(
  server: { url: string },
  jobId: string,
  timeoutMs = 30 * 60_000,
): Promise<void> {
  let failedPolls = 0;
  await waitFor(
    async () => {
      // A keep-alive connection the server closes as a poll reuses it fails that poll alone (seen
      // on a machine loaded far past its cores); a server gone fails them all.
      const state = await jobState(server, jobId).catch((error: unknown) => {
        if (++failedPolls >= 20) throw error;
        return undefined;
      });
      if (state === undefined) return undefined;
      failedPolls = 0;
      const { status } = state;
      if (status === 'failed' || status === 'cancelled')
        throw new Error(`[bench]: job ${jobId} ${status}`);
      return status === 'completed' ? true : undefined;
    },
    timeoutMs,
    `job ${jobId}`,
  );
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** The end of what the process wrote to stderr, for a report of why it died. */
  stderrTail?: () => string;
  /** Tabs the server itself counts as connected, where it can say. */
  connected?: () => Promise<number>;
}

/**
 * A coordinator process (`browsergrid start`) with an empty data dir and stand-in pages; it
 * prints nothing at LOG_LEVEL=warn. `env` overrides its settings.
 */
export async function coordinatorProcess(
  env: NodeJS.ProcessEnv = {},
): Promise<{ server: ServerProcess; cleanup: () => void }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-bench-'));
  const staticDir = path.join(dataDir, 'pages');
  mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
  writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>');
  const port = await freePort();
  const child = spawn(
    ...withRaisedFdLimit([fileURLToPath(new URL('../server/bin.mjs', import.meta.url)), 'start']),
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: dataDir,
        BROWSERGRID_STATIC_DIR: staticDir,
        BROWSERGRID_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Its log (stdout, at warn and above) and stderr, for a report of why it died.
  let stderr = '';
  const keep = (chunk: Buffer): void => void (stderr = (stderr + chunk.toString()).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    'the coordinator',
  );
  const connected = async (): Promise<number> => {
    const res = await fetch(`${url}/metrics`, {
      headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    });
    return Number(/^browsergrid_workers_connected (\d+)/m.exec(await res.text())?.[1]);
  };
  return {
    server: { child, url, connected, stderrTail: () => stderr },
    cleanup: () => {
      child.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The command that runs node with `nodeArgs` and its soft descriptor limit raised to the hard one
 * (Node has no setrlimit; a shell's `ulimit` does it, then `exec` keeps the pid and the IPC
 * channel). Where the raise is refused, node runs with the limit it had.
 */
export function withRaisedFdLimit(nodeArgs: string[]): [string, string[]] {
  return [
    '/bin/sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...nodeArgs],
  ];
}

/** The next IPC message of `type` from a child process; rejects if it exits first. */
export function nextChildMessage<T>(
  child: ChildProcess,
  type: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`[bench]: no ${type} from child process ${child.pid} in ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`[bench]: child process ${child.pid} exited (${code}) before ${type}`));
    });
  });
}
