/**
 * @module Results committed per second by one coordinator process on PostgreSQL against the same
 * process on SQLite: the same job of one-item tasks, the same simulated tabs, the store the only
 * difference. PostgreSQL runs with its durable defaults (fsync, synchronous_commit on) on this
 * machine, sharing its cores with the coordinator and the tabs, as a one-box install would.
 * Wall time on a machine shared with other work swings by 2x from run to run, so the CPU both
 * sides spend per result is reported too: it moves little, and bounds the figure on a busy box.
 */
import { processCpuSeconds, startBenchPostgres, type BenchPostgres } from './pg-server.ts';
import {
  BENCH_HEADERS,
  completedJob,
  submitRangeJob,
  SMOKE,
  args,
  coordinatorProcess,
  loadWorker,
  nextMessage,
  report,
  stopWorker,
} from './support.ts';

const TABS = 50;
const SLOTS = 4;
const RUNS_PER_STORE = 3;

interface Run {
  resultsPerSecond: number;
  seconds: number;
  commits: number;
  /** Mean time of one group commit, and the mean changes in it. */
  commitMs: number;
  changesPerCommit: number;
  /** Upper bound of the histogram bucket holding the 99th percentile commit. */
  commitP99Ms: number;
  /** CPU seconds spent during the job by the coordinator, the database server (PostgreSQL
   * only) and this process (the tabs' thread). */
  cpu: { coordinator: number; database: number; tabs: number };
}

/** Runs one job on a fresh coordinator; PostgreSQL when `databaseUrl` is given. */
async function runJob(tasks: number, pg?: { db: BenchPostgres; url: string }): Promise<Run> {
  const { server, cleanup } = await coordinatorProcess(
    pg ? { BROWSERGRID_DATABASE_URL: pg.url } : {},
  );
  const pid = server.child.pid as number;
  const worker = loadWorker({ url: server.url, mode: 'grid', clients: TABS, slots: SLOTS });
  try {
    await nextMessage(worker, 'ready', 60_000);
    const cpuBefore = {
      coordinator: processCpuSeconds(pid),
      database: pg?.db.cpuSeconds() ?? 0,
      tabs: process.cpuUsage(),
    };
    const started = performance.now();
    const id = await submitRangeJob(server, tasks, { name: `store-${tasks}` });
    await completedJob(server, id);
    const seconds = (performance.now() - started) / 1000;
    const tabsCpu = process.cpuUsage(cpuBefore.tabs);
    const cpu = {
      coordinator: processCpuSeconds(pid) - cpuBefore.coordinator,
      database: (pg?.db.cpuSeconds() ?? 0) - cpuBefore.database,
      tabs: (tabsCpu.user + tabsCpu.system) / 1e6,
    };
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: BENCH_HEADERS })).text();
    const commits = metric(metrics, 'browsergrid_store_commit_seconds_count');
    return {
      resultsPerSecond: tasks / seconds,
      seconds,
      commits,
      commitMs: (metric(metrics, 'browsergrid_store_commit_seconds_sum') / commits) * 1000,
      changesPerCommit: metric(metrics, 'browsergrid_store_commit_changes_sum') / commits,
      commitP99Ms: quantileBound(metrics, 'browsergrid_store_commit_seconds', 0.99) * 1000,
      cpu,
    };
  } finally {
    await stopWorker(worker);
    cleanup();
  }
}

function metric(text: string, name: string): number {
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return Number(line?.[1] ?? Number.NaN);
}

/** The smallest histogram bucket bound holding quantile `q` of the observations. */
function quantileBound(text: string, name: string, q: number): number {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))]
    .map((match) => ({
      le: match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]),
      count: Number(match[2]),
    }))
    .sort((a, b) => a.le - b.le);
  const total = buckets[buckets.length - 1]?.count ?? 0;
  return buckets.find((bucket) => bucket.count >= q * total)?.le ?? Number.NaN;
}

/** CPU of the coordinator and the database server per result: what a busy machine runs out of. */
const cpuMicrosPerResult = (run: Run, tasks: number): number =>
  ((run.cpu.coordinator + run.cpu.database) / tasks) * 1e6;

function describe(run: Run): string {
  const cpu = `CPU s coordinator ${run.cpu.coordinator.toFixed(1)}${run.cpu.database > 0 ? `, postgres ${run.cpu.database.toFixed(1)}` : ''}, tabs ${run.cpu.tabs.toFixed(1)}`;
  return `${run.resultsPerSecond.toFixed(0)}/s in ${run.seconds.toFixed(1)} s, ${run.commits} commits of ${run.changesPerCommit.toFixed(0)} changes, mean ${run.commitMs.toFixed(1)} ms, p99 ${Number.isFinite(run.commitP99Ms) ? `<= ${run.commitP99Ms.toFixed(0)}` : '> 1000'} ms; ${cpu}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const best = (runs: Run[]): Run =>
  runs.reduce((a, b) => (b.resultsPerSecond > a.resultsPerSecond ? b : a));

export async function benchStoreThroughput(): Promise<void> {
  const tasks = Number(args['store-tasks'] ?? (SMOKE ? 20_000 : 200_000));
  const db = await startBenchPostgres();
  const sqliteRuns: Run[] = [];
  const pgRuns: Run[] = [];
  try {
    // Alternated, so load from elsewhere on the machine falls on both sides alike.
    for (let i = 0; i < RUNS_PER_STORE; i++) {
      sqliteRuns.push(await runJob(tasks));
      pgRuns.push(await runJob(tasks, { db, url: await db.freshDatabase() }));
    }
  } finally {
    await db.stop();
  }
  const sqlite = best(sqliteRuns);
  const postgres = best(pgRuns);
  for (const run of sqliteRuns) process.stdout.write(`  store sqlite:   ${describe(run)}\n`);
  for (const run of pgRuns) process.stdout.write(`  store postgres: ${describe(run)}\n`);
  const cpuOf = (runs: Run[]): number => median(runs.map((run) => cpuMicrosPerResult(run, tasks)));
  report({
    bench: 'store',
    metric: `results/s, PostgreSQL, ${tasks.toLocaleString('en')} tasks`,
    value: postgres.resultsPerSecond,
    baseline: sqlite.resultsPerSecond,
    ratio: postgres.resultsPerSecond / sqlite.resultsPerSecond,
    unit: '/s',
    note: `one coordinator process, ${TABS} simulated tabs x ${SLOTS} slots, chunkSize 1; the better of ${RUNS_PER_STORE} runs each, alternated; PostgreSQL 17 embedded on this machine, fsync and synchronous_commit on; baseline: SQLite (WAL, synchronous=NORMAL) in the same process; aim >= 0.7`,
  });
  const sqliteCpu = cpuOf(sqliteRuns);
  const pgCpu = cpuOf(pgRuns);
  report({
    bench: 'store',
    metric: 'CPU per result, PostgreSQL',
    value: pgCpu,
    baseline: sqliteCpu,
    ratio: sqliteCpu / pgCpu,
    unit: 'us',
    note: `coordinator + database server CPU per result (the tabs' CPU is the same on both sides), median of ${RUNS_PER_STORE} runs; ratio = SQLite / PostgreSQL, the results/s ratio a machine with no spare core would see; steadier than wall time on a shared machine`,
  });
}
