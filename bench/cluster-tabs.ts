/**
 * @module Tabs held across three coordinator nodes on one PostgreSQL: registered simulated tabs
 * (each connected and welcomed, so counted only after its hello was answered) from client
 * processes on several 127.0.0.x source addresses, held through socket.io heartbeats. Checks
 * that every node counts its own and that `GET /api/workers` on one node lists all of them
 * cluster-wide; measures each node's memory per tab. Baseline, in the same run: one node on the
 * same database holding one node's share. One node cannot hold the whole count here: every
 * process may hold at most 20,000 descriptors (the container's hard limit).
 */
import type { ChildProcess } from 'node:child_process';
import { clientProcess } from './connections.ts';
import { processCpuSeconds, startBenchPostgres, type BenchPostgres } from './pg-server.ts';
import {
  BENCH_HEADERS,
  coordinatorProcess,
  nextChildMessage,
  report,
  steadyRss,
  SMOKE,
} from './support.ts';
import { waitFor } from '../test/support/start-coordinator.ts';

const NODES = 3;
/** Tabs per node: under a process's 20,000 descriptors with room for the store and listener. */
const PER_NODE = SMOKE ? 100 : 17_000;
/** Client processes per node, each on its own source address. */
const CLIENTS_PER_NODE = SMOKE ? 1 : 2;
/** Longer than socket.io's ping interval plus timeout (25 s + 20 s): a missed heartbeat drops. */
const HOLD_MS = SMOKE ? 0 : 50_000;
/** The nodes publish their tabs with each heartbeat (1 s); a listing lags by about that. */
const LISTING_TIMEOUT_MS = 60_000;

type Node = Awaited<ReturnType<typeof coordinatorProcess>>;

interface Held {
  /** Tabs each node counted as connected after the hold. */
  connected: number[];
  /** RSS growth per tab of each node, in bytes. */
  bytesPerTab: number[];
  /** Tabs the first node's `GET /api/workers` listed, by node id, and seconds until all were. */
  listed: number;
  listedByNode: number[];
  listingSeconds: number;
  dropped: number;
  /** Connection attempts that failed and were tried again (a loaded machine times some out). */
  retried: number;
  connectSeconds: number;
  /** Cores the nodes together and the database kept busy while only holding the tabs. */
  holdCores: { nodes: number; database: number };
}

async function startNodes(db: BenchPostgres, count: number): Promise<Node[]> {
  const env = {
    BROWSERGRID_DATABASE_URL: await db.freshDatabase(),
    BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS: '0',
    // As in the nodes bench: on a machine loaded past its cores the 5-s default can declare a
    // starved, live node dead.
    BROWSERGRID_NODE_SILENT_MS: '30000',
  };
  // The first alone: it migrates the fresh database.
  const nodes = [await coordinatorProcess(env)];
  for (let i = 1; i < count; i++) nodes.push(await coordinatorProcess(env));
  return nodes;
}

async function listing(url: string): Promise<Array<{ node?: string }>> {
  const res = await fetch(`${url}/api/workers`, { headers: BENCH_HEADERS });
  if (!res.ok) throw new Error(`[bench]: GET /api/workers: HTTP ${res.status}`);
  return (await res.json()) as Array<{ node?: string }>;
}

/** Connects PER_NODE tabs to each node, holds them HOLD_MS, and counts them on every side. */
async function hold(
  db: BenchPostgres,
  nodes: Node[],
  addressBase: number,
  label: string,
): Promise<Held> {
  const before = await Promise.all(
    nodes.map(({ server }) => steadyRss(server.child.pid as number)),
  );
  const perClient = Math.ceil(PER_NODE / CLIENTS_PER_NODE);
  const clients: ChildProcess[] = [];
  nodes.forEach(({ server }, n) => {
    for (let k = 0; k < CLIENTS_PER_NODE; k++) {
      clients.push(
        clientProcess({
          url: server.url,
          mode: 'grid',
          clients: Math.min(perClient, PER_NODE - k * perClient),
          localAddress: `127.0.0.${addressBase + n * CLIENTS_PER_NODE + k}`,
          prefix: `${label}-${n}-${k}`,
        }),
      );
    }
  });
  try {
    const connectStarted = performance.now();
    const ready = await Promise.all(
      clients.map((child) =>
        nextChildMessage<{ connected: number; retried: number }>(child, 'ready', 1_800_000),
      ),
    ).catch((error: unknown) => {
      for (const { server } of nodes) process.stderr.write(server.stderrTail?.() ?? '');
      throw error;
    });
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const welcomed = ready.reduce((sum, { connected }) => sum + connected, 0);
    if (welcomed !== PER_NODE * nodes.length)
      throw new Error(`[bench]: ${welcomed} tabs welcomed of ${PER_NODE * nodes.length}`);
    const after = await Promise.all(
      nodes.map(({ server }) => steadyRss(server.child.pid as number)),
    );
    const nodesCpu = (): number =>
      sum(nodes.map(({ server }) => processCpuSeconds(server.child.pid as number)));
    const cpuBefore = { nodes: nodesCpu(), database: db.cpuSeconds(), at: performance.now() };
    if (HOLD_MS > 0) await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    const heldSeconds = Math.max((performance.now() - cpuBefore.at) / 1000, 1e-3);
    const holdCores = {
      nodes: (nodesCpu() - cpuBefore.nodes) / heldSeconds,
      database: (db.cpuSeconds() - cpuBefore.database) / heldSeconds,
    };
    const connected = await Promise.all(
      nodes.map(async ({ server }) => (await server.connected?.()) ?? Number.NaN),
    );
    const total = PER_NODE * nodes.length;
    const listStarted = performance.now();
    const listed = await waitFor(
      async () => {
        const tabs = await listing(nodes[0]?.server.url as string);
        return tabs.length >= total ? tabs : undefined;
      },
      LISTING_TIMEOUT_MS,
      `GET /api/workers to list ${total} tabs`,
    ).catch(async () => listing(nodes[0]?.server.url as string));
    const listingSeconds = (performance.now() - listStarted) / 1000;
    let dropped = 0;
    for (const child of clients) {
      const stopped = nextChildMessage<{ dropped: number }>(child, 'stopped', 120_000);
      child.send({ type: 'stop' });
      dropped += (await stopped).dropped;
    }
    return {
      connected,
      bytesPerTab: nodes.map((_, n) => ((after[n] as number) - (before[n] as number)) / PER_NODE),
      listed: listed.length,
      listedByNode: countByNode(listed),
      listingSeconds,
      dropped,
      retried: sum(ready.map((r) => r.retried)),
      connectSeconds,
      holdCores,
    };
  } finally {
    for (const child of clients) child.kill('SIGKILL');
  }
}

function countByNode(tabs: Array<{ node?: string }>): number[] {
  const counts = new Map<string | undefined, number>();
  for (const { node } of tabs) counts.set(node, (counts.get(node) ?? 0) + 1);
  return [...counts.values()];
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

export async function benchClusterTabs(): Promise<void> {
  const db = await startBenchPostgres();
  let single: Held;
  let cluster: Held;
  try {
    const one = await startNodes(db, 1);
    try {
      single = await hold(db, one, 40, 'single');
    } finally {
      for (const { cleanup } of one) cleanup();
    }
    const three = await startNodes(db, NODES);
    try {
      cluster = await hold(db, three, 50, 'cluster');
    } finally {
      for (const { cleanup } of three) cleanup();
    }
  } finally {
    await db.stop();
  }
  const held = Math.min(sum(cluster.connected), cluster.listed);
  const heldOne = Math.min(sum(single.connected), single.listed);
  report({
    bench: 'ctabs',
    metric: `tabs held across ${NODES} nodes`,
    value: held,
    baseline: heldOne,
    ratio: held / heldOne,
    unit: 'tabs',
    note: `registered simulated tabs from ${NODES * CLIENTS_PER_NODE} client processes on as many 127.0.0.x addresses, ${PER_NODE.toLocaleString('en')} per node, connected in ${cluster.connectSeconds.toFixed(0)} s (${cluster.retried} connection attempts retried); after ${HOLD_MS / 1000} s of heartbeats each node counted ${cluster.connected.join(' / ')}, ${cluster.dropped} dropped; GET /api/workers on one node listed ${cluster.listed} tabs, ${cluster.listedByNode.join(' / ')} by node (${cluster.listingSeconds.toFixed(1)} s); baseline: one node, same database, one node's share (${single.connected.join('')} counted, ${single.listed} listed, ${single.dropped} dropped); aim >= 50,000`,
  });
  const perTab = sum(cluster.bytesPerTab) / NODES;
  const perTabOne = single.bytesPerTab[0] as number;
  report({
    bench: 'ctabs',
    metric: `RSS per tab per node, ${NODES} nodes`,
    value: perTab / 1024,
    baseline: perTabOne / 1024,
    ratio: perTab / perTabOne,
    unit: 'KiB',
    note: `each node's RSS growth over its ${PER_NODE.toLocaleString('en')} tabs: ${cluster.bytesPerTab.map(kib).join(' / ')} KiB; while holding, the nodes kept ${cluster.holdCores.nodes.toFixed(2)} cores busy and PostgreSQL ${cluster.holdCores.database.toFixed(2)} (one node: ${single.holdCores.nodes.toFixed(2)} and ${single.holdCores.database.toFixed(2)}); baseline: the same count on one node alone`,
  });
}
