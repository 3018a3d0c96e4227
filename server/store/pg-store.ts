/**
 * @module The PostgreSQL store, selected by BROWSERGRID_DATABASE_URL: the same contract as the
 * SQLite one on a `pg.Pool`, every `apply` batch one transaction. Nothing here assumes it is the
 * only process on the database: sequence numbers come from identity columns, exactly-once rests
 * on primary keys, and no state is cached between calls.
 */
import type { JobSpec, JobStatus } from '../../shared/job.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import { CoordinatorError } from '../errors.ts';
import { createRootLog, subsystem, type Log } from '../log.ts';
import { applyPgChanges } from './pg-apply.ts';
import { checkPgFence, createPgCluster } from './pg-cluster.ts';
import { createPgEvents, type PgEvents } from './pg-events.ts';
import { createPgAdminState } from './pg-admin-state.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  describePgTarget,
  openPgPool,
  type PgPoolOptions,
} from './pg-connect.ts';
import { migratePg } from './pg-migrate.ts';
import { createPgStandings } from './pg-standing.ts';
import { createPgUploads } from './pg-uploads.ts';
import type { CopyRecord, JobStore, StoredJob, StoredTaskResult } from './store.ts';

const RESULTS_PAGE_ROWS = 500;

interface JobRow {
  job_id: string;
  seq: number;
  spec: string;
  status: JobStatus;
  items: number;
  tasks: number;
  done: number;
  failed: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  reduced: string | null;
}

interface CopyRow {
  job_id: string;
  task_index: number;
  lease_id: string;
  volunteer_id: string;
  kind: CopyRecord['kind'];
  dispatched_at: number;
  started_at: number | null;
  fraction: number | null;
  ended_at: number;
  end_reason: CopyRecord['end'];
  won: boolean;
}

export interface PgStoreOptions extends PgPoolOptions {
  /** Where the cluster events' warnings go (dropped events, a lost connection). */
  log?: Log;
}

/**
 * Connects, migrates and returns the store. Fails with a `[store]:` message naming the server
 * and database (never the password) when PostgreSQL cannot be reached, or when its schema is
 * newer than this code.
 */
export async function createPgStore(options: PgStoreOptions): Promise<JobStore> {
  const pool = await openPgPool(options);
  const where = describePgTarget(options.connectionString);
  let events: PgEvents;
  try {
    await migratePg(pool, where);
    events = await createPgEvents({
      connectionString: options.connectionString,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      pool,
      log: subsystem(options.log ?? createRootLog(), 'cluster'),
    }).catch((error: unknown) => {
      throw new Error(`[store]: cannot listen for cluster events at ${where}: ${String(error)}`, {
        cause: error,
      });
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  let closed = false;
  /** Jobs known to exist (they are never deleted): a batch looks up only the others. */
  const knownJobs = new Set<string>();

  return {
    ...createPgUploads(pool),
    ...createPgAdminState(pool),
    ...createPgCluster(pool),
    ...createPgStandings(pool),
    events,
    async createJob(job) {
      const { rows } = await pool.query<{ seq: number }>(
        `INSERT INTO jobs (job_id, spec, status, items, tasks, created_at, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (job_id) DO NOTHING RETURNING seq`,
        [
          job.jobId,
          JSON.stringify(job.spec),
          job.status,
          job.items,
          job.tasks,
          job.createdAt,
          job.startedAt ?? null,
        ],
      );
      const seq = rows[0]?.seq;
      if (seq === undefined) {
        throw new CoordinatorError('conflict', `[store]: job ${job.jobId} already exists`);
      }
      knownJobs.add(job.jobId);
      return { ...job, seq, done: 0, failed: 0 };
    },
    async apply(changes, fence) {
      if (changes.length > 0) {
        await applyPgChanges(
          pool,
          changes,
          knownJobs,
          fence ? (client) => checkPgFence(client, changes, fence) : undefined,
        );
      }
    },
    async setReduced(jobId, outcome) {
      await pool.query('UPDATE jobs SET reduced = $1 WHERE job_id = $2', [
        JSON.stringify(outcome),
        jobId,
      ]);
    },
    async getJob(jobId) {
      const { rows } = await pool.query<JobRow>('SELECT * FROM jobs WHERE job_id = $1', [jobId]);
      return rows[0] && toStoredJob(rows[0]);
    },
    async listJobs({ limit = 1000, beforeSeq = Number.MAX_SAFE_INTEGER } = {}) {
      const { rows } = await pool.query<JobRow>(
        'SELECT * FROM jobs WHERE seq < $1 ORDER BY seq DESC LIMIT $2',
        [beforeSeq, limit],
      );
      return rows.map(toStoredJob);
    },
    async unfinishedJobs() {
      const { rows } = await pool.query<JobRow>(
        `SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY seq`,
      );
      return rows.map(toStoredJob);
    },
    async settledTasks(jobId) {
      const { rows } = await pool.query<{ task_index: number; status: 'committed' | 'failed' }>(
        'SELECT task_index, status FROM results WHERE job_id = $1',
        [jobId],
      );
      return rows.map((row) => ({ taskIndex: row.task_index, status: row.status }));
    },
    async taskAttempts(jobId) {
      const { rows } = await pool.query<{ task_index: number; attempts: number; drops: number }>(
        'SELECT task_index, attempts, drops FROM task_attempts WHERE job_id = $1',
        [jobId],
      );
      return rows.map((row) => ({
        taskIndex: row.task_index,
        attempts: row.attempts,
        drops: row.drops,
      }));
    },
    async checkpoints(jobId) {
      const { rows } = await pool.query<{ task_index: number; checkpoint: string }>(
        'SELECT task_index, checkpoint FROM checkpoints WHERE job_id = $1',
        [jobId],
      );
      return rows.map((row) => ({
        taskIndex: row.task_index,
        checkpoint: JSON.parse(row.checkpoint) as TaskCheckpoint,
      }));
    },
    async copies(jobId, { fromTask, tasks }) {
      const { rows } = await pool.query<CopyRow>(
        `SELECT * FROM copies WHERE job_id = $1 AND task_index >= $2 AND task_index < $3
         ORDER BY task_index, dispatched_at`,
        [jobId, fromTask, fromTask + tasks],
      );
      return rows.map(toCopyRecord);
    },
    async *results(jobId, fromTask = 0): AsyncIterable<StoredTaskResult> {
      // Keyset pages: each is one index range read after the last task index seen.
      let after = fromTask - 1;
      for (;;) {
        const { rows } = await pool.query<{ task_index: number; items: string }>(
          `SELECT task_index, items FROM results WHERE job_id = $1 AND task_index > $2
           ORDER BY task_index LIMIT $3`,
          [jobId, after, RESULTS_PAGE_ROWS],
        );
        for (const row of rows) yield { taskIndex: row.task_index, items: JSON.parse(row.items) };
        if (rows.length < RESULTS_PAGE_ROWS) return;
        after = (rows[rows.length - 1] as { task_index: number }).task_index;
      }
    },
    async failedTasks(jobId, limit) {
      const { rows } = await pool.query<{ task_index: number; items: string }>(
        `SELECT task_index, items FROM results WHERE job_id = $1 AND status = 'failed'
         ORDER BY task_index LIMIT $2`,
        [jobId, limit],
      );
      return rows.map((row) => ({ taskIndex: row.task_index, items: JSON.parse(row.items) }));
    },
    async close() {
      if (closed) return;
      closed = true;
      await events.close();
      await pool.end();
    },
  };
}

function toCopyRecord(row: CopyRow): CopyRecord {
  return {
    jobId: row.job_id,
    taskIndex: row.task_index,
    leaseId: row.lease_id,
    volunteerId: row.volunteer_id,
    kind: row.kind,
    dispatchedAt: row.dispatched_at,
    ...(row.started_at !== null ? { startedAt: row.started_at } : {}),
    ...(row.fraction !== null ? { fraction: row.fraction } : {}),
    endedAt: row.ended_at,
    end: row.end_reason,
    won: row.won,
  };
}

function toStoredJob(row: JobRow): StoredJob {
  return {
    jobId: row.job_id,
    seq: row.seq,
    spec: JSON.parse(row.spec) as JobSpec,
    status: row.status,
    items: row.items,
    tasks: row.tasks,
    done: row.done,
    failed: row.failed,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    ...(row.reduced !== null ? { reduced: JSON.parse(row.reduced) as StoredJob['reduced'] } : {}),
  };
}
