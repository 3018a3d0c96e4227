/**
 * @module Coordinator memory against a job's size: one coordinator process runs a job of
 * 2,000,000 one-item tasks with simulated tabs, and its peak RSS growth over idle is compared
 * with the same run of a job 10 times smaller. Both are far larger than what the tabs hold at
 * once (their prefetch), so a ratio near 1 means a node's memory does not grow with the job.
 */
import {
  completedJob,
  submitRangeJob,
  SMOKE,
  args,
  coordinatorProcess,
  loadWorker,
  nextMessage,
  report,
  rssOf,
  steadyRss,
  stopWorker,
} from './support.ts';

const MIB = 1024 * 1024;
const SAMPLE_MS = 250;

interface Run {
  tasks: number;
  idleMib: number;
  peakMib: number;
  seconds: number;
}

/** Runs one job of `tasks` one-item tasks on a fresh coordinator; samples its RSS throughout. */
async function runJob(tasks: number): Promise<Run> {
  const { server, cleanup } = await coordinatorProcess();
  const pid = server.child.pid as number;
  const worker = loadWorker({ url: server.url, mode: 'grid', clients: 50, slots: 4 });
  try {
    await nextMessage(worker, 'ready', 60_000);
    const idle = await steadyRss(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), SAMPLE_MS);
    const started = performance.now();
    const id = await submitRangeJob(server, tasks, { name: `memory-${tasks}` });
    await completedJob(server, id);
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));
    return {
      tasks,
      idleMib: idle / MIB,
      peakMib: peak / MIB,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stopWorker(worker);
    cleanup();
  }
}

export async function benchJobMemory(): Promise<void> {
  const big = Number(args['memory-tasks'] ?? (SMOKE ? 200_000 : 2_000_000));
  const baseline = await runJob(big / 10);
  const measured = await runJob(big);
  const growth = measured.peakMib - measured.idleMib;
  const baseGrowth = baseline.peakMib - baseline.idleMib;
  report({
    bench: 'memory',
    metric: `RSS growth, job of ${big.toLocaleString('en')} tasks`,
    value: growth,
    baseline: baseGrowth,
    ratio: growth / Math.max(baseGrowth, 1),
    unit: 'MiB',
    note: `peak over idle; idle ${measured.idleMib.toFixed(0)} -> peak ${measured.peakMib.toFixed(0)} MiB in ${measured.seconds.toFixed(0)} s (${(big / measured.seconds).toFixed(0)} tasks/s); baseline: a job of ${baseline.tasks.toLocaleString('en')} tasks, ${baseline.idleMib.toFixed(0)} -> ${baseline.peakMib.toFixed(0)} MiB`,
  });
}
