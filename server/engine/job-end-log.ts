/**
 * @module The log line of a job's end (completed, failed or cancelled), written once its last
 * change is durable: what an operator reads to learn that a job is over and how it went. On
 * PostgreSQL every node that ran part of a shared job writes it.
 */
import type { JobSummary } from '../../shared/job.ts';
import type { Log } from '../log.ts';

export function logJobEnd(log: Log, summary: JobSummary): void {
  const { id: jobId, name, status, items, tasks, done, failed, grid } = summary;
  const createdMs = Date.parse(summary.createdAt);
  const durationMs = summary.finishedAt ? Date.parse(summary.finishedAt) - createdMs : undefined;
  const fields = { jobId, name, status, items, tasks, done, failed, durationMs, grid };
  const took = durationMs === undefined ? '' : ` in ${(durationMs / 1000).toFixed(1)} s`;
  const line = `[engine]: job ${jobId} ${status}${took}: ${done}/${tasks} tasks done, ${failed} failed`;
  // A failed job is something to look at; a completed or cancelled one is news.
  if (status === 'failed') log.warn(fields, line);
  else log.info(fields, line);
}
