/**
 * @module `GET /api/jobs` paging: newest first, `limit` at a time; `before` is the last job id of
 * the previous page.
 */
import { z } from 'zod';
import { JobId } from './job.ts';

/** Most jobs one answer holds, and the default: what the list returned before it paged. */
export const MAX_JOBS_PER_PAGE = 1000;

export const JobListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_JOBS_PER_PAGE).default(MAX_JOBS_PER_PAGE),
  before: JobId.optional(),
});
export type JobListQuery = z.infer<typeof JobListQuery>;
