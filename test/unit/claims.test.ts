import { describe, expect, it } from 'vitest';
import { claimSize } from '../../server/scheduling/claims.ts';
import { Scheduler, type Effect, type PlannedTask } from '../../server/scheduling/scheduler.ts';
import { JobSpec } from '../../shared/job.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { itemsOf } from '../support/planned-task.ts';

function setup() {
  const clock = new FakeClock();
  let counter = 0;
  const scheduler = new Scheduler({
    leaseIds: { issue: () => `L${++counter}`, verify: () => true },
    random: () => 0.5,
  });
  let effects: Effect[] = [];
  const take = () => effects.splice(0);
  const dispatched = (list: Effect[]): PlannedTask[] =>
    list.flatMap((effect) => (effect.type === 'dispatch' ? effect.tasks : []));
  const ok = (volunteerId: string, task: PlannedTask) =>
    scheduler.report(
      volunteerId,
      [
        {
          leaseId: task.leaseId,
          jobId: task.jobId,
          taskIndex: task.taskIndex,
          durationMs: 5,
          outcome: { status: 'ok', items: itemsOf(task).map((x) => ({ output: x })) },
        },
      ],
      clock.now(),
      effects,
    )[0];
  const shared = (jobId: string, tasks: number, grid?: string) =>
    scheduler.addJob(
      jobId,
      JobSpec.parse({
        map: '(x) => x',
        inputs: Array.from({ length: tasks }, (_, i) => i),
        speculation: false,
        ...(grid !== undefined ? { grid } : {}),
      }),
      clock.now(),
      effects,
      undefined,
      true,
    );
  return { clock, scheduler, take, dispatched, ok, shared, effects: () => effects };
}

const nothing = { settled: [], attempts: [], checkpoints: [] };

describe('a shared job on one node', () => {
  it('runs only the ranges this node claimed, skipping tasks the store says are settled', () => {
    const t = setup();
    t.shared('j', 1_000);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 8 }, t.clock.now(), []);
    expect(t.dispatched(t.take())).toEqual([]);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([{ jobId: 'j', tasks: claimSize(8) }]);

    const effects: Effect[] = [];
    t.scheduler.cluster.addRange(
      { jobId: 'j', start: 200, end: 204 },
      { settled: [201], attempts: [], checkpoints: [] },
      t.clock.now(),
      effects,
    );
    expect(t.dispatched(effects).map((task) => task.taskIndex)).toEqual([200, 202, 203]);
  });

  it('puts a range’s spent attempts and checkpoints back, and queues those tasks first', () => {
    const t = setup();
    t.shared('j', 100);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 1 }, t.clock.now(), []);
    const effects: Effect[] = [];
    const checkpoint = { item: 0, state: 7, done: [] };
    t.scheduler.cluster.addRange(
      { jobId: 'j', start: 10, end: 20 },
      {
        settled: [],
        attempts: [{ taskIndex: 15, attempts: 2, drops: 0 }],
        checkpoints: [{ taskIndex: 17, checkpoint }],
      },
      t.clock.now(),
      effects,
    );
    const first = t.dispatched(effects);
    expect(first.map((task) => task.taskIndex)).toEqual([15, 17]);
    expect(first[1]?.checkpoint).toEqual(checkpoint);
  });

  it('is not finished by this node’s commits alone, only when the store says so', () => {
    const t = setup();
    const job = t.shared('j', 4);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 4 }, t.clock.now(), []);
    const effects: Effect[] = [];
    t.scheduler.cluster.addRange({ jobId: 'j', start: 0, end: 4 }, nothing, t.clock.now(), effects);
    for (const task of t.dispatched(effects)) expect(t.ok('v', task)).toBe('committed');
    expect(job.done).toBe(4);
    expect(t.scheduler.getJob('j')?.status).toBe('running');

    const finished: Effect[] = [];
    expect(
      t.scheduler.finishJob(
        'j',
        { status: 'completed', done: 4, failed: 0 },
        t.clock.now(),
        finished,
      ),
    ).toBe(true);
    expect(finished).toContainEqual(expect.objectContaining({ type: 'job', status: 'completed' }));
    expect(t.scheduler.getJob('j')).toBeUndefined();
  });

  it('ends the copies it still runs when the store finds the job finished', () => {
    const t = setup();
    t.shared('j', 10);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 2 }, t.clock.now(), []);
    const effects: Effect[] = [];
    t.scheduler.cluster.addRange({ jobId: 'j', start: 0, end: 2 }, nothing, t.clock.now(), effects);
    expect(t.dispatched(effects)).toHaveLength(2);
    const finished: Effect[] = [];
    t.scheduler.finishJob(
      'j',
      { status: 'completed', done: 4, failed: 0 },
      t.clock.now(),
      finished,
    );
    const cancelled = finished.flatMap((effect) =>
      effect.type === 'cancel' && effect.volunteerId === 'v' && effect.reason === 'committed'
        ? effect.leaseIds
        : [],
    );
    expect(cancelled.sort()).toEqual(['L1', 'L2']);
  });

  it('asks for no claim while it has no tab to run them', () => {
    const t = setup();
    t.shared('j', 10);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([]);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 1 }, t.clock.now(), []);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([{ jobId: 'j', tasks: claimSize(1) }]);
  });

  it("claims a grid's job only while a tab of that grid is here, sized by that grid's slots", () => {
    const t = setup();
    t.shared('public', 10);
    t.shared('room', 10, 'ROOM-7');
    const now = t.clock.now();
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 2 }, now, []);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([{ jobId: 'public', tasks: claimSize(2) }]);
    t.scheduler.connect({ volunteerId: 'g', deviceId: 'e', slots: 8, grid: 'ROOM-7' }, now, []);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([
      { jobId: 'public', tasks: claimSize(2) },
      { jobId: 'room', tasks: claimSize(8) },
    ]);
    t.scheduler.disconnect('v', now, []);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([{ jobId: 'room', tasks: claimSize(8) }]);
    t.scheduler.setSlots('g', 0, now, []);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([]);
    // The same tab back in the public pool.
    t.scheduler.connect({ volunteerId: 'g', deviceId: 'e', slots: 3 }, now, []);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([{ jobId: 'public', tasks: claimSize(3) }]);
  });

  it('stops asking for claims once they came back empty, until ranges are released', () => {
    const t = setup();
    t.shared('j', 10);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 1 }, t.clock.now(), []);
    t.scheduler.cluster.setClaimsExhausted('j', true);
    expect(t.scheduler.cluster.claimNeeds()).toEqual([]);
    t.scheduler.cluster.setClaimsExhausted('j', false);
    expect(t.scheduler.cluster.claimNeeds()).toHaveLength(1);
  });

  it('refuses a range of a job it does not know or a job that is not shared', () => {
    const t = setup();
    t.scheduler.addJob('solo', JobSpec.parse({ map: '(x) => x', inputs: [1] }), t.clock.now(), []);
    expect(t.scheduler.cluster.addRange({ jobId: 'solo', start: 0, end: 1 }, nothing, 0, [])).toBe(
      false,
    );
    expect(t.scheduler.cluster.addRange({ jobId: 'none', start: 0, end: 1 }, nothing, 0, [])).toBe(
      false,
    );
  });

  it('tells a result for a task it does not hold apart, so the tab keeps it', () => {
    const t = setup();
    t.shared('j', 100);
    t.scheduler.connect({ volunteerId: 'v', deviceId: 'd', slots: 1 }, t.clock.now(), []);
    const verdict = t.scheduler.report(
      'v',
      [
        {
          leaseId: 'L-old',
          jobId: 'j',
          taskIndex: 50,
          durationMs: 5,
          outcome: { status: 'ok', items: [{ output: 50 }] },
        },
      ],
      t.clock.now(),
      [],
    );
    expect(verdict).toEqual(['not-held']);
    const effects: Effect[] = [];
    t.scheduler.cluster.addRange(
      { jobId: 'j', start: 50, end: 51 },
      nothing,
      t.clock.now(),
      effects,
    );
    const [held] = t.dispatched(effects);
    expect(t.ok('v', held as PlannedTask)).toBe('committed');
  });
});
