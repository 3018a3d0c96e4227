/**
 * @module The cluster record in the SQLite store. There is only ever one node on a SQLite file,
 * but it joins, claims and is fenced exactly as on PostgreSQL, so the engine has one code path.
 * Heartbeats use this process's clock: the one node agrees with itself. Each call is one
 * synchronous transaction, so no two calls of a process interleave.
 */
import type Database from 'better-sqlite3';
import type { TaskCheckpoint } from '../../shared/protocol.ts';
import type { WorkerView } from '../../shared/workers.ts';
import type { ClaimedRange, ClusterStore, Fence } from './cluster.ts';
import {
  fenced,
  openTasksIn,
  toForwardedResult,
  toNodeRecord,
  type ForwardRow,
  type NodeRow,
} from './cluster-rows.ts';
import type { StoreChange } from './store.ts';

export interface SqliteCluster {
  store: ClusterStore;
  /** Throws `fenced` unless the batch may be written under `fence`; call inside its transaction. */
  checkFence(changes: readonly StoreChange[], fence: Fence): void;
}

export function createSqliteCluster(db: Database.Database): SqliteCluster {
  const insertNode = db.prepare<[string, string | null, number, number], NodeRow>(
    `INSERT INTO nodes (node_id, url, started_at, heartbeat_at) VALUES (?, ?, ?, ?) RETURNING *`,
  );
  const isLive = db.prepare<[number], { live: number }>(
    'SELECT live FROM nodes WHERE epoch = ? AND live = 1',
  );
  const renew = db.prepare<[number, number]>(
    'UPDATE nodes SET heartbeat_at = ? WHERE epoch = ? AND live = 1',
  );
  const setUrl = db.prepare<[string, number]>(
    'UPDATE nodes SET url = ? WHERE epoch = ? AND live = 1',
  );
  const staleNodes = db.prepare<[number], { epoch: number }>(
    'SELECT epoch FROM nodes WHERE live = 1 AND heartbeat_at < ? ORDER BY epoch',
  );
  const markDead = db.prepare<[number]>('UPDATE nodes SET live = 0 WHERE epoch = ? AND live = 1');
  const releaseAll = db.prepare<[number]>('UPDATE claims SET epoch = NULL WHERE epoch = ?');
  const forgetTabs = db.prepare<[number]>('DELETE FROM node_tabs WHERE epoch = ?');
  const selectLive = db.prepare<[], NodeRow>('SELECT * FROM nodes WHERE live = 1 ORDER BY epoch');

  const selectReleased = db.prepare<[string], { start_task: number; end_task: number }>(
    `SELECT c.start_task, c.end_task FROM claims c JOIN jobs j ON j.job_id = c.job_id
     WHERE c.job_id = ? AND c.epoch IS NULL AND j.status IN ('queued', 'running')
     ORDER BY c.start_task`,
  );
  const takeReleased = db.prepare<[number, string, number]>(
    'UPDATE claims SET epoch = ? WHERE job_id = ? AND start_task = ? AND epoch IS NULL',
  );
  const selectFrontier = db.prepare<[string], { claimed_to: number; tasks: number }>(
    `SELECT claimed_to, tasks FROM jobs WHERE job_id = ? AND status IN ('queued', 'running')`,
  );
  const advanceFrontier = db.prepare<[number, string]>(
    'UPDATE jobs SET claimed_to = ? WHERE job_id = ?',
  );
  const insertClaim = db.prepare<[string, number, number, number]>(
    'INSERT INTO claims (job_id, start_task, end_task, epoch) VALUES (?, ?, ?, ?)',
  );
  const releaseOne = db.prepare<[string, number, number, number]>(
    `UPDATE claims SET epoch = NULL
     WHERE job_id = ? AND start_task = ? AND end_task = ? AND epoch = ?`,
  );
  const deleteClaims = db.prepare<[string]>('DELETE FROM claims WHERE job_id = ?');
  const selectHeld = db.prepare<[string, number], { start_task: number; end_task: number }>(
    'SELECT start_task, end_task FROM claims WHERE job_id = ? AND epoch = ? ORDER BY start_task',
  );
  const deleteJobForwards = db.prepare<[string]>('DELETE FROM forwarded_results WHERE job_id = ?');
  const heldRanges = db.prepare<[number, string], { start_task: number; end_task: number }>(
    'SELECT start_task, end_task FROM claims WHERE epoch = ? AND job_id = ?',
  );

  const claimsElsewhere = db.prepare<
    [string, number, number],
    { start_task: number; end_task: number }
  >(
    `SELECT c.start_task, c.end_task FROM claims c JOIN nodes n ON n.epoch = c.epoch AND n.live = 1
     WHERE c.job_id = ? AND c.epoch <> ? AND c.end_task > ? ORDER BY c.start_task`,
  );
  const closedIn = db.prepare<
    [string, number, number, string, number, number],
    { task_index: number }
  >(
    `SELECT task_index FROM results WHERE job_id = ? AND task_index >= ? AND task_index < ?
     UNION SELECT task_index FROM forwarded_results
     WHERE job_id = ? AND task_index >= ? AND task_index < ?
     ORDER BY task_index`,
  );
  const closedAmong = db.prepare<[string, string, string, string], { task_index: number }>(
    `SELECT task_index FROM results
     WHERE job_id = ? AND task_index IN (SELECT value FROM json_each(?))
     UNION SELECT task_index FROM forwarded_results
     WHERE job_id = ? AND task_index IN (SELECT value FROM json_each(?))
     ORDER BY task_index`,
  );
  const settledIn = db.prepare<[string, number, number], { task_index: number }>(
    `SELECT task_index FROM results WHERE job_id = ? AND task_index >= ? AND task_index < ?
     ORDER BY task_index`,
  );
  const attemptsIn = db.prepare<
    [string, number, number],
    { task_index: number; attempts: number; drops: number }
  >(
    `SELECT task_index, attempts, drops FROM task_attempts
     WHERE job_id = ? AND task_index >= ? AND task_index < ? ORDER BY task_index`,
  );
  const checkpointsIn = db.prepare<
    [string, number, number],
    { task_index: number; checkpoint: string }
  >(
    `SELECT task_index, checkpoint FROM checkpoints
     WHERE job_id = ? AND task_index >= ? AND task_index < ? ORDER BY task_index`,
  );

  const insertForward = db.prepare<[string, number, string, string, string | null, string]>(
    `INSERT INTO forwarded_results (job_id, task_index, volunteer_id, device_id, address, result)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const selectForwards = db.prepare<[number, number, number], ForwardRow>(
    `SELECT f.* FROM claims c
     JOIN nodes n ON n.epoch = c.epoch AND n.live = 1
     JOIN forwarded_results f
       ON f.job_id = c.job_id AND f.task_index >= c.start_task AND f.task_index < c.end_task
     WHERE c.epoch = ? AND f.forward_id > ? ORDER BY f.forward_id LIMIT ?`,
  );

  const insertSecret = db.prepare<[string, string]>(
    'INSERT INTO shared_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const selectSecret = db.prepare<[string], { value: string }>(
    'SELECT value FROM shared_secrets WHERE name = ?',
  );
  const upsertTabs = db.prepare<[number, string, number]>(
    `INSERT INTO node_tabs (epoch, tabs) SELECT ?, ? WHERE EXISTS
       (SELECT 1 FROM nodes WHERE epoch = ? AND live = 1)
     ON CONFLICT (epoch) DO UPDATE SET tabs = excluded.tabs`,
  );
  const selectTabs = db.prepare<[], { node_id: string; tabs: string }>(
    `SELECT n.node_id, t.tabs FROM node_tabs t JOIN nodes n ON n.epoch = t.epoch AND n.live = 1
     ORDER BY n.epoch`,
  );

  const bury = (epoch: number): void => {
    markDead.run(epoch);
    releaseAll.run(epoch);
    forgetTabs.run(epoch);
  };
  const reap = db.transaction((silentMs: number): number[] => {
    const epochs = staleNodes.all(Date.now() - silentMs).map((row) => row.epoch);
    for (const epoch of epochs) bury(epoch);
    return epochs;
  });
  const leave = db.transaction((epoch: number) => {
    if (isLive.get(epoch)) bury(epoch);
  });

  const claim = db.transaction((jobId: string, epoch: number, tasks: number): ClaimedRange[] => {
    if (!isLive.get(epoch)) throw fenced(epoch);
    const taken: ClaimedRange[] = [];
    let count = 0;
    for (const row of selectReleased.all(jobId)) {
      if (count >= tasks) break;
      takeReleased.run(epoch, jobId, row.start_task);
      taken.push({ jobId, start: row.start_task, end: row.end_task });
      count += row.end_task - row.start_task;
    }
    if (taken.length > 0) return taken;
    const job = selectFrontier.get(jobId);
    if (!job || job.claimed_to >= job.tasks || tasks < 1) return [];
    const end = Math.min(job.tasks, job.claimed_to + tasks);
    advanceFrontier.run(end, jobId);
    insertClaim.run(jobId, job.claimed_to, end, epoch);
    return [{ jobId, start: job.claimed_to, end }];
  });

  const checkFence = (changes: readonly StoreChange[], fence: Fence): void => {
    if (!isLive.get(fence.epoch)) throw fenced(fence.epoch);
    const held = new Map<string, Array<{ start_task: number; end_task: number }>>();
    for (const change of changes) {
      if (change.type !== 'settle') continue;
      let ranges = held.get(change.jobId);
      if (!ranges) held.set(change.jobId, (ranges = heldRanges.all(fence.epoch, change.jobId)));
      const inside = ranges.some(
        (range) => change.taskIndex >= range.start_task && change.taskIndex < range.end_task,
      );
      if (!inside) throw fenced(fence.epoch, `${change.jobId}#${change.taskIndex}`);
    }
  };

  const store: ClusterStore = {
    async joinCluster(node) {
      const now = Date.now();
      return toNodeRecord(insertNode.get(node.nodeId, node.url ?? null, now, now) as NodeRow);
    },
    async heartbeat(epoch) {
      return renew.run(Date.now(), epoch).changes === 1;
    },
    async reapNodes(silentMs) {
      return reap(silentMs);
    },
    async announceUrl(epoch, url) {
      setUrl.run(url, epoch);
    },
    async leaveCluster(epoch) {
      leave(epoch);
    },
    async liveNodes() {
      return selectLive.all().map(toNodeRecord);
    },
    async claimTasks(jobId, epoch, tasks) {
      return claim.immediate(jobId, epoch, tasks);
    },
    async heldRanges(jobId, epoch) {
      return selectHeld
        .all(jobId, epoch)
        .map((row) => ({ jobId, start: row.start_task, end: row.end_task }));
    },
    async rangeState({ jobId, start, end }) {
      return {
        settled: settledIn.all(jobId, start, end).map((row) => row.task_index),
        attempts: attemptsIn.all(jobId, start, end).map((row) => ({
          taskIndex: row.task_index,
          attempts: row.attempts,
          drops: row.drops,
        })),
        checkpoints: checkpointsIn.all(jobId, start, end).map((row) => ({
          taskIndex: row.task_index,
          checkpoint: JSON.parse(row.checkpoint) as TaskCheckpoint,
        })),
      };
    },
    async releaseRange(range, epoch) {
      releaseOne.run(range.jobId, range.start, range.end, epoch);
    },
    async unsettledElsewhere(jobId, epoch, from, limit) {
      return db.transaction(() => {
        const open: number[] = [];
        for (const range of claimsElsewhere.all(jobId, epoch, from)) {
          if (open.length >= limit) break;
          const start = Math.max(range.start_task, from);
          const closed = closedIn
            .all(jobId, start, range.end_task, jobId, start, range.end_task)
            .map((row) => row.task_index);
          openTasksIn(start, range.end_task, closed, open, limit);
        }
        return open;
      })();
    },
    async closedAmong(jobId, taskIndexes) {
      if (taskIndexes.length === 0) return [];
      const list = JSON.stringify(taskIndexes);
      return closedAmong.all(jobId, list, jobId, list).map((row) => row.task_index);
    },
    async dropClaims(jobId) {
      db.transaction(() => {
        deleteClaims.run(jobId);
        deleteJobForwards.run(jobId);
      })();
    },
    async forwardResults(forwarded) {
      db.transaction(() => {
        for (const one of forwarded) {
          insertForward.run(
            one.jobId,
            one.taskIndex,
            one.volunteerId,
            one.deviceId,
            one.address ?? null,
            JSON.stringify(one.result),
          );
        }
      })();
    },
    async forwardedResults(epoch, limit, afterId = 0) {
      return selectForwards.all(epoch, afterId, limit).map(toForwardedResult);
    },
    async sharedSecret(name, fresh) {
      insertSecret.run(name, fresh);
      return (selectSecret.get(name) as { value: string }).value;
    },
    async publishTabs(epoch, tabs) {
      upsertTabs.run(epoch, JSON.stringify(tabs), epoch);
    },
    async clusterTabs() {
      return selectTabs
        .all()
        .flatMap((row) =>
          (JSON.parse(row.tabs) as WorkerView[]).map((tab) => ({ ...tab, node: row.node_id })),
        );
    },
  };
  return { store, checkFence };
}
