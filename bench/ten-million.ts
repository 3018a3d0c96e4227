/**
 * @module Ten million items on one node: one coordinator process on its embedded SQLite store runs
 * a job of 10,000,000 items (a range, so neither the submit nor the store holds the inputs; 100
 * items per task, so 100,000 tasks) with simulated tabs, then every result is read back through
 * `GET /api/jobs/:id/results` and checked: one line per item, in order, each the item's own
 * output. Its peak RSS growth over idle is compared with a job ten times smaller on a fresh
 * process in the same run: a ratio near 1 means a node's memory does not grow with the job.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { processCpuSeconds } from './pg-server.ts';
import {
  BENCH_HEADERS,
  completedJob,
  coordinatorProcess,
  loadWorker,
  nextMessage,
  report,
  rssOf,
  steadyRss,
  stopWorker,
  submitRangeJob,
  SMOKE,
} from './support.ts';

const MIB = 1024 * 1024;
const SAMPLE_MS = 250;
const ITEMS = SMOKE ? 200_000 : 10_000_000;
/** Tasks of 100 items: 100,000 tasks, each a few kilobytes of results, a rate one node sustains
 * with room to spare; one-item tasks would be 10^7 result rows and hours of work at ~25,000/s. */
const CHUNK_SIZE = 100;
const TABS = 50;
const SLOTS = 4;

interface Run {
  items: number;
  idleMib: number;
  peakMib: number;
  jobSeconds: number;
  /** CPU seconds the coordinator spent on the job: what bounds it when the cores are shared. */
  cpuSeconds: number;
  readSeconds: number;
}

/**
 * Reads every result line of a job and checks each is `{ index: i, output: i }` for i in order.
 * Throws on the first wrong, missing or extra line, so a pass means every item counted once.
 */
async function checkResults(url: string, jobId: string, items: number): Promise<void> {
  const res = await fetch(`${url}/api/jobs/${jobId}/results`, { headers: BENCH_HEADERS });
  if (!res.ok || !res.body) throw new Error(`[bench]: results: HTTP ${res.status}`);
  if (res.headers.get('x-browsergrid-complete') !== 'true')
    throw new Error('[bench]: results of a completed job said they were not complete');
  const lines = createInterface({
    input: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    crlfDelay: Infinity,
  });
  let next = 0;
  for await (const line of lines) {
    const { index, output } = JSON.parse(line) as { index: number; output?: unknown };
    if (index !== next || output !== next)
      throw new Error(`[bench]: result line ${next} reads ${line.slice(0, 200)}`);
    next++;
  }
  if (next !== items) throw new Error(`[bench]: ${next} result lines for ${items} items`);
}

async function runJob(items: number): Promise<Run> {
  const { server, cleanup } = await coordinatorProcess();
  const pid = server.child.pid as number;
  const worker = loadWorker({ url: server.url, mode: 'grid', clients: TABS, slots: SLOTS });
  try {
    await nextMessage(worker, 'ready', 60_000);
    const idle = await steadyRss(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), SAMPLE_MS);
    const cpuBefore = processCpuSeconds(pid);
    const started = performance.now();
    const jobId = await submitRangeJob(server, items, {
      name: `ten-million-${items}`,
      map: '(x) => x',
      chunkSize: CHUNK_SIZE,
    });
    await completedJob(server, jobId, 60 * 60_000);
    const jobSeconds = (performance.now() - started) / 1000;
    const cpuSeconds = processCpuSeconds(pid) - cpuBefore;
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));
    const readStarted = performance.now();
    await checkResults(server.url, jobId, items);
    return {
      items,
      idleMib: idle / MIB,
      peakMib: peak / MIB,
      jobSeconds,
      cpuSeconds,
      readSeconds: (performance.now() - readStarted) / 1000,
    };
  } finally {
    await stopWorker(worker);
    cleanup();
  }
}

export async function benchTenMillion(): Promise<void> {
  const baseline = await runJob(ITEMS / 10);
  const measured = await runJob(ITEMS);
  const growth = measured.peakMib - measured.idleMib;
  const baseGrowth = baseline.peakMib - baseline.idleMib;
  const tasks = ITEMS / CHUNK_SIZE;
  report({
    bench: '10M',
    metric: `RSS growth, ${ITEMS.toLocaleString('en')} items`,
    value: growth,
    baseline: baseGrowth,
    ratio: growth / Math.max(baseGrowth, 1),
    unit: 'MiB',
    note: `one node, SQLite, ${TABS} simulated tabs x ${SLOTS} slots, chunkSize ${CHUNK_SIZE} (${tasks.toLocaleString('en')} tasks); idle ${measured.idleMib.toFixed(0)} -> peak ${measured.peakMib.toFixed(0)} MiB; job ${measured.jobSeconds.toFixed(0)} s (${(ITEMS / measured.jobSeconds).toFixed(0)} items/s, ${(tasks / measured.jobSeconds).toFixed(0)} tasks/s), coordinator CPU ${measured.cpuSeconds.toFixed(0)} s (${(ITEMS / measured.cpuSeconds).toFixed(0)} items per CPU second); every result read back and checked in ${measured.readSeconds.toFixed(0)} s; baseline: ${baseline.items.toLocaleString('en')} items on a fresh node, ${baseline.idleMib.toFixed(0)} -> ${baseline.peakMib.toFixed(0)} MiB in ${baseline.jobSeconds.toFixed(1)} s`,
  });
}
