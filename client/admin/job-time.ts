/** @module How the jobs list names a job and tells its times, in words a room can read. */
import type { JobSummary } from '../../shared/job.ts';
import { formatMs } from './timeline.ts';

/** The job's name; a job sent without one (e.g. from the CLI without `--name`) by its id's head. */
export function jobLabel(job: Pick<JobSummary, 'id' | 'name'>): string {
  return job.name ?? `Job ${job.id.slice(0, 8)}`;
}

/**
 * How long the job took, or has taken so far: "ran 1 min 4 s", "running for 12 s", "queued for
 * 3 s". Whole seconds past a minute; ms below a second.
 */
export function describeDuration(job: JobSummary, nowMs: number): string {
  const created = Date.parse(job.createdAt);
  const started = job.startedAt === undefined ? undefined : Date.parse(job.startedAt);
  const finished = job.finishedAt === undefined ? undefined : Date.parse(job.finishedAt);
  // Clocks of page and coordinator may differ: a span is never negative.
  const span = (from: number, to: number): string => formatMs(Math.max(0, to - from));
  switch (job.status) {
    case 'queued':
      return `queued for ${span(created, nowMs)}`;
    case 'running':
      return `running for ${span(started ?? created, nowMs)}`;
    case 'completed':
    case 'failed':
      return `took ${span(started ?? created, finished ?? nowMs)}`;
    case 'cancelled':
      return finished === undefined
        ? 'cancelled'
        : `cancelled after ${span(started ?? created, finished)}`;
  }
}

/** Drops a server module's `[tag]: ` prefixes, which mean nothing to a teacher. */
export function plainError(text: string): string {
  return text.replace(/\[[\w:-]+\]:\s*/g, '');
}
