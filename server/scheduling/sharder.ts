/**
 * @module Sharding: a job's inputs cut into tasks of `chunkSize` items. Tasks are computed on
 * demand from their index (never materialized), so a job of millions of items costs nothing here.
 */
import type { ItemSpan } from '../store/input-source.ts';

/** A task's items: `start` is the index of its first item in the job's inputs. */
export type TaskSpan = ItemSpan;

export function countTasks(items: number, chunkSize: number): number {
  return Math.ceil(items / chunkSize);
}

export function taskSpan(items: number, chunkSize: number, taskIndex: number): TaskSpan {
  const start = taskIndex * chunkSize;
  return { start, count: Math.max(0, Math.min(chunkSize, items - start)) };
}
