/**
 * @module Topping a tab up: which tasks it gets, and from which jobs. Highest priority first;
 * within a priority, round robin across jobs, so grids' jobs and the public pool's share the
 * coordinator fairly; within the tab's byte budget; with each job's code the first time the tab
 * sees the job. Pure: the scheduler supplies its state and the leasing.
 */
import type { JobCode } from '../../shared/protocol.ts';
import { mapKindOf } from '../jobs/map-source.ts';
import type { PlannedTask } from './effects.ts';
import { needsCopy, queueLength, requeue, retryLength, takeTask } from './job-queue.ts';
import type { JobEntry, TaskEntry, VolunteerEntry } from './state.ts';

export interface FillSource {
  /** Active jobs, highest priority first, then by submission. */
  ordered: readonly JobEntry[];
  /** Round-robin cursor into each priority tier, by priority; moved here. */
  tierCursor: Map<number, number>;
  /** Whether a copy of this task may go to the tab (redundancy needs distinct devices). */
  eligible(job: JobEntry, task: TaskEntry): boolean;
  /** Whether one more task of this job fits what the tab may hold. */
  hasRoom(job: JobEntry): boolean;
  /** Leases the task to the tab. */
  lease(job: JobEntry, taskIndex: number): PlannedTask;
}

export interface Fill {
  /** Code of jobs new to the tab. */
  jobs: JobCode[];
  tasks: PlannedTask[];
  /** Room left because no eligible work was found (the tab is hungry). */
  left: number;
}

/** Takes up to `free` tasks for `volunteer` from `source`. */
export function fillTab(volunteer: VolunteerEntry, free: number, source: FillSource): Fill {
  const { ordered, tierCursor } = source;
  const jobs: JobCode[] = [];
  const tasks: PlannedTask[] = [];
  let index = 0;
  while (free > 0 && index < ordered.length) {
    const priority = (ordered[index] as JobEntry).spec.priority;
    let end = index;
    while (end < ordered.length && (ordered[end] as JobEntry).spec.priority === priority) end++;
    const tier = ordered
      .slice(index, end)
      .filter((job) => job.status !== 'cancelled' && job.spec.grid === volunteer.grid);
    let cursor = tierCursor.get(priority) ?? 0;
    let idle = 0;
    while (free > 0 && tier.length > 0 && idle < tier.length) {
      const job = tier[cursor % tier.length] as JobEntry;
      cursor = (cursor + 1) % tier.length;
      // Too big for what the tab may still hold: other jobs' smaller tasks may fit.
      if (!source.hasRoom(job)) {
        idle++;
        continue;
      }
      const taskIndex = takeTask(job, (task) => source.eligible(job, task));
      if (taskIndex === undefined) {
        idle++;
        continue;
      }
      idle = 0;
      if (!volunteer.knownJobs.has(job.jobId)) {
        volunteer.knownJobs.add(job.jobId);
        jobs.push(jobCode(job));
      }
      tasks.push(source.lease(job, taskIndex));
      // With redundancy a task stays queued until enough copies run on distinct devices.
      if (needsCopy(job, job.tasks.at(taskIndex) as TaskEntry)) requeue(job, taskIndex, true);
      free--;
    }
    tierCursor.set(priority, cursor);
    index = end;
  }
  return { jobs, tasks, left: free };
}

/**
 * The most a tab should hold given the work left: its share, by slots, of the tasks still
 * waiting plus those it holds. Without this a fast first tab takes seconds of work while the
 * others start, and the job's tail waits on it. Never less than one task per slot. O(jobs).
 */
export function fairShare(
  volunteer: VolunteerEntry,
  ordered: readonly JobEntry[],
  totalSlots: number,
): number {
  if (volunteer.slots === 0 || totalSlots <= 0) return volunteer.slots;
  let waiting = 0;
  for (const job of ordered) {
    if (job.spec.grid !== volunteer.grid) continue;
    waiting += queueLength(job) + retryLength(job);
  }
  const share = Math.ceil(((waiting + volunteer.leases.size) * volunteer.slots) / totalSlots);
  return Math.max(volunteer.slots, share);
}

/** Whether a task of `job` fits the tab's byte budget; one per Web Worker always does. */
export function hasRoom(volunteer: VolunteerEntry, job: JobEntry, maxHeldBytes: number): boolean {
  if (volunteer.leases.size < volunteer.slots) return true;
  return volunteer.heldBytes + taskBytes(job) <= maxHeldBytes;
}

/** Estimated JSON bytes of one task's inputs. */
export function taskBytes(job: JobEntry): number {
  return job.spec.chunkSize * job.inputs.itemBytes;
}

function jobCode(job: JobEntry): JobCode {
  const { spec } = job;
  return {
    jobId: job.jobId,
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.submittedBy !== undefined ? { submittedBy: spec.submittedBy } : {}),
    map: spec.map,
    mapKind: mapKindOf(spec),
    timeoutMs: spec.timeoutMs,
  };
}
