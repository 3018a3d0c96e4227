/**
 * @module Starts a real coordinator on 127.0.0.1:0 for tests, with SQLite in a temp dir, or the
 * PostgreSQL database a test names in `config.databaseUrl`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { createCoordinator, type Coordinator } from '../../server/app.ts';
import { Config } from '../../server/config.ts';
import { createRootLog } from '../../server/log.ts';
import { openStore } from '../../server/store/open-store.ts';
import type { JobStore } from '../../server/store/store.ts';
import type { SchedulerOptions } from '../../server/scheduling/scheduler.ts';

export const TEST_TOKEN = 'test-admin-token-0123456789';

export interface TestCoordinator {
  url: string;
  token: string;
  dataDir: string;
  coordinator: Coordinator;
  /** The coordinator's store, for tests that check what is durable. */
  store: JobStore;
  /** Stops the coordinator; the data dir stays for a restart until `cleanup`. */
  stop(): Promise<void>;
  /** Stops the coordinator and removes its data dir. */
  close(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  staticDir?: string;
  scheduler?: Partial<SchedulerOptions>;
  maxHttpBodyBytes?: number;
  /** 0 (a free port) unless a test restarts a coordinator where its tabs expect it. */
  port?: number;
  /** Other settings, as `Config` fields. */
  config?: Record<string, unknown>;
  /** The coordinator's clock (a FakeClock), where a test moves time by hand. */
  clock?: { now(): number };
  /** Hears a store failure the coordinator cannot continue after (main.ts exits there). */
  onFatal?: (error: unknown) => void;
}

export async function startCoordinator(options: StartOptions = {}): Promise<TestCoordinator> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'browsergrid-test-'));
  const config = Config.parse({
    port: options.port ?? 0,
    host: '127.0.0.1',
    dataDir,
    ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    ...(options.maxHttpBodyBytes ? { maxHttpBodyBytes: options.maxHttpBodyBytes } : {}),
    ...options.config,
  });
  const log = createRootLog(process.env['TEST_LOG_LEVEL'] ?? 'silent');
  // The store's own log too: a PostgreSQL stopped by a test is not news in its output.
  const store = await openStore(config, { log });
  const coordinator = await createCoordinator({
    config,
    store,
    adminToken: TEST_TOKEN,
    log,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  const url = await coordinator.listen();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await coordinator.close();
  };
  return {
    url,
    token: TEST_TOKEN,
    dataDir,
    coordinator,
    store,
    stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls the REST API as an admin; returns status and parsed body. */
export async function api<T = unknown>(
  server: { url: string; token: string },
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${server.token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // NDJSON or plain text: left as text
  }
  return { status: res.status, body: parsed as T };
}

export async function resultLines(
  server: { url: string; token: string },
  jobId: string,
): Promise<Array<Record<string, unknown>>> {
  const { status, body } = await api<string>(server, 'GET', `/api/jobs/${jobId}/results`);
  if (status !== 200) throw new Error(`results: HTTP ${status}`);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Resolves with the job's summary (as `GET /api/jobs/:id` answers it) once its status is one of
 * `statuses`.
 */
export async function waitForJob(
  server: { url: string; token: string },
  jobId: string,
  statuses: string[] = ['completed', 'failed', 'cancelled'],
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  return waitForJobSummary(
    server,
    jobId,
    (summary) => statuses.includes(String(summary['status'])),
    timeoutMs,
    `job ${jobId} to reach ${statuses.join('|')}`,
  );
}

/**
 * Resolves with the job's summary (as `GET /api/jobs/:id` answers it) once `accept` holds for it.
 * It listens on the admin namespace for `job:progress` rather than polling, and reads the job
 * once on every (re)connection, so a job that got there before it listened is seen too, and a
 * coordinator that restarts meanwhile is followed.
 */
export async function waitForJobSummary<T = Record<string, unknown>>(
  server: { url: string; token: string },
  jobId: string,
  accept: (summary: Record<string, unknown>) => boolean,
  timeoutMs = 30_000,
  what = `job ${jobId}`,
): Promise<T> {
  const socket = io(`${server.url}/admin`, {
    auth: { token: server.token },
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 100,
  });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      const read = (): void => {
        api<Record<string, unknown>>(server, 'GET', `/api/jobs/${jobId}`).then(
          ({ status, body }) => {
            if (status !== 200 || !accept(body)) return;
            clearTimeout(timer);
            resolve(body as T);
          },
          // A coordinator restarting: the next connection reads again.
          () => undefined,
        );
      };
      socket.on('job:progress', (summary: Record<string, unknown>) => {
        if (summary['id'] === jobId && accept(summary)) read();
      });
      socket.on('connect', read);
    });
  } finally {
    socket.disconnect();
  }
}
