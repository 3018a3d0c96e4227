/**
 * @module `JobStore.apply` on PostgreSQL: a batch of settles, copies, attempts and checkpoints is
 * one statement, so one round trip and its own transaction; only a batch that changes a job's
 * status, names a job this store has not seen yet, or moves a device's standing, takes an
 * explicit transaction around it.
 * A round trip costs a turn of the coordinator's event loop, which right after a commit is busy
 * handing out the work the commit released: with BEGIN first, PostgreSQL sat idle through that
 * turn before it saw any rows.
 *
 * Exactly-once rests on the results table's primary key: `INSERT … ON CONFLICT DO NOTHING
 * RETURNING` yields only the rows really inserted, and only those move the job's counters and
 * clear the task's attempts and checkpoint. Two nodes settling the same task at once both reach
 * the insert; the second waits on the first's key and then inserts nothing.
 *
 * Each column is one parameter (pg-arrays.ts), and JSON values (outcomes, checkpoints) travel
 * as one JSON array whose elements PostgreSQL hands back verbatim, so a row costs a little CPU
 * on either side and nothing more in round trips.
 * Rows name their job without a foreign key (migration 003): the jobs a batch names are looked
 * up once, and only the first time this store sees them, since jobs are never deleted.
 *
 * Order within a batch: the parts of one statement all see the database as it was before it, so
 * a task settled by the batch has its stored attempts and checkpoint deleted and its attempts and
 * checkpoint from the same batch not written: as if settles came after the rest, then job status
 * changes in the order given. A settle thus clears an attempt or checkpoint of the same task even
 * when it came first in the batch, where the SQLite store would leave that stale row behind;
 * nothing reads such a row for a settled task either way. No row is touched twice: deletes take
 * settled tasks, upserts the others. Forwarded results a batch took (`forward-taken`) are deleted
 * in its transaction; a fenced batch (a node's group commit) always takes the transaction path.
 * Devices' standings (`standing`, pg-standing.ts) move in the same transaction, after the rest.
 */
import type pg from 'pg';
import { inTransaction, withRetries } from './pg-connect.ts';
import { Dictionary, boolArray, msArray, numberArray, textArray } from './pg-arrays.ts';
import { writePgStandings } from './pg-standing.ts';
import type { StandingChange } from './standing.ts';
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
 * Everything but job status changes, in one statement. Every part takes its rows in task order,
 * so concurrent batches lock rows in one order and never deadlock.
 */
const APPLY_SQL = `WITH d AS (SELECT $1::text[] AS v),
inserted AS (
  INSERT INTO results (job_id, task_index, status, items, attempts, settled_at)
  SELECT d.v[s.job], s.task_index, d.v[s.status], s.items::text, s.attempts, s.settled_at
  FROM d, ROWS FROM (unnest($2::int[], $3::int[], $4::int[]), json_array_elements($5::json),
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
), saved_attempts AS (
  INSERT INTO task_attempts (job_id, task_index, attempts, drops)
  SELECT d.v[s.job], s.task_index, s.attempts, s.drops
  FROM d, unnest($8::int[], $9::int[], $10::int[], $11::int[]) AS s (job, task_index, attempts, drops)
  WHERE NOT EXISTS (
    SELECT 1 FROM inserted i WHERE i.job_id = d.v[s.job] AND i.task_index = s.task_index)
  ON CONFLICT (job_id, task_index)
  DO UPDATE SET attempts = excluded.attempts, drops = excluded.drops
), saved_checkpoints AS (
  INSERT INTO checkpoints (job_id, task_index, checkpoint)
  SELECT d.v[s.job], s.task_index, s.checkpoint::text
  FROM d, ROWS FROM (unnest($12::int[], $13::int[]), json_array_elements($14::json))
    AS s (job, task_index, checkpoint)
  WHERE NOT EXISTS (
    SELECT 1 FROM inserted i WHERE i.job_id = d.v[s.job] AND i.task_index = s.task_index)
  ON CONFLICT (job_id, task_index) DO UPDATE SET checkpoint = excluded.checkpoint
), saved_copies AS (
  INSERT INTO copies (job_id, task_index, lease_id, volunteer_id, kind, dispatched_at,
    started_at, fraction, ended_at, end_reason, won)
  SELECT d.v[s.job], s.task_index, s.lease_id, d.v[s.volunteer], d.v[s.kind], s.dispatched_at,
    s.started_at, s.fraction, s.ended_at, d.v[s.end_reason], s.won
  FROM d, unnest($15::int[], $16::int[], $17::text[], $18::int[], $19::int[], $20::bigint[],
      $21::bigint[], $22::float8[], $23::bigint[], $24::int[], $25::bool[])
    AS s (job, task_index, lease_id, volunteer, kind, dispatched_at, started_at, fraction,
      ended_at, end_reason, won)
  ON CONFLICT DO NOTHING
)
UPDATE jobs j SET done = j.done + c.done, failed = j.failed + c.failed
FROM (
  SELECT job_id,
    COUNT(*) FILTER (WHERE status = 'committed') AS done,
    COUNT(*) FILTER (WHERE status = 'failed') AS failed
  FROM inserted GROUP BY job_id
) c
WHERE j.job_id = c.job_id`;

/** A batch sorted out: the one statement's parameters, the job changes, jobs to look up. */
interface Plan {
  values: unknown[] | undefined;
  jobs: Change<'job'>[];
  unknownJobs: string[];
  /** Forwarded results acted on (`forward-taken`): deleted in the same transaction. */
  forwardsTaken: number[];
  standings: StandingChange[];
}

function plan(changes: readonly StoreChange[], knownJobs: ReadonlySet<string>): Plan {
  const settles: Change<'settle'>[] = [];
  const attempts: Change<'attempt'>[] = [];
  const checkpoints: Change<'checkpoint'>[] = [];
  const copies: Change<'copy'>[] = [];
  const jobs: Change<'job'>[] = [];
  const unknownJobs = new Set<string>();
  const forwardsTaken: number[] = [];
  const standings: StandingChange[] = [];
  for (const change of changes) {
    if (change.type === 'standing') {
      standings.push(change);
      continue;
    }
    if (change.type === 'job') {
      jobs.push(change);
      continue;
    }
    if (change.type === 'forward-taken') {
      forwardsTaken.push(change.forwardId);
      continue;
    }
    if (!knownJobs.has(change.jobId)) unknownJobs.add(change.jobId);
    if (change.type === 'settle') settles.push(change);
    else if (change.type === 'attempt') attempts.push(change);
    else if (change.type === 'checkpoint') checkpoints.push(change);
    else copies.push(change);
  }
  if (settles.length + attempts.length + checkpoints.length + copies.length === 0) {
    return { values: undefined, jobs, unknownJobs: [...unknownJobs], forwardsTaken, standings };
  }
  // Stable sort: of two settles of one task in a batch, the first still wins, as on SQLite.
  const settled = byTask(settles);
  const attempted = lastPerTask(attempts);
  const saved = lastPerTask(checkpoints);
  const ended = byTask(copies);
  const d = new Dictionary();
  const values = [
    d.values,
    numberArray(settled.map((row) => d.of(row.jobId))),
    numberArray(settled.map((row) => row.taskIndex)),
    numberArray(settled.map((row) => d.of(row.status))),
    // Each element comes back as the very text JSON.stringify gave it alone: the store keeps
    // outcomes as written, like the SQLite store.
    JSON.stringify(settled.map((row) => row.items)),
    numberArray(settled.map((row) => row.attempts)),
    msArray(settled.map((row) => row.at)),
    numberArray(attempted.map((row) => d.of(row.jobId))),
    numberArray(attempted.map((row) => row.taskIndex)),
    numberArray(attempted.map((row) => row.attempts)),
    numberArray(attempted.map((row) => row.drops)),
    numberArray(saved.map((row) => d.of(row.jobId))),
    numberArray(saved.map((row) => row.taskIndex)),
    JSON.stringify(saved.map((row) => row.checkpoint)),
    numberArray(ended.map((row) => d.of(row.jobId))),
    numberArray(ended.map((row) => row.taskIndex)),
    textArray(ended.map((row) => row.leaseId)),
    numberArray(ended.map((row) => d.of(row.volunteerId))),
    numberArray(ended.map((row) => d.of(row.kind))),
    msArray(ended.map((row) => row.dispatchedAt)),
    msArray(ended.map((row) => row.startedAt ?? null)),
    numberArray(ended.map((row) => row.fraction ?? null)),
    msArray(ended.map((row) => row.endedAt)),
    numberArray(ended.map((row) => d.of(row.end))),
    boolArray(ended.map((row) => row.won)),
  ];
  return { values, jobs, unknownJobs: [...unknownJobs], forwardsTaken, standings };
}

/**
 * Writes one batch atomically. `knownJobs` holds job ids already seen in the store; ids of the
 * batch not among them are looked up, and a batch naming a job that does not exist fails whole.
 * `fence`, if given, runs first in the batch's transaction and throws to refuse it whole.
 */
export async function applyPgChanges(
  pool: pg.Pool,
  changes: readonly StoreChange[],
  knownJobs: Set<string>,
  fence?: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  const { values, jobs, unknownJobs, forwardsTaken, standings } = plan(changes, knownJobs);
  const simple =
    fence === undefined &&
    jobs.length === 0 &&
    unknownJobs.length === 0 &&
    forwardsTaken.length === 0 &&
    standings.length === 0;
  if (simple) {
    if (values) await withRetries(() => pool.query(APPLY_SQL, values));
    return;
  }
  await inTransaction(pool, async (client) => {
    if (fence) await fence(client);
    if (unknownJobs.length > 0) await requireJobs(client, unknownJobs, knownJobs);
    if (forwardsTaken.length > 0) {
      await client.query('DELETE FROM forwarded_results WHERE forward_id = ANY($1::bigint[])', [
        forwardsTaken,
      ]);
    }
    if (values) await client.query(APPLY_SQL, values);
    await writePgStandings(client, standings);
    await applyJobChanges(client, jobs);
  });
}

async function applyJobChanges(client: pg.PoolClient, jobs: Change<'job'>[]): Promise<void> {
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
