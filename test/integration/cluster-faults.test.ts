/**
 * A node lost costs time only: a coordinator frozen mid-job (SIGSTOP) is declared dead by the
 * others, who run its tasks; woken, it commits nothing stale and exits. A killed node's tabs move
 * to the live nodes and deliver what they computed there.
 */
import { describe, expect, it } from 'vitest';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { untilListed } from '../support/cluster-probes.ts';
import { within } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { SimTab } from '../support/sim-tab.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit, defer } = useHarness();

const HEARTBEAT_MS = 200;
const SILENT_MS = 1_500;
/**
 * The survivor runs inside the test process, beside the tabs: on a loaded machine its own
 * heartbeats can lapse past a short limit, and the others would declare it dead.
 */
const THREE_NODE_SILENT_MS = 4_000;

describe('a node lost mid-job', () => {
  it('has its tasks run by another node; woken, it commits nothing stale and exits', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const frozen = await startChildCoordinator({
      BROWSERGRID_DATABASE_URL: databaseUrl,
      BROWSERGRID_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      BROWSERGRID_NODE_SILENT_MS: String(SILENT_MS),
    });
    defer(async () => void (await frozen.stop()));
    const live = await coordinator({
      config: { databaseUrl, nodeHeartbeatMs: HEARTBEAT_MS, nodeSilentMs: SILENT_MS },
    });
    // Slow tasks, so the frozen node's tab holds copies it cannot report in time.
    const onFrozen = await volunteer(frozen, { slots: 4, taskMs: 1_000 });
    const job = await submit(live, {
      map: '(x) => x + 1',
      inputs: { range: { start: 0, end: 60 } },
      chunkSize: 1,
    });
    await onFrozen.until(() => onFrozen.stats.received >= 4, 10_000, 'the tab to hold tasks');
    frozen.signal('SIGSTOP');

    const onLive = await volunteer(live, { slots: 4, taskMs: 5 });
    expect(await waitForJob(live, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 60,
    });
    expect(onLive.stats.acked).toBeGreaterThan(0);

    frozen.signal('SIGCONT');
    expect(await within(frozen.exited, 15_000, 'the woken node to exit')).toMatch(/code 1/);
    expect(frozen.output()).toMatch(/declared this node dead|declared dead/);
    // What the woken node's tab finished went nowhere: each result is there once, from the live node.
    expect(await resultLines(live, job.id)).toEqual(
      Array.from({ length: 60 }, (_, index) => ({ index, output: index + 1 })),
    );
  });
});

describe('three nodes, one killed and one frozen mid-job', () => {
  it('finishes a job submitted on one node with the tabs of the others moving to it, every result once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const env = {
      BROWSERGRID_DATABASE_URL: databaseUrl,
      BROWSERGRID_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      BROWSERGRID_NODE_SILENT_MS: String(THREE_NODE_SILENT_MS),
      // Tabs of the frozen node learn it within a second and move on.
      BROWSERGRID_PING_INTERVAL_MS: '500',
      BROWSERGRID_PING_TIMEOUT_MS: '500',
    };
    const killed = await startChildCoordinator(env);
    defer(async () => void (await killed.stop()));
    const frozen = await startChildCoordinator(env);
    defer(async () => void (await frozen.stop()));
    const survivor = await coordinator({
      config: { databaseUrl, nodeHeartbeatMs: HEARTBEAT_MS, nodeSilentMs: THREE_NODE_SILENT_MS },
    });
    const following = {
      slots: 2,
      taskMs: 25,
      resend: { ackTimeoutMs: 2_000 },
      reconnect: { minMs: 50, maxMs: 150 },
      followNodes: true,
    };
    // Tabs only on the two nodes that will be lost; each welcome lists all three nodes.
    for (const node of [killed, frozen]) await untilListed(node, 3, 'a node to list all three');
    const tabs: SimTab[] = [];
    for (const node of [killed, frozen, killed, frozen])
      tabs.push(await volunteer(node, following));
    const job = await submit(survivor, {
      map: '(x) => x * 2',
      inputs: { range: { start: 0, end: 400 } },
      chunkSize: 1,
    });
    const acked = (): number => tabs.reduce((sum, tab) => sum + tab.stats.acked, 0);
    await SimTab.until(tabs, () => acked() >= 100, 20_000, 'a quarter of the job');
    killed.signal('SIGKILL');
    await SimTab.until(tabs, () => acked() >= 200, 20_000, 'half of the job');
    frozen.signal('SIGSTOP');

    expect(await waitForJob(survivor, job.id, undefined, 90_000)).toMatchObject({
      status: 'completed',
      done: 400,
    });
    // Every tab ends on the one node left (a frozen node's tabs notice at their next ping).
    await SimTab.until(
      tabs,
      () => tabs.every((tab) => tab.url === survivor.url && tab.registered),
      20_000,
      'every tab on the node left',
    );
    frozen.signal('SIGCONT');
    expect(await within(frozen.exited, 15_000, 'the woken node to exit')).toMatch(/code 1/);
    expect(await resultLines(survivor, job.id)).toEqual(
      Array.from({ length: 400 }, (_, index) => ({ index, output: index * 2 })),
    );
  }, 180_000);
});
