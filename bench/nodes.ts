/**
 * @module Results per second of 1, 2 and 3 coordinator nodes on one PostgreSQL: the same job of
 * one-item tasks, submitted on the first node, and the same simulated tabs in all, spread evenly
 * over the nodes (one load thread per node). Every node, the database and the tabs share this
 * machine's cores, so more nodes add CPU demand as well as capacity; the CPU each side spends per
 * result is printed beside the rate, since that is what says which of them bounds the figure.
 */
import { processCpuSeconds, startBenchPostgres, type BenchPostgres } from './pg-server.ts';
import {
  completedJob,
  coordinatorProcess,
  loadWorker,
  nextMessage,
  report,
  stopWorker,
  submitRangeJob,
  SMOKE,
  args,
} from './support.ts';

const TABS = 60;
const SLOTS = 4;
const NODE_COUNTS = [1, 2, 3];
/**
 * Silence before a node is declared dead. The default (5 s) is shorter than a node's heartbeat
 * can be starved on this machine when other work loads it far past its 2 cores: a live node was
 * then declared dead mid-job and stopped, as it must once declared so. Losing a node is the
 * failover bench's subject, not this one's.
 */
const SILENT_MS = 30_000;
/** Rounds of 1, 2, 3 nodes, alternated so load from elsewhere falls on each count alike. */
const ROUNDS = Number(args['nodes-rounds'] ?? (SMOKE ? 1 : 2));

interface Run {
  nodes: number;
  resultsPerSecond: number;
  seconds: number;
  /** CPU seconds during the job: every node together, the database server, this process (tabs). */
  cpu: { nodes: number; database: number; tabs: number };
}

type Node = Awaited<ReturnType<typeof coordinatorProcess>>;

/** Starts `count` nodes on a fresh database; the first alone, since it migrates the database. */
async function startNodes(db: BenchPostgres, count: number): Promise<Node[]> {
  const env = {
    BROWSERGRID_DATABASE_URL: await db.freshDatabase(),
    BROWSERGRID_NODE_SILENT_MS: String(SILENT_MS),
  };
  const first = await coordinatorProcess(env);
  const rest = await Promise.allSettled(
    Array.from({ length: count - 1 }, () => coordinatorProcess(env)),
  );
  const started = [first, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
  const failed = rest.find((r) => r.status === 'rejected');
  if (failed) {
    for (const { cleanup } of started) cleanup();
    throw failed.reason;
  }
  return started;
}

/** Runs the job with the tabs spread over `nodes`; the first node takes the submit. */
async function runJob(db: BenchPostgres, nodes: Node[], tasks: number): Promise<Run> {
  const workers: Array<ReturnType<typeof loadWorker>> = [];
  try {
    const perNode = Math.floor(TABS / nodes.length);
    for (const { server } of nodes) {
      workers.push(loadWorker({ url: server.url, mode: 'grid', clients: perNode, slots: SLOTS }));
    }
    await Promise.all(workers.map((worker) => nextMessage(worker, 'ready', 60_000)));
    const nodesCpu = (): number =>
      nodes.reduce((sum, { server }) => sum + processCpuSeconds(server.child.pid as number), 0);
    const before = { nodes: nodesCpu(), database: db.cpuSeconds(), tabs: process.cpuUsage() };
    const first = nodes[0]?.server as { url: string };
    const t0 = performance.now();
    const jobId = await submitRangeJob(first, tasks, { name: `nodes-${nodes.length}` });
    await completedJob(first, jobId).catch((error: unknown) => {
      for (const { server } of nodes) {
        const exit = server.child.exitCode ?? server.child.signalCode;
        process.stderr.write(
          `[bench]: node ${server.url}${exit !== null ? ` exited (${exit})` : ''}:\n${server.stderrTail?.() ?? ''}\n`,
        );
      }
      throw error;
    });
    const seconds = (performance.now() - t0) / 1000;
    const tabs = process.cpuUsage(before.tabs);
    return {
      nodes: nodes.length,
      resultsPerSecond: tasks / seconds,
      seconds,
      cpu: {
        nodes: nodesCpu() - before.nodes,
        database: db.cpuSeconds() - before.database,
        tabs: (tabs.user + tabs.system) / 1e6,
      },
    };
  } finally {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
  }
}

function describe(run: Run, tasks: number): string {
  const perResult = (seconds: number): string => ((seconds / tasks) * 1e6).toFixed(0);
  return `${run.nodes} node(s): ${run.resultsPerSecond.toFixed(0)}/s in ${run.seconds.toFixed(1)} s; CPU per result: nodes ${perResult(run.cpu.nodes)} us, postgres ${perResult(run.cpu.database)} us, tabs ${perResult(run.cpu.tabs)} us; cores busy ${((run.cpu.nodes + run.cpu.database + run.cpu.tabs) / run.seconds).toFixed(2)}`;
}

export async function benchNodes(): Promise<void> {
  const tasks = SMOKE ? 3_000 : 200_000;
  const db = await startBenchPostgres();
  const runs: Run[] = [];
  try {
    if (SMOKE) {
      // One set of nodes for every run, to keep the smoke short: a node with no tabs claims nothing.
      const nodes = await startNodes(db, Math.max(...NODE_COUNTS));
      try {
        for (const count of NODE_COUNTS) runs.push(await runJob(db, nodes.slice(0, count), tasks));
      } finally {
        for (const { cleanup } of nodes) cleanup();
      }
    } else {
      for (let round = 0; round < ROUNDS; round++) {
        for (const count of NODE_COUNTS) {
          const nodes = await startNodes(db, count);
          try {
            runs.push(await runJob(db, nodes, tasks));
          } finally {
            for (const { cleanup } of nodes) cleanup();
          }
        }
      }
    }
  } finally {
    await db.stop();
  }
  for (const run of runs) process.stdout.write(`  nodes ${describe(run, tasks)}\n`);
  const best = (nodes: number): Run =>
    runs
      .filter((run) => run.nodes === nodes)
      .reduce((a, b) => (b.resultsPerSecond > a.resultsPerSecond ? b : a));
  const baseline = best(1);
  for (const nodes of NODE_COUNTS.slice(1)) {
    const run = best(nodes);
    report({
      bench: 'nodes',
      metric: `results/s, ${nodes} nodes, ${tasks.toLocaleString('en')} tasks`,
      value: run.resultsPerSecond,
      baseline: baseline.resultsPerSecond,
      ratio: run.resultsPerSecond / baseline.resultsPerSecond,
      unit: '/s',
      note: `one PostgreSQL 17 (embedded, fsync on), ${TABS} simulated tabs x ${SLOTS} slots spread evenly over the nodes, job submitted on the first; the better of ${ROUNDS} run(s) each; baseline: 1 node, same tabs and job; CPU per result (nodes, postgres) ${perResult(run, tasks)} vs ${perResult(baseline, tasks)} us`,
    });
  }
}

function perResult(run: Run, tasks: number): string {
  return `${((run.cpu.nodes / tasks) * 1e6).toFixed(0)}+${((run.cpu.database / tasks) * 1e6).toFixed(0)}`;
}
