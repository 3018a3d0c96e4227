/**
 * @module A job's task timeline: every copy of a range of tasks (dispatch, tab, start, progress,
 * end, and whether it won). Ended copies are read from the store after the group commit drains,
 * live ones from the scheduler, so a copy is shown once whichever side of its end it is on.
 */
import type { TaskTimeline } from '../../shared/timeline.ts';
import type { Scheduler } from '../scheduling/scheduler.ts';
import type { JobStore } from '../store/store.ts';
import type { EffectApplier } from './effects.ts';
import { copyView } from './summaries.ts';

export interface TimelineDeps {
  store: JobStore;
  scheduler: Scheduler;
  effects: EffectApplier;
  /** Throws `not_found` for a job that does not exist. */
  requireJob(jobId: string): Promise<unknown>;
}

export class Timeline {
  readonly #deps: TimelineDeps;

  constructor(deps: TimelineDeps) {
    this.#deps = deps;
  }

  /** The copies of tasks `[fromTask, fromTask + tasks)`, in task order. */
  async read(jobId: string, fromTask: number, tasks: number): Promise<TaskTimeline[]> {
    const { store, scheduler, effects, requireJob } = this.#deps;
    await requireJob(jobId);
    await effects.drain();
    const rows = new Map<number, TaskTimeline>();
    const row = (taskIndex: number): TaskTimeline => {
      let entry = rows.get(taskIndex);
      if (!entry) rows.set(taskIndex, (entry = { taskIndex, copies: [] }));
      return entry;
    };
    for (const copy of await store.copies(jobId, { fromTask, tasks })) {
      const { jobId: _job, taskIndex, ...rest } = copy;
      row(taskIndex).copies.push(rest);
    }
    for (const lease of scheduler.liveCopies(jobId)) {
      if (lease.taskIndex < fromTask || lease.taskIndex >= fromTask + tasks) continue;
      row(lease.taskIndex).copies.push({ ...copyView(lease), won: false });
    }
    return [...rows.values()].sort((a, b) => a.taskIndex - b.taskIndex);
  }
}
