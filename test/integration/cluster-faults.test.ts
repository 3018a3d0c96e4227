/**
 * A node lost costs time only: a coordinator frozen mid-job (SIGSTOP) is declared dead by the
 * others, who run its tasks; woken, it commits nothing stale and exits.
 */
import { describe, expect, it } from 'vitest';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { within } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit, defer } = useHarness();

const HEARTBEAT_MS = 200;
const SILENT_MS = 1_500;

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
