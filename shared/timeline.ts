/**
 * @module The task timeline (`GET /api/jobs/:id/tasks`): every copy of a task, from dispatch to
 * its end. The scheduler stamps each copy's kind and end, the store keeps ended copies, and the
 * admin page draws them, so the shapes live here, on neither side.
 */
import { z } from 'zod';
import { JobId } from './job.ts';
import { LeaseId, TabId } from './protocol.ts';

/**
 * Why a copy was made: the task's first, a re-run after a failed or lost one, a speculative
 * backup beside a live copy, or one of `redundancy` replicas.
 */
export const CopyKind = z.enum(['first', 'retry', 'backup', 'replica']);
export type CopyKind = z.infer<typeof CopyKind>;

/** Why a copy of a task stopped, recorded on its lease and in the task timeline. */
export const CopyEnd = z.enum([
  'result',
  'error',
  'expired',
  'dropped',
  'cancelled',
  'superseded',
  'released',
]);
export type CopyEnd = z.infer<typeof CopyEnd>;

/** One copy of a task; no `end` (nor `endedAt`) means it is still running. */
export const TimelineCopy = z.object({
  leaseId: LeaseId,
  volunteerId: TabId,
  kind: CopyKind,
  dispatchedAt: z.number(),
  /** When the copy started running in its tab (its first progress report). */
  startedAt: z.number().optional(),
  /** Last fraction the map reported. */
  fraction: z.number().min(0).max(1).optional(),
  endedAt: z.number().optional(),
  end: CopyEnd.optional(),
  /** Its result is the one that committed. */
  won: z.boolean(),
});
export type TimelineCopy = z.infer<typeof TimelineCopy>;

/** A task's row: its copies, ended ones (from the store) then live ones (from memory). */
export const TaskTimeline = z.object({
  taskIndex: z.number().int().min(0),
  copies: z.array(TimelineCopy),
});
export type TaskTimeline = z.infer<typeof TaskTimeline>;

/** `GET /api/jobs/:id/tasks`: every copy of tasks `[from, from + limit)`. */
export const TaskTimelinePage = z.object({
  jobId: JobId,
  /** The job's task count, so a view can say when it shows only part of the job. */
  tasks: z.number().int().min(0),
  from: z.number().int().min(0),
  limit: z.number().int().min(0),
  /** Only tasks that have had a copy; in task order. */
  timeline: z.array(TaskTimeline),
});
export type TaskTimelinePage = z.infer<typeof TaskTimelinePage>;
