/**
 * @module Store changes as tests write them by hand: a task committed with its index as output.
 */
import type { StoreChange } from '../../server/store/store.ts';

/** Task `taskIndex` of `jobId` committed at `at`, its one item's output its index. */
export function committed(jobId: string, taskIndex: number, at = 10): StoreChange {
  return {
    type: 'settle',
    jobId,
    taskIndex,
    status: 'committed',
    items: [{ output: taskIndex }],
    attempts: 1,
    at,
  };
}
