/**
 * @module The messages between the volunteer page and a task-runner Web Worker (over the
 * MessageChannel the sandbox frame hands the worker). Job code runs in that worker, so the page
 * treats everything the worker sends as untrusted: plain data, checked against `RunnerMessage`,
 * and only about the batch the worker is running (see client/volunteer/runner-channel.ts).
 *
 * page -> worker  RunBatch                       compile the job if `source` is given, run the tasks
 * worker -> page  progress | checkpoint          while a task runs (named by its key)
 * worker -> page  results | failed               once per batch, ending it
 */
import { z } from 'zod';
import { ItemOutcome, JobId } from './job.ts';
import { JsonValue } from './json.ts';
import { LeaseId, MapKind, TaskCheckpoint } from './protocol.ts';

/** Unique per worker; every answer names it. */
const BatchId = z.number().int().min(0);

/** One task of a batch; `key` is the task's lease id. */
export const RunnerTask = z.strictObject({
  key: LeaseId,
  inputs: z.array(JsonValue),
  checkpoint: TaskCheckpoint.optional(),
});
export type RunnerTask = z.infer<typeof RunnerTask>;

/** The page's one request: run these tasks of one job, in order. */
export const RunBatch = z.strictObject({
  type: z.literal('run'),
  batchId: BatchId,
  jobId: JobId,
  mapKind: MapKind,
  /** The job's code, sent with the worker's first batch of that job only. */
  source: z.string().optional(),
  tasks: z.array(RunnerTask),
});
export type RunBatch = z.infer<typeof RunBatch>;

export const RunnerProgress = z.strictObject({
  type: z.literal('progress'),
  batchId: BatchId,
  key: LeaseId,
  fraction: z.number().min(0).max(1),
});

export const RunnerCheckpoint = z.strictObject({
  type: z.literal('checkpoint'),
  batchId: BatchId,
  key: LeaseId,
  checkpoint: TaskCheckpoint,
});

/** One outcome list per task of the batch, in the batch's order. */
export const RunnerResults = z.strictObject({
  type: z.literal('results'),
  batchId: BatchId,
  outcomes: z.array(z.array(ItemOutcome)),
});

/** The batch produced nothing usable: the job did not compile, or the runner failed. */
export const RunnerFailed = z.strictObject({
  type: z.literal('failed'),
  batchId: BatchId,
  message: z.string().max(4096),
});

export const RunnerMessage = z.discriminatedUnion('type', [
  RunnerProgress,
  RunnerCheckpoint,
  RunnerResults,
  RunnerFailed,
]);
export type RunnerMessage = z.infer<typeof RunnerMessage>;

/** What a task error says when a worker sent something the page did not ask for. */
export const TAMPERED_MESSAGE =
  "[runner]: job code tampered with the runner's channel; its worker was stopped";
