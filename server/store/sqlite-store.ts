/**
 * @module The embedded default store: one SQLite file (better-sqlite3, WAL) under the data dir.
 * Every `apply` batch is one transaction. WAL with synchronous=NORMAL: a committed transaction
 * survives a killed process (kill -9), which is the fault model; an OS crash or power loss may
 * lose the last few batches, which the tabs then resend from IndexedDB or recompute. FULL would
 * add an fsync per group commit for that case only.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JobSpec, JobStatus } from '../../shared/job.ts';
import { CoordinatorError } from '../errors.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import { migrateSqlite, refuseNewerSqliteSchema } from './sqlite-migrate.ts';
import { createSqliteAdminState } from './sqlite-admin-state.ts';
import { createSqliteCluster } from './sqlite-cluster.ts';
import { createLocalEvents } from './local-events.ts';
import type { Fence } from './cluster.ts';
import { createSqliteStandings } from './sqlite-standing.ts';
import { createSqliteUploads } from './sqlite-uploads.ts';
import type {
  CopyRecord,
  JobStore,
  SettledTask,
  StoreChange,
  StoredJob,
  StoredTaskResult,
  TaskAttempts,
} from './store.ts';

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

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. The parent directory is created if missing. */
  filename: string;
}

export function createSqliteStore(options: SqliteStoreOptions): JobStore {
  if (options.filename !== ':memory:') {
    mkdirSync(path.dirname(options.filename), { recursive: true });
  }
  const db = new Database(options.filename);
  try {
    refuseNewerSqliteSchema(db, options.filename);
  } catch (error) {
    db.close();
    throw error;
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrateSqlite(db);

  const insertJob = db.prepare<
    [string, number, string, string, number, number, number, number | null]
  >(
    `INSERT INTO jobs (job_id, seq, spec, status, items, tasks, created_at, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const nextSeq = db.prepare<[], { seq: number }>(
    'SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM jobs',
  );
  const selectJob = db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE job_id = ?');
  const selectJobs = db.prepare<[number, number], JobRow>(
    'SELECT * FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?',
  );
  const selectUnfinished = db.prepare<[], JobRow>(
    `SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY seq`,
  );
  const insertResult = db.prepare<[string, number, string, string, number, number]>(
    `INSERT INTO results (job_id, task_index, status, items, attempts, settled_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const countSettled = db.prepare<[number, number, string]>(
    'UPDATE jobs SET done = done + ?, failed = failed + ? WHERE job_id = ?',
  );
  const deleteAttempts = db.prepare<[string, number]>(
    'DELETE FROM task_attempts WHERE job_id = ? AND task_index = ?',
  );
  const upsertAttempts = db.prepare<[string, number, number, number]>(
    `INSERT INTO task_attempts (job_id, task_index, attempts, drops) VALUES (?, ?, ?, ?)
     ON CONFLICT (job_id, task_index) DO UPDATE SET attempts = excluded.attempts, drops = excluded.drops`,
  );
  const setRunning = db.prepare<[number, string]>(
    `UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, ?)
     WHERE job_id = ? AND status = 'queued'`,
  );
  const setFinished = db.prepare<[string, number, string]>(
    `UPDATE jobs SET status = ?, finished_at = ? WHERE job_id = ? AND status IN ('queued', 'running')`,
  );
  const selectSettled = db.prepare<
    [string],
    { task_index: number; status: 'committed' | 'failed' }
  >('SELECT task_index, status FROM results WHERE job_id = ?');
  const selectAttempts = db.prepare<
    [string],
    { task_index: number; attempts: number; drops: number }
  >('SELECT task_index, attempts, drops FROM task_attempts WHERE job_id = ?');
  const selectResultsPage = db.prepare<
    [string, number, number],
    { task_index: number; items: string }
  >(
    `SELECT task_index, items FROM results WHERE job_id = ? AND task_index > ?
     ORDER BY task_index LIMIT ?`,
  );

  const selectFailed = db.prepare<[string, number], { task_index: number; items: string }>(
    `SELECT task_index, items FROM results WHERE job_id = ? AND status = 'failed'
     ORDER BY task_index LIMIT ?`,
  );

  const upsertCheckpoint = db.prepare<[string, number, string]>(
    `INSERT INTO checkpoints (job_id, task_index, checkpoint) VALUES (?, ?, ?)
     ON CONFLICT (job_id, task_index) DO UPDATE SET checkpoint = excluded.checkpoint`,
  );
  const deleteCheckpoint = db.prepare<[string, number]>(
    'DELETE FROM checkpoints WHERE job_id = ? AND task_index = ?',
  );
  const selectCheckpoints = db.prepare<[string], { task_index: number; checkpoint: string }>(
    'SELECT task_index, checkpoint FROM checkpoints WHERE job_id = ?',
  );
  const insertCopy = db.prepare<
    [
      string,
      number,
      string,
      string,
      string,
      number,
      number | null,
      number | null,
      number,
      string,
      number,
    ]
  >(
    `INSERT INTO copies (job_id, task_index, lease_id, volunteer_id, kind, dispatched_at, started_at,
       fraction, ended_at, end_reason, won)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const selectCopies = db.prepare<[string, number, number], CopyRow>(
    `SELECT * FROM copies WHERE job_id = ? AND task_index >= ? AND task_index < ?
     ORDER BY task_index, dispatched_at`,
  );

  const updateReduced = db.prepare<[string, string]>(
    'UPDATE jobs SET reduced = ? WHERE job_id = ?',
  );

  const deleteForward = db.prepare<[number]>('DELETE FROM forwarded_results WHERE forward_id = ?');
  const cluster = createSqliteCluster(db);
  const standings = createSqliteStandings(db);
  const events = createLocalEvents();

  const applyBatch = db.transaction((changes: readonly StoreChange[], fence?: Fence) => {
    if (fence) cluster.checkFence(changes, fence);
    // Job counters move once per job per batch, not once per task.
    const settled = new Map<string, { done: number; failed: number }>();
    for (const change of changes) {
      switch (change.type) {
        case 'settle': {
          const inserted = insertResult.run(
            change.jobId,
            change.taskIndex,
            change.status,
            JSON.stringify(change.items),
            change.attempts,
            change.at,
          );
          if (inserted.changes === 1) {
            let counts = settled.get(change.jobId);
            if (!counts) settled.set(change.jobId, (counts = { done: 0, failed: 0 }));
            if (change.status === 'committed') counts.done++;
            else counts.failed++;
            deleteAttempts.run(change.jobId, change.taskIndex);
            deleteCheckpoint.run(change.jobId, change.taskIndex);
          }
          break;
        }
        case 'checkpoint':
          upsertCheckpoint.run(change.jobId, change.taskIndex, JSON.stringify(change.checkpoint));
          break;
        case 'copy':
          insertCopy.run(
            change.jobId,
            change.taskIndex,
            change.leaseId,
            change.volunteerId,
            change.kind,
            change.dispatchedAt,
            change.startedAt ?? null,
            change.fraction ?? null,
            change.endedAt,
            change.end,
            change.won ? 1 : 0,
          );
          break;
        case 'attempt':
          upsertAttempts.run(change.jobId, change.taskIndex, change.attempts, change.drops);
          break;
        case 'job':
          if (change.status === 'running') setRunning.run(change.at, change.jobId);
          else if (change.status !== 'queued')
            setFinished.run(change.status, change.at, change.jobId);
          break;
        case 'forward-taken':
          deleteForward.run(change.forwardId);
          break;
        case 'standing':
          break;
      }
    }
    for (const [jobId, { done, failed }] of settled) countSettled.run(done, failed, jobId);
    standings.write(changes.filter((change) => change.type === 'standing'));
  });

  const createJob = db.transaction((job: Omit<StoredJob, 'seq' | 'done' | 'failed'>): StoredJob => {
    const seq = (nextSeq.get() as { seq: number }).seq;
    try {
      insertJob.run(
        job.jobId,
        seq,
        JSON.stringify(job.spec),
        job.status,
        job.items,
        job.tasks,
        job.createdAt,
        job.startedAt ?? null,
      );
    } catch (error) {
      throw new CoordinatorError('conflict', `[store]: job ${job.jobId} already exists`, {
        cause: error,
      });
    }
    return { ...job, seq, done: 0, failed: 0 };
  });

  return {
    ...createSqliteUploads(db),
    ...createSqliteAdminState(db),
    ...cluster.store,
    deviceStandings: standings.deviceStandings,
    recentStandings: standings.recentStandings,
    events,
    async createJob(job) {
      return createJob(job);
    },
    async apply(changes, fence) {
      // Immediate: a fenced batch reads the claims it then writes under, on one write lock.
      if (changes.length > 0) applyBatch.immediate(changes, fence);
    },
    async setReduced(jobId, outcome) {
      updateReduced.run(JSON.stringify(outcome), jobId);
    },
    async getJob(jobId) {
      const row = selectJob.get(jobId);
      return row && toStoredJob(row);
    },
    async listJobs({ limit = 1000, beforeSeq = Number.MAX_SAFE_INTEGER } = {}) {
      return selectJobs.all(beforeSeq, limit).map(toStoredJob);
    },
    async unfinishedJobs() {
      return selectUnfinished.all().map(toStoredJob);
    },
    async settledTasks(jobId): Promise<SettledTask[]> {
      return selectSettled
        .all(jobId)
        .map((row) => ({ taskIndex: row.task_index, status: row.status }));
    },
    async taskAttempts(jobId): Promise<TaskAttempts[]> {
      return selectAttempts
        .all(jobId)
        .map((row) => ({ taskIndex: row.task_index, attempts: row.attempts, drops: row.drops }));
    },
    async checkpoints(jobId) {
      return selectCheckpoints.all(jobId).map((row) => ({
        taskIndex: row.task_index,
        checkpoint: JSON.parse(row.checkpoint) as TaskCheckpoint,
      }));
    },
    async copies(jobId, { fromTask, tasks }) {
      return selectCopies.all(jobId, fromTask, fromTask + tasks).map(toCopyRecord);
    },
    async *results(jobId, fromTask = 0): AsyncIterable<StoredTaskResult> {
      let after = fromTask - 1;
      for (;;) {
        const page = selectResultsPage.all(jobId, after, RESULTS_PAGE_ROWS);
        for (const row of page) yield { taskIndex: row.task_index, items: JSON.parse(row.items) };
        if (page.length < RESULTS_PAGE_ROWS) return;
        after = (page[page.length - 1] as { task_index: number }).task_index;
      }
    },
    async failedTasks(jobId, limit) {
      return selectFailed
        .all(jobId, limit)
        .map((row) => ({ taskIndex: row.task_index, items: JSON.parse(row.items) }));
    },
    async close() {
      events.close();
      if (db.open) db.close();
    },
  };
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
  won: number;
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
    won: row.won === 1,
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
