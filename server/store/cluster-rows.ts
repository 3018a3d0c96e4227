/**
 * @module What both backends' cluster code shares: rows as they come from the database, turned
 * into the contract's records, and the `fenced` refusal.
 */
import type { TaskResult } from '../../shared/protocol.ts';
import { CoordinatorError } from '../errors.ts';
import type { ForwardedResult, NodeRecord } from './cluster.ts';

export interface NodeRow {
  epoch: number;
  node_id: string;
  url: string | null;
  started_at: number;
  heartbeat_at: number;
}

export interface ForwardRow {
  forward_id: number;
  job_id: string;
  task_index: number;
  volunteer_id: string;
  device_id: string;
  address: string | null;
  result: string;
}

export function fenced(epoch: number, task?: string): CoordinatorError {
  return new CoordinatorError(
    'fenced',
    task === undefined
      ? `[store]: node epoch ${epoch} is no longer live; it may not claim or commit`
      : `[store]: task ${task} is not claimed by node epoch ${epoch}; nothing of the batch was written`,
  );
}

export function toNodeRecord(row: NodeRow): NodeRecord {
  return {
    nodeId: row.node_id,
    epoch: row.epoch,
    ...(row.url !== null ? { url: row.url } : {}),
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
  };
}

export function toForwardedResult(row: ForwardRow): ForwardedResult {
  return {
    forwardId: row.forward_id,
    jobId: row.job_id,
    taskIndex: row.task_index,
    volunteerId: row.volunteer_id,
    deviceId: row.device_id,
    ...(row.address !== null ? { address: row.address } : {}),
    result: JSON.parse(row.result) as TaskResult,
  };
}

/**
 * Open tasks of `[start, end)` given the settled or forwarded ones in it (ascending, repeats
 * allowed), appended to `into` until it holds `limit`.
 */
export function openTasksIn(
  start: number,
  end: number,
  closedInOrder: readonly number[],
  into: number[],
  limit: number,
): void {
  let next = 0;
  for (let taskIndex = start; taskIndex < end && into.length < limit; taskIndex++) {
    while (next < closedInOrder.length && (closedInOrder[next] as number) < taskIndex) next++;
    if (closedInOrder[next] !== taskIndex) into.push(taskIndex);
  }
}
