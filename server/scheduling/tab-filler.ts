/**
 * @module Topping a tab up: how many tasks it should hold (prefetch and fair share), which ones
 * (fill.ts), and the lease each copy gets. The scheduler calls it whenever a tab may have room.
 */
import { copyKind, type CopyBook } from './copy-book.ts';
import { mayTake, type SpreadView } from './device-spread.ts';
import type { Effect, PlannedTask } from './effects.ts';
import { fairShare, fillTab, hasRoom } from './fill.ts';
import type { JobBook } from './job-book.ts';
import type { Jury } from './jury.ts';
import { targetOutstanding } from './prefetch.ts';
import type { SchedulerOptions } from './options.ts';
import { taskSpan } from './sharder.ts';
import type { JobEntry, TaskEntry, VolunteerEntry } from './state.ts';
import type { TabRoster } from './tab-roster.ts';

export interface TabFillerDeps {
  options: SchedulerOptions;
  jobs: JobBook;
  tabs: TabRoster;
  jury: Jury;
  book: CopyBook;
  spread: SpreadView;
}

export class TabFiller {
  readonly #deps: TabFillerDeps;

  constructor(deps: TabFillerDeps) {
    this.#deps = deps;
  }

  /** Tops a tab up to its target in one dispatch effect (see fill.ts for the choice of tasks). */
  fill(volunteer: VolunteerEntry, now: number, effects: Effect[]): void {
    const target = Math.min(
      targetOutstanding(volunteer.slots, volunteer.ewmaTaskMs, this.#deps.options.prefetch),
      fairShare(volunteer, this.#deps.jobs.ordered, this.#deps.tabs.totalSlots),
    );
    const free = target - volunteer.leases.size;
    if (free <= 0) {
      this.#deps.tabs.setHungry(volunteer.volunteerId, false);
      return;
    }
    const { maxHeldBytes } = this.#deps.options.prefetch;
    const { jobs, tasks, left } = fillTab(volunteer, free, {
      ordered: this.#deps.jobs.ordered,
      tierCursor: this.#deps.jobs.tierCursor,
      eligible: (job, task) => mayTake(job, task, volunteer, this.#deps.spread),
      hasRoom: (job) => hasRoom(volunteer, job, maxHeldBytes),
      lease: (job, taskIndex) => this.#lease(job, taskIndex, volunteer, now, effects),
    });
    this.#deps.tabs.setHungry(volunteer.volunteerId, left > 0);
    if (tasks.length > 0)
      effects.push({ type: 'dispatch', volunteerId: volunteer.volunteerId, jobs, tasks });
  }

  #lease(
    job: JobEntry,
    taskIndex: number,
    volunteer: VolunteerEntry,
    now: number,
    effects: Effect[],
  ): PlannedTask {
    const task = job.tasks.at(taskIndex) as TaskEntry;
    const kind = copyKind(job, task);
    if (task.copies === 0 && job.spec.adaptiveTrust && job.spec.redundancy > 1) {
      task.quorum = this.#deps.jury.quorumFor(
        volunteer.deviceId,
        job.spec.redundancy,
        this.#deps.options.random,
      );
      if (task.quorum < job.spec.redundancy) task.quorumDevice = volunteer.deviceId;
    }
    const lease = this.#deps.book.issue(job, taskIndex, volunteer, kind, now);
    if (job.status === 'queued') this.#deps.jobs.setStatus(job, 'running', now, effects);
    const span = taskSpan(job.items, job.spec.chunkSize, taskIndex);
    return {
      leaseId: lease.leaseId,
      jobId: job.jobId,
      taskIndex,
      span,
      source: job.inputs,
      ...(task.checkpoint ? { checkpoint: task.checkpoint } : {}),
    };
  }
}
