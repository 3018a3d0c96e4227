/**
 * @module What goes to each tab, in order. The scheduler plans assignments as spans; here their
 * items are read from their source (memory, or the store for an upload) before the assignment
 * is sent. A message for the same tab that comes after it (a cancel, the next assignment) waits
 * behind it, so a tab never hears of a lease's cancel before the lease itself.
 */
import type { Assignment, CancelBatch, JobCode } from '../../shared/protocol.ts';
import { throttledWarn, WARN_EVERY_MS, type Log } from '../log.ts';
import type { PlannedTask } from '../scheduling/scheduler.ts';
import type { TabRegistry } from './tab-registry.ts';

export class TabOutbox {
  readonly #tabs: TabRegistry;
  readonly #warn: (fields: Record<string, unknown>, message: string) => void;
  /** The last send still waiting on a read, per tab; absent when nothing is pending. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves when new work may go out; undefined when it may at once (see EffectApplier). */
  readonly #gate: () => Promise<void> | undefined;

  constructor(
    tabs: TabRegistry,
    log: Log,
    gate: () => Promise<void> | undefined = () => undefined,
  ) {
    this.#tabs = tabs;
    this.#warn = throttledWarn(log, WARN_EVERY_MS, 'times');
    this.#gate = gate;
  }

  /**
   * Reads the tasks' items and sends the batch. Reads start at once, in parallel; the send waits
   * for them, for anything queued before it, and for the gate (the store keeping up). A task whose read fails is not sent: its copy
   * expires at its deadline and runs elsewhere, which paces retries while the store is away.
   */
  assign(volunteerId: string, jobs: JobCode[], tasks: readonly PlannedTask[]): void {
    const reads = Promise.allSettled(tasks.map(readAssignment));
    this.#after(volunteerId, async () => {
      await this.#gate();
      const sent: Assignment[] = [];
      for (const [index, read] of (await reads).entries()) {
        if (read.status === 'fulfilled') sent.push(read.value);
        else this.#readFailed(tasks[index] as PlannedTask, read.reason);
      }
      this.#tabs.link(volunteerId)?.assign({ jobs, tasks: sent });
    });
  }

  cancel(volunteerId: string, batch: CancelBatch): void {
    this.#after(volunteerId, () => this.#tabs.link(volunteerId)?.cancel(batch));
  }

  /** Resolves when everything queued so far has been sent (or found its tab gone). */
  async flush(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  #after(volunteerId: string, send: () => void | Promise<void>): void {
    const tail = this.#tails.get(volunteerId);
    if (tail === undefined) {
      const sending = send();
      if (sending instanceof Promise) this.#track(volunteerId, sending);
      return;
    }
    this.#track(
      volunteerId,
      tail.then(() => send()),
    );
  }

  #track(volunteerId: string, sending: Promise<void>): void {
    const tail = sending.catch((error: unknown) => {
      // A send throws only if a tab's link does; the tab is gone or going, and the scheduler
      // learns that from its disconnect.
      this.#warn({ err: error, volunteerId }, '[engine]: a message to a tab failed');
    });
    this.#tails.set(volunteerId, tail);
    void tail.then(() => {
      if (this.#tails.get(volunteerId) === tail) this.#tails.delete(volunteerId);
    });
  }

  #readFailed(task: PlannedTask, error: unknown): void {
    this.#warn(
      { err: error, jobId: task.jobId, taskIndex: task.taskIndex },
      "[engine]: could not read a task's inputs; its copy will expire and run again",
    );
  }
}

async function readAssignment(task: PlannedTask): Promise<Assignment> {
  return {
    leaseId: task.leaseId,
    jobId: task.jobId,
    taskIndex: task.taskIndex,
    start: task.span.start,
    inputs: await task.source.read(task.span),
    ...(task.checkpoint ? { checkpoint: task.checkpoint } : {}),
  };
}
