/**
 * @module The cluster record in the PostgreSQL store, shared by every node on the database.
 *
 * - Heartbeats and the reaper compare times of the database's clock (`clock_timestamp()`), so
 *   nodes whose clocks disagree still agree on who is silent.
 * - Lock order is node row, then claim rows, then the job row, in every transaction here and in
 *   a fenced `apply`, so they never wait on each other in a circle. A claim or a fenced apply
 *   holds its node's row `FOR KEY SHARE`: a reaper (`FOR UPDATE`) never marks that node dead
 *   before it committed, and then releases every claim it made, so no claim is ever left held by
 *   a dead epoch. The node's own heartbeat (an update of a non-key column) does not wait on it:
 *   a commit stuck behind a frozen node's lock must not silence the node that made it.
 * - A reaper skips a silent node whose row is locked rather than wait: the node may be frozen
 *   mid-transaction, and waiting would stop the reaper's own heartbeat. The server ends such a
 *   session after the pool's idle-in-transaction limit (the silence limit, at least 3 s), and the next reap
 *   takes the node.
 * - Released ranges are taken `FOR UPDATE SKIP LOCKED`: two nodes never take the same one, and
 *   neither waits on the other.
 */
import type pg from 'pg';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import type { WorkerView } from '../../shared/workers.ts';
import type { ClaimedRange, ClusterStore, Fence } from './cluster.ts';
import {
  fenced,
  toForwardedResult,
  toNodeRecord,
  type ForwardRow,
  type NodeRow,
} from './cluster-rows.ts';
import { numberArray, textArray } from './pg-arrays.ts';
import { inTransaction } from './pg-connect.ts';
import type { StoreChange } from './store.ts';

/** The database's time now, in milliseconds. */
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/** Longest a reap waits on a lock other than a node row's (those it skips). */
const REAP_LOCK_TIMEOUT_MS = 1_000;

/**
 * Marks nodes dead, releases their claims and forgets their tabs; returns the epochs. With
 * `skipLocked`, a node whose row is locked (a transaction of its own is open) stays for later.
 */
async function bury(
  client: pg.PoolClient,
  stale: string,
  params: unknown[],
  skipLocked = false,
): Promise<number[]> {
  const { rows } = await client.query<{ epoch: number }>(
    `WITH stale AS (${stale} ORDER BY epoch FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''})
     UPDATE nodes n SET live = FALSE FROM stale WHERE n.epoch = stale.epoch RETURNING n.epoch`,
    params,
  );
  const epochs = rows.map((row) => row.epoch).sort((a, b) => a - b);
  if (epochs.length > 0) {
    await client.query('UPDATE claims SET epoch = NULL WHERE epoch = ANY($1::bigint[])', [epochs]);
    await client.query('DELETE FROM node_tabs WHERE epoch = ANY($1::bigint[])', [epochs]);
  }
  return epochs;
}

async function holdLiveNode(client: pg.PoolClient, epoch: number): Promise<void> {
  const { rowCount } = await client.query(
    'SELECT 1 FROM nodes WHERE epoch = $1 AND live FOR KEY SHARE',
    [epoch],
  );
  if (rowCount !== 1) throw fenced(epoch);
}

/**
 * Throws `fenced` unless the batch may be written under `fence`. Runs first in the batch's
 * transaction and keeps the node's row and its claims of the batch's jobs locked to the commit.
 */
export async function checkPgFence(
  client: pg.PoolClient,
  changes: readonly StoreChange[],
  fence: Fence,
): Promise<void> {
  await holdLiveNode(client, fence.epoch);
  const jobIds = [
    ...new Set(changes.flatMap((change) => (change.type === 'settle' ? [change.jobId] : []))),
  ];
  if (jobIds.length === 0) return;
  const { rows } = await client.query<{ job_id: string; start_task: number; end_task: number }>(
    `SELECT job_id, start_task, end_task FROM claims
     WHERE epoch = $1 AND job_id = ANY($2::text[]) ORDER BY job_id, start_task FOR SHARE`,
    [fence.epoch, jobIds],
  );
  for (const change of changes) {
    if (change.type !== 'settle') continue;
    const inside = rows.some(
      (row) =>
        row.job_id === change.jobId &&
        change.taskIndex >= row.start_task &&
        change.taskIndex < row.end_task,
    );
    if (!inside) throw fenced(fence.epoch, `${change.jobId}#${change.taskIndex}`);
  }
}

async function claim(
  client: pg.PoolClient,
  jobId: string,
  epoch: number,
  tasks: number,
): Promise<ClaimedRange[]> {
  await holdLiveNode(client, epoch);
  const open = await client.query(
    `SELECT 1 FROM jobs WHERE job_id = $1 AND status IN ('queued', 'running')`,
    [jobId],
  );
  if (open.rowCount !== 1 || tasks < 1) return [];
  const taken: ClaimedRange[] = [];
  for (let count = 0; count < tasks;) {
    const { rows } = await client.query<{ start_task: number; end_task: number }>(
      `UPDATE claims c SET epoch = $2
       FROM (SELECT job_id, start_task FROM claims WHERE job_id = $1 AND epoch IS NULL
             ORDER BY start_task LIMIT 1 FOR UPDATE SKIP LOCKED) picked
       WHERE c.job_id = picked.job_id AND c.start_task = picked.start_task
       RETURNING c.start_task, c.end_task`,
      [jobId, epoch],
    );
    const row = rows[0];
    if (!row) break;
    taken.push({ jobId, start: row.start_task, end: row.end_task });
    count += row.end_task - row.start_task;
  }
  if (taken.length > 0) return taken;
  const { rows } = await client.query<{ claimed_to: number; tasks: number }>(
    'SELECT claimed_to, tasks FROM jobs WHERE job_id = $1 FOR UPDATE',
    [jobId],
  );
  const job = rows[0];
  if (!job || job.claimed_to >= job.tasks) return [];
  const end = Math.min(job.tasks, job.claimed_to + tasks);
  await client.query('UPDATE jobs SET claimed_to = $2 WHERE job_id = $1', [jobId, end]);
  await client.query(
    'INSERT INTO claims (job_id, start_task, end_task, epoch) VALUES ($1, $2, $3, $4)',
    [jobId, job.claimed_to, end, epoch],
  );
  return [{ jobId, start: job.claimed_to, end }];
}

export function createPgCluster(pool: pg.Pool): ClusterStore {
  return {
    async joinCluster(node) {
      const { rows } = await pool.query<NodeRow>(
        `INSERT INTO nodes (node_id, url, started_at, heartbeat_at)
         VALUES ($1, $2, ${NOW_MS}, ${NOW_MS}) RETURNING *`,
        [node.nodeId, node.url ?? null],
      );
      return toNodeRecord(rows[0] as NodeRow);
    },
    async heartbeat(epoch) {
      const { rowCount } = await pool.query(
        `UPDATE nodes SET heartbeat_at = ${NOW_MS} WHERE epoch = $1 AND live`,
        [epoch],
      );
      return rowCount === 1;
    },
    async reapNodes(silentMs) {
      return inTransaction(pool, async (client) => {
        await client.query(`SET LOCAL lock_timeout = ${REAP_LOCK_TIMEOUT_MS}`);
        return bury(
          client,
          `SELECT epoch FROM nodes WHERE live AND heartbeat_at < ${NOW_MS} - $1`,
          [silentMs],
          true,
        );
      });
    },
    async leaveCluster(epoch) {
      await inTransaction(pool, (client) =>
        bury(client, 'SELECT epoch FROM nodes WHERE live AND epoch = $1', [epoch]),
      );
    },
    async announceUrl(epoch, url) {
      await pool.query('UPDATE nodes SET url = $1 WHERE epoch = $2 AND live', [url, epoch]);
    },
    async liveNodes() {
      const { rows } = await pool.query<NodeRow>('SELECT * FROM nodes WHERE live ORDER BY epoch');
      return rows.map(toNodeRecord);
    },
    async claimTasks(jobId, epoch, tasks) {
      return inTransaction(pool, (client) => claim(client, jobId, epoch, tasks));
    },
    async heldRanges(jobId, epoch) {
      const { rows } = await pool.query<{ start_task: number; end_task: number }>(
        'SELECT start_task, end_task FROM claims WHERE job_id = $1 AND epoch = $2 ORDER BY start_task',
        [jobId, epoch],
      );
      return rows.map((row) => ({ jobId, start: row.start_task, end: row.end_task }));
    },
    async rangeState({ jobId, start, end }) {
      const params = [jobId, start, end];
      const within = 'WHERE job_id = $1 AND task_index >= $2 AND task_index < $3';
      const [settled, attempts, checkpoints] = await Promise.all([
        pool.query<{ task_index: number }>(
          `SELECT task_index FROM results ${within} ORDER BY task_index`,
          params,
        ),
        pool.query<{ task_index: number; attempts: number; drops: number }>(
          `SELECT task_index, attempts, drops FROM task_attempts ${within} ORDER BY task_index`,
          params,
        ),
        pool.query<{ task_index: number; checkpoint: string }>(
          `SELECT task_index, checkpoint FROM checkpoints ${within} ORDER BY task_index`,
          params,
        ),
      ]);
      return {
        settled: settled.rows.map((row) => row.task_index),
        attempts: attempts.rows.map((row) => ({
          taskIndex: row.task_index,
          attempts: row.attempts,
          drops: row.drops,
        })),
        checkpoints: checkpoints.rows.map((row) => ({
          taskIndex: row.task_index,
          checkpoint: JSON.parse(row.checkpoint) as TaskCheckpoint,
        })),
      };
    },
    async releaseRange(range, epoch) {
      await pool.query(
        `UPDATE claims SET epoch = NULL
         WHERE job_id = $1 AND start_task = $2 AND end_task = $3 AND epoch = $4`,
        [range.jobId, range.start, range.end, epoch],
      );
    },
    async unsettledElsewhere(jobId, epoch, from, limit) {
      // One statement that stops at `limit`: ranges in task order, each walked from `from`.
      const { rows } = await pool.query<{ task_index: number }>(
        `SELECT t.i AS task_index
         FROM claims c
         JOIN nodes n ON n.epoch = c.epoch AND n.live
         CROSS JOIN LATERAL generate_series(GREATEST(c.start_task, $3), c.end_task - 1) AS t (i)
         WHERE c.job_id = $1 AND c.epoch <> $2 AND c.end_task > $3
           AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = $1 AND r.task_index = t.i)
           AND NOT EXISTS (
             SELECT 1 FROM forwarded_results f WHERE f.job_id = $1 AND f.task_index = t.i)
         ORDER BY c.start_task, t.i
         LIMIT $4`,
        [jobId, epoch, from, limit],
      );
      return rows.map((row) => row.task_index);
    },
    async closedAmong(jobId, taskIndexes) {
      if (taskIndexes.length === 0) return [];
      const { rows } = await pool.query<{ task_index: number }>(
        `SELECT task_index FROM results WHERE job_id = $1 AND task_index = ANY($2::int[])
         UNION SELECT task_index FROM forwarded_results
         WHERE job_id = $1 AND task_index = ANY($2::int[])
         ORDER BY task_index`,
        [jobId, numberArray(taskIndexes)],
      );
      return rows.map((row) => row.task_index);
    },
    async dropClaims(jobId) {
      await inTransaction(pool, async (client) => {
        await client.query('DELETE FROM claims WHERE job_id = $1', [jobId]);
        await client.query('DELETE FROM forwarded_results WHERE job_id = $1', [jobId]);
      });
    },
    async forwardResults(forwarded) {
      if (forwarded.length === 0) return;
      // One statement for the batch; '' stands for no address (never a real one).
      await pool.query(
        `INSERT INTO forwarded_results (job_id, task_index, volunteer_id, device_id, address, result)
         SELECT j, t, v, d, NULLIF(a, ''), r
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[])
           AS f (j, t, v, d, a, r)`,
        [
          textArray(forwarded.map((one) => one.jobId)),
          numberArray(forwarded.map((one) => one.taskIndex)),
          textArray(forwarded.map((one) => one.volunteerId)),
          textArray(forwarded.map((one) => one.deviceId)),
          textArray(forwarded.map((one) => one.address ?? '')),
          textArray(forwarded.map((one) => JSON.stringify(one.result))),
        ],
      );
    },
    async forwardedResults(epoch, limit, afterId = 0) {
      const { rows } = await pool.query<ForwardRow>(
        `SELECT f.* FROM claims c
         JOIN nodes n ON n.epoch = c.epoch AND n.live
         JOIN forwarded_results f
           ON f.job_id = c.job_id AND f.task_index >= c.start_task AND f.task_index < c.end_task
         WHERE c.epoch = $1 AND f.forward_id > $3 ORDER BY f.forward_id LIMIT $2`,
        [epoch, limit, afterId],
      );
      return rows.map(toForwardedResult);
    },
    async sharedSecret(name, fresh) {
      // A second node's insert waits on the first's key, then inserts nothing and reads its value.
      await pool.query(
        'INSERT INTO shared_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [name, fresh],
      );
      const { rows } = await pool.query<{ value: string }>(
        'SELECT value FROM shared_secrets WHERE name = $1',
        [name],
      );
      return (rows[0] as { value: string }).value;
    },
    async publishTabs(epoch, tabs) {
      await pool.query(
        `INSERT INTO node_tabs (epoch, tabs)
         SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM nodes WHERE epoch = $1 AND live)
         ON CONFLICT (epoch) DO UPDATE SET tabs = excluded.tabs`,
        [epoch, JSON.stringify(tabs)],
      );
    },
    async clusterTabs() {
      const { rows } = await pool.query<{ node_id: string; tabs: string }>(
        `SELECT n.node_id, t.tabs FROM node_tabs t JOIN nodes n ON n.epoch = t.epoch AND n.live
         ORDER BY n.epoch`,
      );
      return rows.flatMap((row) =>
        (JSON.parse(row.tabs) as WorkerView[]).map((tab) => ({ ...tab, node: row.node_id })),
      );
    },
  };
}
