/**
 * Chaos test: a real coordinator process (`node server/bin.mjs start`) killed with SIGKILL twice
 * while misbehaving simulated tabs (slow, stalling, dropping their connection) work through a
 * job. Every random choice comes from one seed, printed at the start; replay a failure with
 * `CHAOS_SEED=<seed> npx vitest run test/integration/chaos.test.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../server/store/sqlite-store.ts';
import type { JobCreated, JobSummary } from '../../shared/job.ts';
import { SimTab, type SimTabOptions } from '../support/sim-tab.ts';
import { within } from '../support/events.ts';
import { api, resultLines, waitFor, waitForJobSummary } from '../support/start-coordinator.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'chaos-admin-token-0123456789';
const ITEMS = 600;
const CHUNK_SIZE = 3;
const TEST_TIMEOUT_MS = 55_000;

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('[chaos] cleanup failed:', error);
    }
  }
});

/** mulberry32: a tiny seeded PRNG, so a failing run's choices can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

type ChaosBehaviour = 'normal' | 'slow' | 'staller' | 'dropper';

/**
 * A misbehaving tab: `slow` takes four times as long, a `staller` hangs on some copies for good,
 * a `dropper` loses its connection now and then while it holds work. Every tab keeps its results
 * until acknowledged and resends them after each reconnect, as the page's outbox does.
 */
function chaosTab(
  i: number,
  behaviour: ChaosBehaviour,
  random: () => number,
): SimTabOptions & { slots: number; taskMs: number } {
  const slots = 1 + Math.floor(random() * 3);
  const tabRandom = prng(Math.floor(random() * 2 ** 31));
  const taskMs = (40 + Math.floor(random() * 60)) * (behaviour === 'slow' ? 4 : 1);
  return {
    tabId: `chaos-tab-${i}`,
    deviceId: `chaos-device-${i}`,
    slots,
    concurrency: slots,
    taskMs,
    jitter: true,
    random: tabRandom,
    reportStart: true,
    ...(behaviour === 'staller' ? { stallChance: 0.08 } : {}),
    ...(behaviour === 'dropper' ? { dropChance: 0.15 } : {}),
    resend: { ackTimeoutMs: 5_000, retryEveryMs: 250 },
    resultsPerMessage: 200,
    reconnect: { minMs: 100, maxMs: 300 },
    helloTimeoutMs: 5_000,
    record: false,
  };
}

interface CoordinatorProcess {
  child: ChildProcess;
  hasExited: () => boolean;
  exited: Promise<void>;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('coordinator under chaos', () => {
  it(
    'finishes a job with every result once and in order while tabs drop, stall and crawl and the coordinator is killed twice',
    async () => {
      const seed = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
      console.log(`[chaos] seed ${seed} (replay with CHAOS_SEED=${seed})`);
      const random = prng(seed);

      const dataDir = tempDir('browsergrid-chaos-data-');
      // A stub page, so `start` does not run a vite build: this test needs no pages.
      const staticDir = tempDir('browsergrid-chaos-static-');
      mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
      writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>\n');
      const port = await freePort();
      const server = { url: `http://127.0.0.1:${port}`, token: TOKEN };
      const output: string[] = [];

      const processes: CoordinatorProcess[] = [];
      const stopProcess = async (proc: CoordinatorProcess, signal: NodeJS.Signals) => {
        if (!proc.hasExited()) proc.child.kill(signal);
        await within(proc.exited, 10_000, `coordinator pid ${proc.child.pid} to exit on ${signal}`);
      };
      cleanups.push(async () => {
        for (const proc of processes) {
          // SIGTERM first (a clean stop); SIGKILL if it does not exit in time.
          await stopProcess(proc, 'SIGTERM').catch(() => stopProcess(proc, 'SIGKILL'));
        }
      });

      const startProcess = async (): Promise<CoordinatorProcess> => {
        const child = spawn(process.execPath, ['server/bin.mjs', 'start'], {
          cwd: ROOT,
          env: {
            ...process.env,
            PORT: String(port),
            HOST: '127.0.0.1',
            BROWSERGRID_DATA: dataDir,
            BROWSERGRID_ADMIN_TOKEN: TOKEN,
            BROWSERGRID_STATIC_DIR: staticDir,
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let exited = false;
        const proc: CoordinatorProcess = {
          child,
          hasExited: () => exited,
          exited: new Promise((resolve) =>
            child.once('exit', (code, signal) => {
              exited = true;
              output.push(`[pid ${child.pid}] exited (code ${code}, signal ${signal})`);
              resolve();
            }),
          ),
        };
        const record = (chunk: Buffer) => {
          for (const line of chunk.toString('utf8').split('\n')) {
            if (line.trim()) output.push(`[pid ${child.pid}] ${line}`);
          }
        };
        child.stdout?.on('data', record);
        child.stderr?.on('data', record);
        processes.push(proc);
        await waitFor(
          async () => {
            if (proc.hasExited()) {
              throw new Error(`coordinator exited during start:\n${output.join('\n')}`);
            }
            try {
              const res = await fetch(`${server.url}/healthz`);
              return res.ok ? true : undefined;
            } catch {
              return undefined; // not listening yet
            }
          },
          20_000,
          `/healthz on port ${port}`,
        );
        return proc;
      };

      try {
        let current = await startProcess();

        // Six tabs, each behaviour drawn from the seed; at least one of each kind of trouble.
        const kinds: ChaosBehaviour[] = ['slow', 'staller', 'dropper'];
        const all: ChaosBehaviour[] = ['normal', 'slow', 'staller', 'dropper'];
        for (let i = kinds.length; i < 6; i++) {
          kinds.push(all[Math.floor(random() * all.length)] as ChaosBehaviour);
        }
        const tabs = kinds.map((behaviour, i) => ({
          behaviour,
          options: chaosTab(i, behaviour, random),
        }));
        console.log(
          `[chaos] tabs: ${tabs
            .map((t) => `${t.behaviour}(${t.options.slots}x${t.options.taskMs}ms)`)
            .join(', ')}`,
        );
        const volunteers = await Promise.all(
          tabs.map(async (t) => {
            const volunteer = await SimTab.connect(server.url, t.options);
            cleanups.push(() => volunteer.close());
            return volunteer;
          }),
        );

        const created = await api<JobCreated>(server, 'POST', '/api/jobs', {
          name: 'chaos',
          map: '(x) => x * x',
          inputs: { range: { start: 0, end: ITEMS } },
          chunkSize: CHUNK_SIZE,
          timeoutMs: 1_500,
        });
        expect(created.status).toBe(201);
        const job = created.body;
        expect(job.tasks).toBe(ITEMS / CHUNK_SIZE);

        const finished = (s: JobSummary) => s.status !== 'queued' && s.status !== 'running';
        // Follows the job on the admin feed, across the coordinator's restarts.
        const summaryWhen = (accept: (s: JobSummary) => boolean, timeoutMs: number, what: string) =>
          waitForJobSummary<JobSummary>(
            server,
            job.id,
            (s) => accept(s as JobSummary),
            timeoutMs,
            what,
          );

        const kills: Array<{ at: number; done: number; inFlight: number; status: string }> = [];
        for (const fraction of [0.2, 0.6]) {
          const before = await summaryWhen(
            (s) => s.done >= fraction * s.tasks || finished(s),
            25_000,
            `job ${job.id} to reach ${fraction * 100}% done`,
          );
          await stopProcess(current, 'SIGKILL');
          kills.push({
            at: fraction,
            done: before.done,
            inFlight: before.inFlight,
            status: before.status,
          });
          current = await startProcess();
        }
        console.log(`[chaos] kills: ${JSON.stringify(kills)}`);

        const final = await summaryWhen(
          finished,
          30_000,
          `job ${job.id} to finish after the restarts`,
        );
        console.log(
          `[chaos] stats: ${JSON.stringify(volunteers.map((v, i) => ({ behaviour: kinds[i], ...v.stats })))}`,
        );

        const warnings = output.filter((line) => line.includes('"level"'));
        console.log(`[chaos] coordinator logged ${warnings.length} warnings or errors`);
        for (const line of warnings.slice(0, 10)) console.log(`[chaos]   ${line}`);

        expect(final).toMatchObject({
          status: 'completed',
          tasks: ITEMS / CHUNK_SIZE,
          done: ITEMS / CHUNK_SIZE,
          failed: 0,
          inFlight: 0,
        });
        expect(final.done).toBe(final.tasks);
        // The chaos was real: a kill hit the job with copies out in tabs.
        expect(kills).toHaveLength(2);
        expect(kills.some((k) => k.status === 'running' && k.inFlight > 0)).toBe(true);

        // Results computed while a tab was cut off reached the coordinator once it was back,
        // and every tab was eventually told to forget every result it holds.
        const offlineDelivered = volunteers.reduce(
          (sum, v) => sum + v.stats.deliveredAfterReconnect,
          0,
        );
        expect(offlineDelivered).toBeGreaterThan(0);
        await SimTab.until(
          volunteers,
          () => volunteers.every((v) => v.outbox.size === 0),
          10_000,
          'every outbox to be acknowledged',
        );

        const lines = await resultLines(server, job.id);
        expect(lines).toHaveLength(ITEMS);
        expect(lines).toEqual(
          Array.from({ length: ITEMS }, (_, index) => ({ index, output: index * index })),
        );

        for (const volunteer of volunteers) volunteer.close();
        await stopProcess(current, 'SIGTERM');
        const store = createSqliteStore({ filename: path.join(dataDir, 'browsergrid.db') });
        try {
          const settled = await store.settledTasks(job.id);
          expect(settled).toHaveLength(job.tasks);
          expect(new Set(settled.map((task) => task.taskIndex)).size).toBe(job.tasks);
          expect(settled.every((task) => task.status === 'committed')).toBe(true);
        } finally {
          await store.close();
        }
      } catch (error) {
        console.error(`[chaos] seed ${seed} failed; coordinator output:\n${output.join('\n')}`);
        throw error;
      }
    },
    TEST_TIMEOUT_MS,
  );
});
