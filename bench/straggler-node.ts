/**
 * @module A node whose only tab never answers: two coordinator processes on one PostgreSQL, fast
 * simulated tabs on one, and on the other a single tab that takes tasks and never reports. The
 * second node claims its share of the job as any node with tabs does; its tasks finish only as
 * backups run on the first node's idle tabs (borrowing.ts), their results forwarded to it. Prints
 * the job's time against the same job with no such tab, in the same run. Without backups across
 * nodes the job would not finish while that node lives.
 */
import { startBenchPostgres } from './pg-server.ts';
import {
  completedJob,
  coordinatorProcess,
  loadWorker,
  nextMessage,
  report,
  SMOKE,
  stopWorker,
  submitRangeJob,
} from './support.ts';
import { SimTab } from '../test/support/sim-tab.ts';

const TABS = 20;
const SLOTS = 2;
const TASK_MS = 20;

async function runOnce(databaseUrl: string, tasks: number, straggler: boolean): Promise<number> {
  const env = { BROWSERGRID_DATABASE_URL: databaseUrl };
  const working = await coordinatorProcess(env);
  const stalled = await coordinatorProcess(env);
  const tabs = loadWorker({
    url: working.server.url,
    mode: 'grid',
    clients: TABS,
    slots: SLOTS,
    taskMs: TASK_MS,
  });
  let silent: SimTab | undefined;
  try {
    await nextMessage(tabs, 'ready', 60_000);
    if (straggler)
      silent = await SimTab.connect(stalled.server.url, { slots: 2, answer: 'silent' });
    const started = performance.now();
    const id = await submitRangeJob(working.server, tasks, { map: '(x) => x', speculation: true });
    await completedJob(working.server, id, 300_000);
    return (performance.now() - started) / 1000;
  } finally {
    silent?.close();
    await stopWorker(tabs);
    stalled.cleanup();
    working.cleanup();
  }
}

export async function benchStragglerNode(): Promise<void> {
  const tasks = SMOKE ? 2_000 : 20_000;
  const postgres = await startBenchPostgres();
  try {
    const calm = await runOnce(await postgres.freshDatabase(), tasks, false);
    const stalled = await runOnce(await postgres.freshDatabase(), tasks, true);
    report({
      bench: 'straggler-node',
      metric: `job time, one node's only tab silent (${tasks.toLocaleString('en')} tasks)`,
      value: stalled,
      baseline: calm,
      ratio: stalled / calm,
      unit: 's',
      note: `2 nodes on one PostgreSQL; ${TABS} simulated tabs x ${SLOTS} slots of ${TASK_MS}-ms tasks on one, and on the other one tab that takes tasks and never answers: its node's share runs as backups on the first node's idle tabs; baseline: no such tab`,
    });
  } finally {
    await postgres.stop();
  }
}
