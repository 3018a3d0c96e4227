/**
 * Real Chromium tabs on two coordinator nodes sharing one PostgreSQL: when the node a tab loaded
 * its page from is killed, the tab moves to the other node (its welcome listed it) and the job
 * completes there with every result once.
 */
import { describe, expect, it } from 'vitest';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { useE2E } from '../support/e2e.ts';
import { usePostgres } from '../support/postgres.ts';
import { untilListed } from '../support/cluster-probes.ts';
import type { WorkerView } from '../../shared/workers.ts';
import {
  api,
  resultLines,
  waitFor,
  waitForJob,
  waitForJobSummary,
} from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, tab, submit, defer, staticDir } = useE2E();

/** Twenty milliseconds of work per item, so the job is still running when the node dies. */
const BUSY = `(x) => { const end = Date.now() + 20; while (Date.now() < end) {} return x * 5; }`;

describe('tabs on two nodes, one killed', () => {
  it('moves the killed node’s tab to the other node, where the job completes with every result once', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const timing = { nodeHeartbeatMs: 200, nodeSilentMs: 1_500 };
    const doomed = await startChildCoordinator({
      BROWSERGRID_DATABASE_URL: databaseUrl,
      BROWSERGRID_NODE_HEARTBEAT_MS: String(timing.nodeHeartbeatMs),
      BROWSERGRID_NODE_SILENT_MS: String(timing.nodeSilentMs),
      BROWSERGRID_STATIC_DIR: staticDir,
    });
    defer(async () => void (await doomed.stop()));
    const survivor = await coordinator({ config: { databaseUrl, ...timing } });
    // The page learns the nodes from its welcome: wait until the doomed node has seen the other.
    await untilListed(doomed, 2, 'the doomed node to list the survivor', 10_000);
    await tab(doomed);
    await tab(survivor);
    const job = await submit(survivor, {
      map: BUSY,
      inputs: { range: { start: 0, end: 300 } },
      chunkSize: 1,
    });
    await waitForJobSummary(
      survivor,
      job.id,
      (summary) => Number(summary['done']) >= 60,
      60_000,
      'a fifth of the job',
    );
    doomed.signal('SIGKILL');
    // The page moved: both tabs are now the survivor's (the dead node's list is gone with it).
    await waitFor(
      async () => {
        const { body } = await api<WorkerView[]>(survivor, 'GET', '/api/workers');
        return body.length === 2 && body[0]?.node === body[1]?.node ? true : undefined;
      },
      60_000,
      'both tabs on the survivor',
    );
    expect(await waitForJob(survivor, job.id, undefined, 60_000)).toMatchObject({
      status: 'completed',
      done: 300,
    });
    expect(await resultLines(survivor, job.id)).toEqual(
      Array.from({ length: 300 }, (_, index) => ({ index, output: index * 5 })),
    );
  });
});
