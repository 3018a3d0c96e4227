/**
 * @module Sharding: a job's inputs cut into tasks of `chunkSize` items. Tasks are computed on
 * demand from their index (never materialized), so a job of millions of items costs nothing here.
 */
import type { JobInputs } from '../../shared/job.ts';
import { rangeLength } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';

export interface TaskSpan {
  /** Index of the task's first item in the job's inputs. */
  start: number;
  count: number;
}

export function countItems(inputs: JobInputs): number {
  return Array.isArray(inputs) ? inputs.length : rangeLength(inputs.range);
}

export function countTasks(items: number, chunkSize: number): number {
  return Math.ceil(items / chunkSize);
}

export function taskSpan(items: number, chunkSize: number, taskIndex: number): TaskSpan {
  const start = taskIndex * chunkSize;
  return { start, count: Math.max(0, Math.min(chunkSize, items - start)) };
}

/** The input values of the items `[start, start + count)`. */
export function sliceInputs(inputs: JobInputs, span: TaskSpan): JsonValue[] {
  if (Array.isArray(inputs)) return inputs.slice(span.start, span.start + span.count);
  const { start, step } = inputs.range;
  const values: number[] = new Array<number>(span.count);
  for (let i = 0; i < span.count; i++) values[i] = start + (span.start + i) * step;
  return values;
}
