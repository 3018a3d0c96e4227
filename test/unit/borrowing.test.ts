/**
 * Backups of other nodes' tasks (server/scheduling/borrowing.ts): when a node borrows, and that
 * a borrowed task gets one copy whose result, loss or checkpoint writes nothing here.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler, type Effect, type PlannedTask } from '../../server/scheduling/scheduler.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import { JobSpec } from '../../shared/job.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { itemsOf } from '../support/planned-task.ts';

const nothing = { settled: [], attempts: [], checkpoints: [] };

function setup(spec: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  let counter = 0;
  const scheduler = new Scheduler({
    leaseIds: { issue: () => `L${++counter}`, verify: () => true },
    random: () => 0.5,
  });
  const effects: Effect[] = [];
  const take = () => effects.splice(0);
  const dispatched = (list: Effect[]): PlannedTask[] =>
    list.flatMap((effect) => (effect.type === 'dispatch' ? effect.tasks : []));
  const result = (task: PlannedTask): TaskResult => ({
    leaseId: task.leaseId,
    jobId: task.jobId,
    taskIndex: task.taskIndex,
    durationMs: 5,
    outcome: { status: 'ok', items: itemsOf(task).map((x) => ({ output: x })) },
  });
  scheduler.addJob(
    'j',
    JobSpec.parse({ map: '(x) => x', inputs: Array.from({ length: 10 }, (_, i) => i), ...spec }),
    clock.now(),
    effects,
    undefined,
    true,
  );
  /** This node claimed [0, 2), ran both, and has nothing left to claim: its tab `v` idles. */
  const idleTail = () => {
    scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 2 }, clock.now(), effects);
    scheduler.cluster.addRange({ jobId: 'j', start: 0, end: 2 }, nothing, clock.now(), effects);
    const own = dispatched(take());
    scheduler.report('v', own.map(result), clock.now(), effects);
    take();
    scheduler.cluster.setClaimsExhausted('j', true);
  };
  return { clock, scheduler, take, dispatched, result, idleTail, effects };
}

const types = (list: Effect[]) => list.map((effect) => effect.type);

describe('borrowing tasks of other nodes', () => {
  it('asks only once nothing is left to claim or run here, for its idle slots, and not with redundancy or without end-game speculation', () => {
    const t = setup();
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 2 }, t.clock.now(), t.effects);
    t.scheduler.cluster.addRange(
      { jobId: 'j', start: 0, end: 2 },
      nothing,
      t.clock.now(),
      t.effects,
    );
    expect(t.scheduler.cluster.borrowNeeds()).toEqual([]);
    const own = t.dispatched(t.take());
    t.scheduler.report('v', own.map(t.result), t.clock.now(), t.effects);
    expect(t.scheduler.cluster.borrowNeeds()).toEqual([]); // claims not exhausted yet
    t.scheduler.cluster.setClaimsExhausted('j', true);
    expect(t.scheduler.cluster.borrowNeeds()).toEqual([{ jobId: 'j', tasks: 2, borrowed: 0 }]);

    for (const spec of [
      { redundancy: 2 },
      { speculation: false },
      { speculation: { endGame: false } },
    ]) {
      const other = setup(spec);
      other.idleTail();
      expect(other.scheduler.cluster.borrowNeeds(), JSON.stringify(spec)).toEqual([]);
    }
  });

  it('runs one backup copy of each borrowed task, and its result is left for the holder: nothing settles here', () => {
    const t = setup();
    t.idleTail();
    expect(t.scheduler.cluster.addBorrowed('j', [5, 6, 7], 2, t.clock.now(), t.effects)).toBe(2);
    const backups = t.dispatched(t.take());
    expect(backups.map((task) => task.taskIndex)).toEqual([5, 6]);
    expect(t.scheduler.cluster.borrowNeeds()).toEqual([]); // the tab is busy

    const [five] = backups as [PlannedTask];
    expect(t.scheduler.report('v', [t.result(five)], t.clock.now(), t.effects)).toEqual([
      'not-held',
    ]);
    const after = t.take();
    expect(types(after)).not.toContain('settle');
    expect(after).toContainEqual(expect.objectContaining({ type: 'copy-ended', end: 'result' }));
    expect(t.scheduler.getJob('j')?.done).toBe(2);
    // Borrowed once: listed again by the store, 5 and 6 are skipped.
    expect(t.scheduler.cluster.addBorrowed('j', [5, 6, 7], 5, t.clock.now(), t.effects)).toBe(1);
    expect(t.dispatched(t.take()).map((task) => task.taskIndex)).toEqual([7]);
  });

  it('forgets a borrowed task whose copy was lost or timed out: no attempt is written and no copy follows', () => {
    const t = setup({ timeoutMs: 1_000 });
    t.idleTail();
    t.scheduler.cluster.addBorrowed('j', [5], 1, t.clock.now(), t.effects);
    t.take();
    t.scheduler.disconnect('v', t.clock.now(), t.effects);
    expect(types(t.take())).not.toContain('attempt');
    t.scheduler.connect({ volunteerId: 'w', deviceId: 'e', slots: 2 }, t.clock.now(), t.effects);
    expect(t.dispatched(t.take())).toEqual([]);

    t.scheduler.cluster.addBorrowed('j', [6], 1, t.clock.now(), t.effects);
    expect(t.dispatched(t.take()).map((task) => task.taskIndex)).toEqual([6]);
    t.clock.advance(60_000);
    t.scheduler.expire(t.clock.now(), t.effects);
    const expired = t.take();
    expect(types(expired)).not.toContain('attempt');
    expect(t.dispatched(expired)).toEqual([]);
  });

  it('keeps no checkpoint of a borrowed task', () => {
    const t = setup();
    t.idleTail();
    t.scheduler.cluster.addBorrowed('j', [5], 1, t.clock.now(), t.effects);
    const [five] = t.dispatched(t.take()) as [PlannedTask];
    const report = {
      leaseId: five.leaseId,
      jobId: 'j',
      taskIndex: 5,
      checkpoint: { item: 0, state: 1, done: [] },
    };
    expect(t.scheduler.checkpoint('v', report, t.clock.now(), t.effects)).toBe(true);
    expect(types(t.take())).not.toContain('checkpoint');
  });

  it('makes a borrowed task its own when it claims the range, and ends the copy of one settled meanwhile', () => {
    const t = setup();
    t.idleTail();
    t.scheduler.cluster.addBorrowed('j', [4, 5], 2, t.clock.now(), t.effects);
    const [four, five] = t.dispatched(t.take()) as [PlannedTask, PlannedTask];
    t.scheduler.cluster.addRange(
      { jobId: 'j', start: 4, end: 6 },
      { settled: [4], attempts: [], checkpoints: [] },
      t.clock.now(),
      t.effects,
    );
    const claimed = t.take();
    expect(claimed).toContainEqual(
      expect.objectContaining({ type: 'cancel', volunteerId: 'v', leaseIds: [four.leaseId] }),
    );
    expect(t.dispatched(claimed).map((task) => task.taskIndex)).not.toContain(5);
    expect(t.scheduler.report('v', [t.result(five)], t.clock.now(), t.effects)).toEqual([
      'committed',
    ]);
    expect(t.take()).toContainEqual(expect.objectContaining({ type: 'settle', taskIndex: 5 }));
  });

  it("keeps a borrowed copy running when the holder's own copy of the task reports here first", () => {
    const t = setup();
    t.idleTail();
    t.scheduler.cluster.addBorrowed('j', [5], 1, t.clock.now(), t.effects);
    const [mine] = t.dispatched(t.take()) as [PlannedTask];
    // The same browser's other tab sends what the holder's lease computed.
    t.scheduler.connect({ volunteerId: 'w', deviceId: 'd', slots: 0 }, t.clock.now(), t.effects);
    const theirs = { ...t.result(mine), leaseId: 'holder-lease' };
    expect(t.scheduler.report('w', [theirs], t.clock.now(), t.effects)).toEqual(['not-held']);
    expect(t.scheduler.getJob('j')?.inFlight).toBe(1);
    expect(() => t.scheduler.speculate(t.clock.now(), t.effects)).not.toThrow();
    expect(t.scheduler.liveCopies('j').map((lease) => lease.leaseId)).toEqual([mine.leaseId]);

    expect(t.scheduler.report('v', [t.result(mine)], t.clock.now(), t.effects)).toEqual([
      'not-held',
    ]);
    expect(t.scheduler.getJob('j')?.inFlight).toBe(0);
    expect(t.scheduler.liveCopies('j')).toEqual([]);
  });

  it('stops the backups of borrowed tasks the holder finished, and its tab gets other work', () => {
    const t = setup();
    t.idleTail();
    t.scheduler.cluster.addBorrowed('j', [5, 6], 2, t.clock.now(), t.effects);
    const [five, six] = t.dispatched(t.take()) as [PlannedTask, PlannedTask];
    expect(t.scheduler.cluster.borrowedRunning()).toEqual([{ jobId: 'j', taskIndexes: [5, 6] }]);
    t.scheduler.cluster.endBorrowed('j', [5, 8], t.clock.now(), t.effects);
    expect(t.take()).toContainEqual(
      expect.objectContaining({ type: 'cancel', volunteerId: 'v', leaseIds: [five.leaseId] }),
    );
    expect(t.scheduler.cluster.borrowedRunning()).toEqual([{ jobId: 'j', taskIndexes: [6] }]);
    expect(t.scheduler.liveCopies('j').map((lease) => lease.leaseId)).toEqual([six.leaseId]);
    expect(t.scheduler.getJob('j')?.inFlight).toBe(1);
  });
});
