/**
 * @module `JobStore.apply` on PostgreSQL: one batch, one transaction, a few set-based statements
 * rather than a round trip per change.
 *
 * Exactly-once rests on the results table's primary key: `INSERT … ON CONFLICT DO NOTHING
 * RETURNING` yields only the rows really inserted, and only those move the job's counters and
 * clear the task's attempts and checkpoint. Two nodes settling the same task at once both reach
 * the insert; the second waits on the first's key and then inserts nothing.
 *
 * Each change type is one statement with one parameter per column (pg-arrays.ts), and JSON
 * values (outcomes, checkpoints) travel as one JSON array whose elements PostgreSQL hands back
 * verbatim, so a batch costs the same few round trips and a little CPU per row on either side.
 * Rows name their job without a foreign key (migration 003): the jobs a batch names are looked
 * up once, and only the first time this store sees them, since jobs are never deleted.
 *
 * Order within a batch: attempts, checkpoints and copies are written first, then settles, then
 * job status changes in the order given. A settle therefore clears an attempt or checkpoint of the
 * same task even when it came first in the batch, where the SQLite store would leave that stale
 * row behind; nothing reads such a row for a settled task either way.
 */
import type pg from 'pg';
import { Dictionary, boolArray, numberArray, textArray } from './pg-arrays.ts';
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

/**
 * Writes one batch on `client`, inside the caller's transaction. `knownJobs` holds job ids
 * already seen in the store; ids of the batch not among them are looked up, and a batch naming a
 * job that does not exist fails whole.
 */
export async function applyPgChanges(
  client: pg.PoolClient,
  changes: readonly StoreChange[],
  knownJobs: Set<string>,
): Promise<void> {
  const settles: Change<'settle'>[] = [];
  const attempts: Change<'attempt'>[] = [];
  const checkpoints: Change<'checkpoint'>[] = [];
  const copies: Change<'copy'>[] = [];
  const jobs: Change<'job'>[] = [];
  const unknownJobs = new Set<string>();
  for (const change of changes) {
    if (change.type === 'job') {
      jobs.push(change);
      continue;
    }
    if (!knownJobs.has(change.jobId)) unknownJobs.add(change.jobId);
    if (change.type === 'settle') settles.push(change);
    else if (change.type === 'attempt') attempts.push(change);
    else if (change.type === 'checkpoint') checkpoints.push(change);
    else copies.push(change);
  }

  if (unknownJobs.size > 0) await requireJobs(client, [...unknownJobs], knownJobs);

  if (attempts.length > 0) {
    const rows = lastPerTask(attempts);
    const d = new Dictionary();
    await client.query(
      `INSERT INTO task_attempts (job_id, task_index, attempts, drops)
       SELECT d.v[s.job], s.task_index, s.attempts, s.drops
       FROM (SELECT $1::text[] AS v) d, unnest($2::int[], $3::int[], $4::int[], $5::int[])
         AS s (job, task_index, attempts, drops)
       ON CONFLICT (job_id, task_index)
       DO UPDATE SET attempts = excluded.attempts, drops = excluded.drops`,
      [
        d.values,
        numberArray(rows.map((row) => d.of(row.jobId))),
        numberArray(rows.map((row) => row.taskIndex)),
        numberArray(rows.map((row) => row.attempts)),
        numberArray(rows.map((row) => row.drops)),
      ],
    );
  }

  if (checkpoints.length > 0) {
    const rows = lastPerTask(checkpoints);
    const d = new Dictionary();
    await client.query(
      `INSERT INTO checkpoints (job_id, task_index, checkpoint)
       SELECT d.v[s.job], s.task_index, s.checkpoint::text
       FROM (SELECT $1::text[] AS v) d,
         ROWS FROM (unnest($2::int[], $3::int[]), json_array_elements($4::json))
         AS s (job, task_index, checkpoint)
       ON CONFLICT (job_id, task_index) DO UPDATE SET checkpoint = excluded.checkpoint`,
      [
        d.values,
        numberArray(rows.map((row) => d.of(row.jobId))),
        numberArray(rows.map((row) => row.taskIndex)),
        JSON.stringify(rows.map((row) => row.checkpoint)),
      ],
    );
  }

  if (copies.length > 0) {
    const rows = byTask([...copies]);
    const d = new Dictionary();
    await client.query(
      `INSERT INTO copies (job_id, task_index, lease_id, volunteer_id, kind, dispatched_at,
         started_at, fraction, ended_at, end_reason, won)
       SELECT d.v[s.job], s.task_index, s.lease_id, d.v[s.volunteer], d.v[s.kind],
         s.dispatched_at, s.started_at, s.fraction, s.ended_at, d.v[s.end_reason], s.won
       FROM (SELECT $1::text[] AS v) d,
         unnest($2::int[], $3::int[], $4::text[], $5::int[], $6::int[], $7::bigint[],
           $8::bigint[], $9::float8[], $10::bigint[], $11::int[], $12::bool[])
         AS s (job, task_index, lease_id, volunteer, kind, dispatched_at, started_at, fraction,
           ended_at, end_reason, won)
       ON CONFLICT DO NOTHING`,
      [
        d.values,
        numberArray(rows.map((row) => d.of(row.jobId))),
        numberArray(rows.map((row) => row.taskIndex)),
        textArray(rows.map((row) => row.leaseId)),
        numberArray(rows.map((row) => d.of(row.volunteerId))),
        numberArray(rows.map((row) => d.of(row.kind))),
        numberArray(rows.map((row) => row.dispatchedAt)),
        numberArray(rows.map((row) => row.startedAt ?? null)),
        numberArray(rows.map((row) => row.fraction ?? null)),
        numberArray(rows.map((row) => row.endedAt)),
        numberArray(rows.map((row) => d.of(row.end))),
        boolArray(rows.map((row) => row.won)),
      ],
    );
  }

  if (settles.length > 0) {
    // Stable sort: of two settles of one task in a batch, the first still wins, as on SQLite.
    const rows = byTask([...settles]);
    const d = new Dictionary();
    await client.query(
      `WITH inserted AS (
         INSERT INTO results (job_id, task_index, status, items, attempts, settled_at)
         SELECT d.v[s.job], s.task_index, d.v[s.status], s.items::text, s.attempts, s.settled_at
         FROM (SELECT $1::text[] AS v) d,
           ROWS FROM (unnest($2::int[], $3::int[], $4::int[]), json_array_elements($5::json),
             unnest($6::int[], $7::bigint[]))
           WITH ORDINALITY AS s (job, task_index, status, items, attempts, settled_at, ord)
         ORDER BY s.ord
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
        d.values,
        numberArray(rows.map((row) => d.of(row.jobId))),
        numberArray(rows.map((row) => row.taskIndex)),
        numberArray(rows.map((row) => d.of(row.status))),
        // Each element comes back as the very text JSON.stringify gave it alone: the store
        // keeps outcomes as written, like the SQLite store.
        JSON.stringify(rows.map((row) => row.items)),
        numberArray(rows.map((row) => row.attempts)),
        numberArray(rows.map((row) => row.at)),
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

/** Fails the batch if a job it names is not in the store; remembers those that are. */
async function requireJobs(
  client: pg.PoolClient,
  jobIds: string[],
  knownJobs: Set<string>,
): Promise<void> {
  const { rows } = await client.query<{ job_id: string }>(
    'SELECT job_id FROM jobs WHERE job_id = ANY($1::text[])',
    [jobIds],
  );
  for (const row of rows) knownJobs.add(row.job_id);
  const missing = jobIds.filter((jobId) => !knownJobs.has(jobId));
  if (missing.length > 0) {
    throw new Error(`[store]: a batch names job ${missing.join(', ')}, which is not in the store`);
  }
}
