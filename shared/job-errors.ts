/**
 * @module `GET /api/jobs/:id/errors`: the first errors of a job's failed tasks, bounded in count
 * and length, so a page can show why a job failed without downloading its results.
 */
import { z } from 'zod';
import { JobId } from './job.ts';

/** Most error lines one answer holds. */
export const MAX_JOB_ERRORS = 20;
/** Longest error text sent; longer ones are cut and end in `…`. */
export const MAX_JOB_ERROR_CHARS = 500;

export const JobErrorsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_JOB_ERRORS).default(5),
});
export type JobErrorsQuery = z.infer<typeof JobErrorsQuery>;

/** One input item that ended as an error: its index in the inputs, and why. */
export const JobErrorLine = z.object({
  taskIndex: z.number().int().min(0),
  index: z.number().int().min(0),
  error: z.string().max(MAX_JOB_ERROR_CHARS),
});
export type JobErrorLine = z.infer<typeof JobErrorLine>;

export const JobErrors = z.object({
  jobId: JobId,
  /** Failed tasks in the whole job (the lines cover the first of them only). */
  failedTasks: z.number().int().min(0),
  /** In input order, at most `limit`. */
  errors: z.array(JobErrorLine).max(MAX_JOB_ERRORS),
});
export type JobErrors = z.infer<typeof JobErrors>;

/** Cuts an error text to `MAX_JOB_ERROR_CHARS`. */
export function clipError(text: string): string {
  return text.length <= MAX_JOB_ERROR_CHARS ? text : `${text.slice(0, MAX_JOB_ERROR_CHARS - 1)}…`;
}
