/**
 * @module 7. Soak: a coordinator process serving 1,000 simulated tabs for 10 minutes while jobs
 * keep coming. A calm first fifth is the baseline; in the storm that follows, honest tabs drop
 * and come back at random and hostile tabs (their own source address) send deep, wide, forged
 * and garbage packets. At the end every result of every job is read back and checked: none may
 * be missing, wrong or doubled, and the coordinator must never have stopped. Also printed: the
 * slope of the coordinator's RSS in the storm against the calm phase, and throughput.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForJob } from '../test/support/start-coordinator.ts';
import type { SoakClientOptions, SoakCounters } from './soak-client.ts';
import {
  BENCH_ADMIN_TOKEN,
  SMOKE,
  args,
  coordinatorProcess,
  nextChildMessage,
  report,
  rssOf,
} from './support.ts';

const MINUTES = Number(args['soak-minutes'] ?? (SMOKE ? 0.4 : 10));
const HONEST_PROCESSES = SMOKE ? 2 : 8;
const TABS_PER_PROCESS = SMOKE ? 20 : 120;
const HOSTILE_TABS = SMOKE ? 5 : 40;
const TASK_MS = 1_000;
/** Items per job, and per task: a job takes its share of the tabs for a minute or so. */
const JOB_ITEMS = SMOKE ? 2_000 : 40_000;
const CHUNK_SIZE = 4;
/** Jobs kept running at once. */
const RUNNING_JOBS = 2;
const SAMPLE_MS = 2_000;

interface Sample {
  atMs: number;
  rss: number;
  storm: boolean;
}

export async function benchSoak(): Promise<void> {
  const { server, cleanup } = await coordinatorProcess();
  let died: string | undefined;
  const death = new Promise<never>((_, reject) =>
    server.child.once('exit', (code, signal) => {
      died = `exited (${code ?? signal}): ${server.stderrTail?.() ?? ''}`;
      reject(new Error(`[soak]: the coordinator ${died}`));
    }),
  );
  // Heard by the waits that race it; the clean-up's own stop must not count as unhandled.
  void death.catch(() => undefined);
  const clients: ChildProcess[] = [];
  const jobs: string[] = [];
  try {
    for (let k = 0; k < HONEST_PROCESSES; k++)
      clients.push(
        client({
          url: server.url,
          tabs: TABS_PER_PROCESS,
          localAddress: `127.0.0.${40 + k}`,
          prefix: `soak-${k}`,
          hostile: false,
          taskMs: TASK_MS,
          dropPerSecond: 0.01,
          hostileEveryMs: 0,
        }),
      );
    clients.push(
      client({
        url: server.url,
        tabs: HOSTILE_TABS,
        localAddress: '127.0.0.60',
        prefix: 'soak-hostile',
        hostile: true,
        taskMs: TASK_MS,
        dropPerSecond: 0,
        hostileEveryMs: 2_000,
      }),
    );
    await Promise.all(clients.map((child) => nextChildMessage(child, 'ready', 300_000)));

    const samples: Sample[] = [];
    const started = performance.now();
    const durationMs = MINUTES * 60_000;
    const calmMs = durationMs / 5;
    let storm = false;
    const done = { calm: 0, storm: 0 };
    let doneBefore = 0;
    while (performance.now() - started < durationMs) {
      if (died) throw new Error(`[soak]: the coordinator ${died}`);
      const atMs = performance.now() - started;
      if (!storm && atMs >= calmMs) {
        storm = true;
        for (const child of clients) child.send({ type: 'storm' });
      }
      // Keeps RUNNING_JOBS jobs going; counts items settled per phase from their summaries.
      const summaries = await Promise.all(
        jobs.map((id) => api<JobSummary>('GET', `/api/jobs/${id}`)),
      );
      const settled = summaries.reduce((sum, s) => sum + s.done + s.failed, 0) * CHUNK_SIZE;
      done[storm ? 'storm' : 'calm'] += settled - doneBefore;
      doneBefore = settled;
      const running = summaries.filter((s) => s.status === 'running' || s.status === 'queued');
      for (let i = running.length; i < RUNNING_JOBS; i++) {
        const { id } = await api<{ id: string }>('POST', '/api/jobs', {
          name: `soak ${jobs.length + 1}`,
          map: '(x) => x * 2',
          inputs: { range: { start: 0, end: JOB_ITEMS } },
          chunkSize: CHUNK_SIZE,
          timeoutMs: 10 * TASK_MS,
        });
        jobs.push(id);
      }
      samples.push({ atMs, rss: rssOf(server.child.pid as number), storm });
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }

    // The storm ends; every job must still finish, each result exactly once.
    for (const child of clients) child.send({ type: 'calm' });
    const admin = { url: server.url, token: BENCH_ADMIN_TOKEN };
    await Promise.race([
      Promise.all(jobs.map((id) => waitForJob(admin, id, ['completed', 'failed'], 300_000))),
      death,
    ]);
    const check = await checkResults(jobs);
    const counters = await stopClients(clients);
    const calm = slopeMiBPerMinute(samples.filter((s) => !s.storm));
    const stormy = slopeMiBPerMinute(samples.filter((s) => s.storm));
    const note = `${HONEST_PROCESSES * TABS_PER_PROCESS} honest tabs + ${HOSTILE_TABS} hostile, ${MINUTES} min (calm first fifth); ${jobs.length} jobs, ${check.items} items; ${counters.drops} drops, ${counters.reconnects} reconnects, ${counters.hostileSent} hostile packets; ${check.failedJobs} jobs failed`;
    report({
      bench: 'soak',
      metric: 'results lost or wrong',
      value: check.lost,
      baseline: 0,
      ratio: check.lost === 0 ? 1 : Infinity,
      unit: 'items',
      note,
    });
    report({
      bench: 'soak',
      metric: 'results doubled',
      value: check.doubled,
      baseline: 0,
      ratio: check.doubled === 0 ? 1 : Infinity,
      unit: 'items',
      note: 'a result line twice, or a job counting more tasks done than it has',
    });
    report({
      bench: 'soak',
      metric: 'coordinator RSS slope in the storm',
      value: stormy,
      baseline: calm,
      ratio: calm === 0 ? 0 : stormy / calm,
      unit: 'MiB/min',
      note: `least squares over ${SAMPLE_MS / 1000}-s samples; RSS ${mib(samples[0]?.rss)} -> ${mib(samples.at(-1)?.rss)} MiB; baseline: the calm phase`,
    });
    const stormRate = done.storm / ((durationMs - calmMs) / 1000);
    const calmRate = done.calm / (calmMs / 1000);
    report({
      bench: 'soak',
      metric: 'items settled/s in the storm',
      value: stormRate,
      baseline: calmRate,
      ratio: stormRate / calmRate,
      unit: 'items/s',
      note: 'baseline: the calm phase, same tabs',
    });
  } finally {
    for (const child of clients) child.kill('SIGKILL');
    cleanup();
  }

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${BENCH_ADMIN_TOKEN}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`[soak]: ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Reads every job's results back: one line per item, in order, `2 * index`, nothing twice. */
  async function checkResults(
    ids: string[],
  ): Promise<{ items: number; lost: number; doubled: number; failedJobs: number }> {
    let items = 0;
    let lost = 0;
    let doubled = 0;
    let failedJobs = 0;
    for (const id of ids) {
      const summary = await api<JobSummary>('GET', `/api/jobs/${id}`);
      if (summary.status === 'failed') failedJobs++;
      if (summary.done + summary.failed > summary.tasks)
        doubled += summary.done + summary.failed - summary.tasks;
      const res = await fetch(`${server.url}/api/jobs/${id}/results`, {
        headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
      });
      const seen = new Uint8Array(summary.items);
      for (const line of (await res.text()).split('\n')) {
        if (!line) continue;
        const { index, output } = JSON.parse(line) as { index: number; output?: unknown };
        if (seen[index]) doubled++;
        seen[index] = 1;
        if (output !== index * 2) lost++;
      }
      lost += seen.reduce((missing, s) => missing + (s ? 0 : 1), 0);
      items += summary.items;
    }
    return { items, lost, doubled, failedJobs };
  }
}

interface JobSummary {
  status: string;
  items: number;
  tasks: number;
  done: number;
  failed: number;
}

function client(options: SoakClientOptions): ChildProcess {
  return fork(fileURLToPath(new URL('./soak-client.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BROWSERGRID_SOAK: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function stopClients(clients: ChildProcess[]): Promise<SoakCounters> {
  const total: SoakCounters = {
    drops: 0,
    reconnects: 0,
    hostileSent: 0,
    resultsSent: 0,
    refused: 0,
  };
  for (const child of clients) {
    const stopped = nextChildMessage<{ counters: SoakCounters }>(child, 'stopped', 60_000);
    child.send({ type: 'stop' });
    const { counters } = await stopped;
    for (const key of Object.keys(total) as Array<keyof SoakCounters>) total[key] += counters[key];
  }
  return total;
}

/** Least-squares slope of RSS over time, in MiB per minute. */
function slopeMiBPerMinute(samples: Sample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanT = samples.reduce((s, p) => s + p.atMs, 0) / n;
  const meanR = samples.reduce((s, p) => s + p.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.atMs - meanT) * (p.rss - meanR);
    den += (p.atMs - meanT) ** 2;
  }
  return den === 0 ? 0 : ((num / den) * 60_000) / 2 ** 20;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / 2 ** 20).toFixed(0);
}
