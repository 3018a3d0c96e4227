/**
 * @module A node lost mid-job: two coordinator processes on one PostgreSQL, simulated tabs on
 * each, a job submitted on one; the other is killed (SIGKILL) a third of the way through. Prints
 * how long after the kill the survivor declared it dead (its tasks then run on the survivor's
 * tabs), and the job's time against the same job with no node lost, in the same run.
 */
import pg from 'pg';
import { startBenchPostgres } from './pg-server.ts';
import {
  completedJob,
  jobState,
  submitRangeJob,
  SMOKE,
  coordinatorProcess,
  loadWorker,
  nextMessage,
  report,
  stopWorker,
} from './support.ts';
import { waitFor } from '../test/support/start-coordinator.ts';

const HEARTBEAT_MS = 1_000;
const SILENT_MS = 5_000;

interface Run {
  jobSeconds: number;
  /** Seconds from the kill until the killed node was declared dead, and until its ranges were
   * all claimed again by the survivor; undefined without a kill. */
  declaredDeadSeconds?: number;
  takenOverSeconds?: number;
}

/** Polls the database itself (the nodes and claims tables) until `sql` returns true. */
async function until(databaseUrl: string, sql: string, what: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await waitFor(
      async () => ((await client.query<{ yes: boolean }>(sql)).rows[0]?.yes ? true : undefined),
      120_000,
      what,
    );
    return Date.now();
  } finally {
    await client.end();
  }
}

async function runOnce(databaseUrl: string, tasks: number, kill: boolean): Promise<Run> {
  const env = {
    BROWSERGRID_DATABASE_URL: databaseUrl,
    BROWSERGRID_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
    BROWSERGRID_NODE_SILENT_MS: String(SILENT_MS),
  };
  const survivor = await coordinatorProcess(env);
  const victim = await coordinatorProcess(env);
  const tabs = [survivor, victim].map(({ server }) =>
    loadWorker({ url: server.url, mode: 'grid', clients: 20, slots: 2, taskMs: 20 }),
  );
  try {
    await Promise.all(tabs.map((worker) => nextMessage(worker, 'ready', 60_000)));
    const started = performance.now();
    const id = await submitRangeJob(survivor.server, tasks, { map: '(x) => x' });
    let killedAt: number | undefined;
    if (kill) {
      await waitFor(
        async () => ((await jobState(survivor.server, id)).done >= tasks / 3 ? true : undefined),
        120_000,
        'a third of the job',
      );
      victim.server.child.kill('SIGKILL');
      killedAt = Date.now();
    }
    let deadAt: number | undefined;
    let takenAt: number | undefined;
    if (killedAt !== undefined) {
      deadAt = await until(
        databaseUrl,
        'SELECT EXISTS (SELECT 1 FROM nodes WHERE NOT live) AS yes',
        'the killed node to be declared dead',
      );
      takenAt = await until(
        databaseUrl,
        `SELECT NOT EXISTS (SELECT 1 FROM claims WHERE epoch IS NULL
           OR epoch IN (SELECT epoch FROM nodes WHERE NOT live)) AS yes`,
        "the killed node's ranges to be claimed again",
      );
    }
    await completedJob(survivor.server, id, 300_000);
    const jobSeconds = (performance.now() - started) / 1000;
    if (killedAt === undefined || deadAt === undefined || takenAt === undefined) {
      return { jobSeconds };
    }
    return {
      jobSeconds,
      declaredDeadSeconds: (deadAt - killedAt) / 1000,
      takenOverSeconds: (takenAt - killedAt) / 1000,
    };
  } finally {
    await Promise.all(tabs.map((worker) => stopWorker(worker)));
    victim.cleanup();
    survivor.cleanup();
  }
}

export async function benchFailover(): Promise<void> {
  const tasks = SMOKE ? 3_000 : 30_000;
  const postgres = await startBenchPostgres();
  try {
    const calm = await runOnce(await postgres.freshDatabase(), tasks, false);
    const lost = await runOnce(await postgres.freshDatabase(), tasks, true);
    report({
      bench: 'failover',
      metric: `job time, a node killed at 1/3 (${tasks.toLocaleString('en')} tasks)`,
      value: lost.jobSeconds,
      baseline: calm.jobSeconds,
      ratio: lost.jobSeconds / calm.jobSeconds,
      unit: 's',
      note: `2 nodes on one PostgreSQL, 20 simulated tabs x 2 slots on each, 20-ms tasks; the killed node was declared dead ${lost.declaredDeadSeconds?.toFixed(1)} s after SIGKILL and its ranges claimed again by ${lost.takenOverSeconds?.toFixed(1)} s (heartbeat ${HEARTBEAT_MS} ms, silence limit ${SILENT_MS} ms); baseline: no node lost`,
    });
  } finally {
    await postgres.stop();
  }
}
