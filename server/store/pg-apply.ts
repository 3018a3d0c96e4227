/**
 * @module `JobStore.apply` on PostgreSQL: one batch, one transaction, a few set-based statements
 * rather than a round trip per change.
 *
 * Exactly-once rests on the results table's primary key: `INSERT … ON CONFLICT DO NOTHING
 * RETURNING` yields only the rows really inserted, and only those move the job's counters and
 * clear the task's attempts and checkpoint. Two nodes settling the same task at once both reach
 * the insert; the second waits on the first's key and then inserts nothing.
 *
 * Order within a batch: taken forwards are deleted, attempts, checkpoints and copies written, then settles, then
 * job status changes in the order given. A settle therefore clears an attempt or checkpoint of the
 * same task even when it came first in the batch, where the SQLite store would leave that stale
 * row behind; nothing reads such a row for a settled task either way.
 */
import type pg from 'pg';
import type { StoreChange } from './store.ts';

type Change<T extends StoreChange['type']> = Extract<StoreChange, { type: T }>;

const taskKey = (jobId: string, taskIndex: number): string => `${taskIndex}\u0000${jobId}`;

/** Rows in key order, so concurrent batches take row locks in one order and never deadlock. */
function byTask<T extends { jobId: string; taskIndex: number }>(rows: T[]): T[] {
  return rows.sort((a, b) =>
    a.jobId === b.jobId ? a.taskIndex - b.taskIndex : a.jobId < b.jobId ? -1 : 1,
  );
}

/** The last change per task: one statement may not update a row twice. */
function lastPerTask<T extends { jobId: string; taskIndex: number }>(rows: T[]): T[] {
  const last = new Map<string, T>();
  for (const row of rows) last.set(taskKey(row.jobId, row.taskIndex), row);
  return byTask([...last.values()]);
}

export async function applyPgChanges(
  client: pg.PoolClient,
  changes: readonly StoreChange[],
): Promise<void> {
  const settles: Change<'settle'>[] = [];
  const attempts: Change<'attempt'>[] = [];
  const checkpoints: Change<'checkpoint'>[] = [];
  const copies: Change<'copy'>[] = [];
  const jobs: Change<'job'>[] = [];
  const forwardsTaken: number[] = [];
  for (const change of changes) {
    if (change.type === 'settle') settles.push(change);
    else if (change.type === 'attempt') attempts.push(change);
    else if (change.type === 'checkpoint') checkpoints.push(change);
    else if (change.type === 'copy') copies.push(change);
    else if (change.type === 'forward-taken') forwardsTaken.push(change.forwardId);
    else jobs.push(change);
  }

  if (forwardsTaken.length > 0) {
    await client.query('DELETE FROM forwarded_results WHERE forward_id = ANY($1::bigint[])', [
      forwardsTaken,
    ]);
  }

  if (attempts.length > 0) {
    const rows = lastPerTask(attempts);
    await client.query(
      `INSERT INTO task_attempts (job_id, task_index, attempts, drops)
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[])
       ON CONFLICT (job_id, task_index)
       DO UPDATE SET attempts = excluded.attempts, drops = excluded.drops`,
      [
        rows.map((row) => row.jobId),
        rows.map((row) => row.taskIndex),
        rows.map((row) => row.attempts),
        rows.map((row) => row.drops),
      ],
    );
  }

  if (checkpoints.length > 0) {
    const rows = lastPerTask(checkpoints);
    await client.query(
      `INSERT INTO checkpoints (job_id, task_index, checkpoint)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[])
       ON CONFLICT (job_id, task_index) DO UPDATE SET checkpoint = excluded.checkpoint`,
      [
        rows.map((row) => row.jobId),
        rows.map((row) => row.taskIndex),
        rows.map((row) => JSON.stringify(row.checkpoint)),
      ],
    );
  }

  if (copies.length > 0) {
    const rows = byTask([...copies]);
    await client.query(
      `INSERT INTO copies (job_id, task_index, lease_id, volunteer_id, kind, dispatched_at,
         started_at, fraction, ended_at, end_reason, won)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[],
         $6::bigint[], $7::bigint[], $8::float8[], $9::bigint[], $10::text[], $11::bool[])
       ON CONFLICT DO NOTHING`,
      [
        rows.map((row) => row.jobId),
        rows.map((row) => row.taskIndex),
        rows.map((row) => row.leaseId),
        rows.map((row) => row.volunteerId),
        rows.map((row) => row.kind),
        rows.map((row) => row.dispatchedAt),
        rows.map((row) => row.startedAt ?? null),
        rows.map((row) => row.fraction ?? null),
        rows.map((row) => row.endedAt),
        rows.map((row) => row.end),
        rows.map((row) => row.won),
      ],
    );
  }

  if (settles.length > 0) {
    // Stable sort: of two settles of one task in a batch, the first still wins, as on SQLite.
    const rows = byTask([...settles]);
    await client.query(
      `WITH inserted AS (
         INSERT INTO results (job_id, task_index, status, items, attempts, settled_at)
         SELECT job_id, task_index, status, items, attempts, settled_at
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::bigint[])
           WITH ORDINALITY AS s (job_id, task_index, status, items, attempts, settled_at, ord)
         ORDER BY ord
         ON CONFLICT DO NOTHING
         RETURNING job_id, task_index, status
       ), cleared_attempts AS (
         DELETE FROM task_attempts t USING inserted i
         WHERE t.job_id = i.job_id AND t.task_index = i.task_index
       ), cleared_checkpoints AS (
         DELETE FROM checkpoints t USING inserted i
         WHERE t.job_id = i.job_id AND t.task_index = i.task_index
       )
       UPDATE jobs j SET done = j.done + c.done, failed = j.failed + c.failed
       FROM (
         SELECT job_id,
           COUNT(*) FILTER (WHERE status = 'committed') AS done,
           COUNT(*) FILTER (WHERE status = 'failed') AS failed
         FROM inserted GROUP BY job_id
       ) c
       WHERE j.job_id = c.job_id`,
      [
        rows.map((row) => row.jobId),
        rows.map((row) => row.taskIndex),
        rows.map((row) => row.status),
        rows.map((row) => JSON.stringify(row.items)),
        rows.map((row) => row.attempts),
        rows.map((row) => row.at),
      ],
    );
  }

  for (const change of jobs) {
    if (change.status === 'running') {
      await client.query(
        `UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, $1)
         WHERE job_id = $2 AND status = 'queued'`,
        [change.at, change.jobId],
      );
    } else if (change.status !== 'queued') {
      await client.query(
        `UPDATE jobs SET status = $1, finished_at = $2
         WHERE job_id = $3 AND status IN ('queued', 'running')`,
        [change.status, change.at, change.jobId],
      );
    }
  }
}
