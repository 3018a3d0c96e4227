import { describe, expect, it } from 'vitest';
import { DeviceCensus } from '../../server/scheduling/device-census.ts';
import { decideFailure, type FailureFacts } from '../../server/scheduling/device-spread.ts';
import { Scheduler, type Effect, type PlannedTask } from '../../server/scheduling/scheduler.ts';
import { JobSpec, type JobSpecInput } from '../../shared/job.ts';
import { itemsOf } from '../support/planned-task.ts';
import { FakeClock } from '../support/fake-clock.ts';

/** A scheduler with readable lease ids, a fake clock and helpers to answer copies. */
function setup() {
  const clock = new FakeClock();
  let leaseCounter = 0;
  const scheduler = new Scheduler({
    leaseIds: { issue: () => `L${++leaseCounter}`, verify: () => true },
    leaseGraceMs: 1_000,
    random: () => 0.5,
  });
  let effects: Effect[] = [];
  // Settled tasks leave memory; what they settled with is read from the settle effects.
  const settles = new Map<number, Extract<Effect, { type: 'settle' }>>();
  const record = (list: Effect[]) => {
    for (const effect of list) if (effect.type === 'settle') settles.set(effect.taskIndex, effect);
  };
  const take = (): Effect[] => {
    const taken = effects.splice(0);
    record(taken);
    return taken;
  };
  const settled = (taskIndex: number) => {
    record(effects);
    return settles.get(taskIndex);
  };
  const of = <T extends Effect['type']>(list: Effect[], type: T) =>
    list.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
  const dispatched = (list: Effect[], volunteerId?: string): PlannedTask[] =>
    of(list, 'dispatch')
      .filter((e) => volunteerId === undefined || e.volunteerId === volunteerId)
      .flatMap((e) => e.tasks);
  const answer = (volunteerId: string, task: PlannedTask, ok: boolean): string =>
    scheduler.report(
      volunteerId,
      [
        {
          leaseId: task.leaseId,
          jobId: task.jobId,
          taskIndex: task.taskIndex,
          durationMs: 1,
          outcome: ok
            ? { status: 'ok', items: itemsOf(task).map((x) => ({ output: (x as number) * 2 })) }
            : { status: 'error', message: 'boom' },
        },
      ],
      clock.now(),
      effects,
    )[0] as string;
  return {
    clock,
    scheduler,
    take,
    settled,
    of,
    dispatched,
    answer,
    addJob(spec: Partial<JobSpecInput>) {
      return scheduler.addJob(
        'j',
        JobSpec.parse({ map: '(x) => x * 2', inputs: [1], speculation: false, ...spec }),
        clock.now(),
        effects,
      );
    },
    connect(volunteerId: string, deviceId: string, slots = 1, address?: string) {
      scheduler.connect(
        { volunteerId, deviceId, slots, ...(address !== undefined ? { address } : {}) },
        clock.now(),
        effects,
      );
    },
    /** Answers a copy with `output` for every item. */
    vote(volunteerId: string, task: PlannedTask, output: number): string {
      return scheduler.report(
        volunteerId,
        [
          {
            leaseId: task.leaseId,
            jobId: task.jobId,
            taskIndex: task.taskIndex,
            durationMs: 1,
            outcome: { status: 'ok', items: itemsOf(task).map(() => ({ output })) },
          },
        ],
        clock.now(),
        effects,
      )[0] as string;
    },
  };
}

describe('decideFailure', () => {
  const facts = (over: Partial<FailureFacts>): FailureFacts => ({
    newAddress: true,
    failedAddresses: 1,
    attempts: 0,
    maxAttempts: 3,
    othersStand: true,
    ...over,
  });
  it.each<[string, Partial<FailureFacts>, { charged: boolean; giveUp: boolean }]>([
    ["charges an address's first failure", {}, { charged: true, giveUp: false }],
    [
      'does not charge a repeat from a failed address while another address could take the task',
      { newAddress: false, attempts: 1 },
      { charged: false, giveUp: false },
    ],
    [
      'charges a repeat when no other address could take the task',
      { newAddress: false, attempts: 1, othersStand: false },
      { charged: true, giveUp: false },
    ],
    [
      'gives up a lone address after maxAttempts',
      { newAddress: false, attempts: 2, othersStand: false },
      { charged: true, giveUp: true },
    ],
    [
      'does not give up on one address alone while another could try',
      { attempts: 0, maxAttempts: 1 },
      { charged: true, giveUp: false },
    ],
    [
      'gives up once two addresses failed and the attempts are spent',
      { failedAddresses: 2, attempts: 1, maxAttempts: 2 },
      { charged: true, giveUp: true },
    ],
  ])('%s', (_name, over, expected) => {
    expect(decideFailure(facts(over))).toEqual(expected);
  });
});

describe('DeviceCensus', () => {
  const none = new Set<string>();
  it('counts working devices per grid, not tabs, and forgets paused and gone tabs', () => {
    const census = new DeviceCensus();
    census.set({ volunteerId: 'a1', deviceId: 'A', slots: 2 });
    census.set({ volunteerId: 'a2', deviceId: 'A', slots: 2 });
    census.set({ volunteerId: 'g', deviceId: 'G', slots: 2, grid: 'room' });
    expect(census.hasSeatOutside(undefined, ['A'], none)).toBe(false);
    census.set({ volunteerId: 'b', deviceId: 'B', slots: 1 });
    expect(census.hasSeatOutside(undefined, ['A'], none)).toBe(true);
    census.set({ volunteerId: 'b', deviceId: 'B', slots: 0 });
    expect(census.hasSeatOutside(undefined, ['A'], none)).toBe(false);
    census.delete('a1');
    census.delete('a2');
    expect(census.hasSeatOutside(undefined, [], none)).toBe(false);
    expect(census.hasSeatOutside('room', ['A'], none)).toBe(true);
  });

  it('says when a seat leaves: the last tab of a device at an address closes or pauses', () => {
    const census = new DeviceCensus();
    census.set({ volunteerId: 'a1', deviceId: 'A', slots: 1, address: '10.0.0.1' });
    census.set({ volunteerId: 'a2', deviceId: 'A', slots: 1, address: '10.0.0.1' });
    expect(census.set({ volunteerId: 'a1', deviceId: 'A', slots: 4, address: '10.0.0.1' })).toBe(
      false,
    );
    expect(census.delete('a1')).toBe(false);
    expect(census.set({ volunteerId: 'a2', deviceId: 'A', slots: 0, address: '10.0.0.1' })).toBe(
      true,
    );
    census.set({ volunteerId: 'b', deviceId: 'B', slots: 1, address: '10.0.0.2' });
    expect(census.delete('b')).toBe(true);
    expect(census.delete('b')).toBe(false);
  });

  it('leaves out every device at an excluded address, and counts overflow ids of one address as one device', () => {
    const census = new DeviceCensus();
    census.set({ volunteerId: 'a', deviceId: 'A', slots: 1, address: '10.0.0.1' });
    census.set({ volunteerId: 'c', deviceId: 'C', slots: 1, address: '10.0.0.1' });
    census.set({ volunteerId: 'o1', deviceId: 'o-tag.1', slots: 1, address: '10.0.0.2' });
    census.set({ volunteerId: 'o2', deviceId: 'o-tag.2', slots: 1, address: '10.0.0.2' });
    expect(census.hasSeatOutside(undefined, ['o-tag'], new Set(['10.0.0.1']))).toBe(false);
    expect(census.hasSeatOutside(undefined, ['A'], none)).toBe(true);
    expect(census.hasSeatOutside(undefined, ['A', 'o-tag'], none)).toBe(true);
    expect(census.hasSeatOutside(undefined, ['A', 'C', 'o-tag'], none)).toBe(false);
  });
});

describe('Scheduler with a device that fails every copy', () => {
  it('gives the retry to another device and completes with its result', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1, 2, 3], maxAttempts: 3 });
    t.connect('bad', 'BAD', 8);
    const first = t.dispatched(t.take(), 'bad');
    expect(first).toHaveLength(3);
    t.connect('honest', 'HONEST', 1);
    t.take();
    for (const task of first) expect(t.answer('bad', task, false)).toBe('retrying');
    // The failing device asks first (it reported), but every retry waits for the other device.
    let backToBad = 0;
    for (let round = 0; round < 10 && job.done < 3; round++) {
      const effects = t.take();
      backToBad += t.dispatched(effects, 'bad').length;
      for (const task of t.dispatched(effects, 'honest')) t.answer('honest', task, true);
    }
    expect(backToBad).toBe(0);
    expect(job).toMatchObject({ done: 3, failed: 0, status: 'completed' });
    expect([0, 1, 2].map((i) => t.settled(i)?.attempts)).toEqual([1, 1, 1]);
  });

  it('cannot fail a task alone even with maxAttempts 1 while another device could try', () => {
    const t = setup();
    const job = t.addJob({ inputs: [5], maxAttempts: 1, redundancy: 2 });
    t.connect('bad', 'BAD');
    const [bad] = t.dispatched(t.take(), 'bad');
    t.connect('h1', 'H1');
    t.connect('h2', 'H2');
    const [h1] = t.dispatched(t.take(), 'h1');
    expect(t.answer('bad', bad as PlannedTask, false)).toBe('retrying');
    const [h2] = t.dispatched(t.take(), 'h2');
    expect(t.answer('h1', h1 as PlannedTask, true)).toBe('voted');
    expect(t.answer('h2', h2 as PlannedTask, true)).toBe('committed');
    expect(job.status).toBe('completed');
  });

  it('still fails a lone tab whose map throws after maxAttempts', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1], maxAttempts: 3 });
    t.connect('only', 'ONLY');
    const verdicts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [task] = t.dispatched(t.take(), 'only');
      verdicts.push(t.answer('only', task as PlannedTask, false));
    }
    expect(verdicts).toEqual(['retrying', 'retrying', 'failed']);
    expect(job.status).toBe('failed');
  });

  it('charges failures from two distinct devices normally', () => {
    const t = setup();
    t.addJob({ inputs: [1], maxAttempts: 2 });
    t.connect('a', 'A');
    const [first] = t.dispatched(t.take(), 'a');
    t.connect('b', 'B');
    t.connect('c', 'C');
    t.take();
    expect(t.answer('a', first as PlannedTask, false)).toBe('retrying');
    const [second] = t.dispatched(t.take());
    expect(t.answer('b', second as PlannedTask, false)).toBe('failed');
    expect(t.settled(0)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('does not charge a timeout repeated by one device while another could take the task', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1], timeoutMs: 1_000, maxAttempts: 2 });
    t.connect('hoarder', 'H');
    t.take();
    t.clock.advance(2_001);
    t.scheduler.expire(t.clock.now(), []);
    // Only the hoarder is connected: it gets the task back, and it is charged.
    expect(job.tasks.at(0)?.attempts).toBe(1);
    t.connect('honest', 'OK');
    t.take();
    t.clock.advance(2_001);
    const effects: Effect[] = [];
    t.scheduler.expire(t.clock.now(), effects);
    expect(job.tasks.at(0)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(t.dispatched(effects, 'honest')).toHaveLength(1);
  });
});

describe('Scheduler with a device that reports progress and never answers', () => {
  it('expires a copy at the default runtime cap (20 x timeoutMs) despite progress', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1], timeoutMs: 1_000 });
    t.connect('a', 'A');
    const [task] = t.dispatched(t.take());
    const leaseId = (task as PlannedTask).leaseId;
    let expiredAt: number | undefined;
    for (let i = 0; i <= 60 && expiredAt === undefined; i++) {
      t.scheduler.progress('a', [{ leaseId, elapsedMs: i * 500 }], t.clock.now());
      t.clock.advance(500);
      const effects: Effect[] = [];
      t.scheduler.expire(t.clock.now(), effects);
      if (t.of(effects, 'cancel').some((c) => c.leaseIds.includes(leaseId)))
        expiredAt = (i + 1) * 500;
    }
    // 20 x 1 s from its start, plus the lease grace (1 s in this harness).
    expect(expiredAt).toBe(21_000);
    expect(job.tasks.at(0)?.lastError).toMatch(/maxRuntimeMs \(20000 ms\)/);
  });

  it("gives a backup to another device, not to the holder's other tab, when one waits for work", () => {
    const t = setup();
    t.addJob({ inputs: [1, 2, 3, 4], timeoutMs: 60_000, speculation: true });
    t.connect('hoard-1', 'HOARDER', 4);
    const held = t.dispatched(t.take(), 'hoard-1');
    expect(held).toHaveLength(4);
    t.connect('hoard-2', 'HOARDER', 4);
    t.connect('honest', 'HONEST', 1);
    t.take();
    t.clock.advance(1_000);
    for (const task of held) {
      t.scheduler.progress('hoard-1', [{ leaseId: task.leaseId, elapsedMs: 1_000 }], t.clock.now());
    }
    const effects: Effect[] = [];
    t.scheduler.speculate(t.clock.now(), effects);
    expect(t.dispatched(effects, 'hoard-2')).toEqual([]);
    expect(t.dispatched(effects, 'honest').length).toBeGreaterThan(0);
  });
});

describe('Scheduler with distinctAddresses', () => {
  /** Two forging devices behind one address, then honest tabs from two others. */
  function sybil(distinctAddresses: boolean) {
    const t = setup();
    const job = t.addJob({ inputs: [1], redundancy: 2, distinctAddresses });
    t.connect('s1', 'S1', 1, '10.0.0.1');
    t.connect('s2', 'S2', 1, '10.0.0.1');
    const effects = t.take();
    return { t, job, s1: t.dispatched(effects, 's1'), s2: t.dispatched(effects, 's2') };
  }

  it('lets two devices behind one address outvote when the job does not ask (the default)', () => {
    const { t, job, s1, s2 } = sybil(false);
    expect(t.vote('s1', s1[0] as PlannedTask, 99)).toBe('voted');
    expect(t.vote('s2', s2[0] as PlannedTask, 99)).toBe('committed');
    expect(job.status).toBe('completed');
  });

  it('gives a task no second copy or vote from the same address, so honest tabs elsewhere decide', () => {
    const { t, job, s1, s2 } = sybil(true);
    expect(s1).toHaveLength(1);
    expect(s2).toEqual([]);
    expect(t.vote('s1', s1[0] as PlannedTask, 99)).toBe('voted');
    expect(t.dispatched(t.take(), 's2')).toEqual([]);
    t.connect('h1', 'H1', 1, '10.0.0.2');
    const [h1] = t.dispatched(t.take(), 'h1');
    expect(t.vote('h1', h1 as PlannedTask, 2)).toBe('voted');
    t.connect('h2', 'H2', 1, '10.0.0.3');
    const effects = t.take();
    expect(t.dispatched(effects, 's2')).toEqual([]);
    const [h2] = t.dispatched(effects, 'h2');
    expect(t.vote('h2', h2 as PlannedTask, 2)).toBe('committed');
    expect(t.of(t.take(), 'settle')).toMatchObject([{ items: [{ output: 2 }] }]);
    expect(job.status).toBe('completed');
  });
});

describe('Scheduler with a failing device beside an honest one', () => {
  it('gives no backup to a device that failed the task while an honest copy runs, so it cannot fail that task', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1], maxAttempts: 3, speculation: true });
    t.connect('h', 'HONEST', 1);
    const [h] = t.dispatched(t.take(), 'h') as [PlannedTask];
    t.scheduler.progress('h', [{ leaseId: h.leaseId, elapsedMs: 0 }], t.clock.now());
    t.connect('bad', 'BAD', 1);
    t.take();
    const verdicts: string[] = [];
    for (let i = 0; i < 10 && job.status === 'running'; i++) {
      t.clock.advance(1_000);
      t.scheduler.progress(
        'h',
        [{ leaseId: h.leaseId, elapsedMs: 1_000 * (i + 1) }],
        t.clock.now(),
      );
      const effects: Effect[] = [];
      t.scheduler.speculate(t.clock.now(), effects);
      let backups = t.dispatched(effects, 'bad');
      while (backups.length > 0 && job.status === 'running') {
        const more: Effect[] = [];
        const [b] = backups as [PlannedTask];
        verdicts.push(
          t.scheduler.report(
            'bad',
            [{ ...b, durationMs: 1, outcome: { status: 'error', message: 'nope' } }],
            t.clock.now(),
            more,
          )[0] as string,
        );
        backups = t.dispatched(more, 'bad');
      }
    }
    expect(verdicts).toEqual(['retrying']);
    expect(job.status).toBe('running');
    expect(t.answer('h', h, true)).toBe('committed');
  });

  it('lets three device ids of one address fail each task at most once while a device elsewhere runs them', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1, 2, 3, 4, 5, 6], maxAttempts: 3 });
    t.connect('h', 'HONEST', 1, '10.0.0.8');
    for (const n of [1, 2, 3]) t.connect(`bad${n}`, `BAD${n}`, 8, '10.0.0.7');
    for (let round = 0; round < 50 && job.status === 'running'; round++) {
      const effects = t.take();
      for (const n of [1, 2, 3])
        for (const task of t.dispatched(effects, `bad${n}`)) t.answer(`bad${n}`, task, false);
      for (const task of t.dispatched(effects, 'h')) t.answer('h', task, true);
    }
    expect(job).toMatchObject({ status: 'completed', done: 6, failed: 0 });
    const attempts = [0, 1, 2, 3, 4, 5].map((i) => t.settled(i)?.attempts ?? Infinity);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(1);
  });

  it('still fails a task whose map throws everywhere on a lab of devices behind one address', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1], maxAttempts: 3 });
    for (const n of [1, 2, 3, 4]) t.connect(`lab${n}`, `LAB${n}`, 1, '10.0.0.9');
    const verdicts: string[] = [];
    for (let round = 0; round < 10 && job.status === 'running'; round++) {
      const effects = t.take();
      for (const n of [1, 2, 3, 4])
        for (const task of t.dispatched(effects, `lab${n}`))
          verdicts.push(t.answer(`lab${n}`, task, false));
    }
    expect(verdicts).toEqual(['retrying', 'retrying', 'failed']);
    expect(job.status).toBe('failed');
  });

  it('feeds a device waiting as the last resort as soon as the only other able tab pauses', () => {
    const t = setup();
    t.addJob({ inputs: [1, 2, 3, 4, 5], maxAttempts: 3 });
    t.connect('c', 'C', 2);
    expect(t.dispatched(t.take(), 'c')).toHaveLength(4);
    t.connect('b', 'B', 1);
    const held = t.dispatched(t.take(), 'b');
    expect(held).toHaveLength(1);
    expect(t.answer('b', held[0] as PlannedTask, false)).toBe('retrying');
    // C could take the retry but is full; B failed it and waits.
    expect(t.dispatched(t.take(), 'b')).toEqual([]);
    const effects: Effect[] = [];
    t.scheduler.setSlots('c', 0, t.clock.now(), effects);
    expect(t.dispatched(effects, 'b').map((task) => task.taskIndex)).toEqual([held[0]?.taskIndex]);
  });
});

describe('Scheduler with distinctAddresses after a timeout', () => {
  /** A voted from one address; B's copy timed out; C sits behind A's address. */
  function votedThenTimedOut() {
    const t = setup();
    const job = t.addJob({ inputs: [1], redundancy: 2, distinctAddresses: true, timeoutMs: 1_000 });
    t.connect('a', 'A', 1, '10.0.0.1');
    t.connect('b', 'B', 1, '10.0.0.2');
    t.connect('c', 'C', 1, '10.0.0.1');
    const [a] = t.dispatched(t.take(), 'a');
    expect(t.vote('a', a as PlannedTask, 2)).toBe('voted');
    t.take();
    t.clock.advance(10_000);
    const effects: Effect[] = [];
    t.scheduler.expire(t.clock.now(), effects);
    return { t, job, effects };
  }

  it('gives the task back to the device that timed out when no other address may take it, and past its attempts waits for a new address', () => {
    const { t, job, effects } = votedThenTimedOut();
    let toB = t.dispatched(effects, 'b').length;
    for (let i = 0; i < 20; i++) {
      t.clock.advance(60_000);
      const more: Effect[] = [];
      t.scheduler.expire(t.clock.now(), more);
      t.scheduler.setSlots('b', 1, t.clock.now(), more);
      t.scheduler.setSlots('c', 1, t.clock.now(), more);
      toB += t.dispatched(more, 'b').length;
      expect(t.dispatched(more, 'c')).toEqual([]);
    }
    // Its first copy and two more: then the task waits rather than loop on one device.
    expect(toB).toBe(2);
    expect(job.status).toBe('running');
    t.connect('d', 'D', 1, '10.0.0.3');
    const [d] = t.dispatched(t.take(), 'd');
    expect(t.vote('d', d as PlannedTask, 2)).toBe('committed');
    expect(job.status).toBe('completed');
  });

  it('does not count a device behind a voter address as able to take the task', () => {
    const { t, effects } = votedThenTimedOut();
    expect(t.dispatched(effects, 'b')).toHaveLength(1);
    expect(t.dispatched(effects, 'c')).toEqual([]);
    void t;
  });
});

describe('Scheduler with overflow device ids (issued past an address allowance)', () => {
  it('counts the overflow ids of one address as one voter and gives them one replica', () => {
    const t = setup();
    const job = t.addJob({ inputs: [1], redundancy: 2 });
    t.connect('o1', 'o-natTag.one', 1, '10.0.0.9');
    t.connect('o2', 'o-natTag.two', 1, '10.0.0.9');
    const effects = t.take();
    const [o1] = t.dispatched(effects, 'o1');
    expect(t.dispatched(effects, 'o2')).toEqual([]);
    expect(t.vote('o1', o1 as PlannedTask, 99)).toBe('voted');
    expect(t.dispatched(t.take(), 'o2')).toEqual([]);
    t.connect('h', 'HONEST', 1, '10.0.0.2');
    const [h] = t.dispatched(t.take(), 'h');
    expect(t.vote('h', h as PlannedTask, 2)).toBe('voted');
    expect(job.status).toBe('running');
  });

  it('never trusts an overflow id, however often it agrees', () => {
    const t = setup();
    t.connect('o', 'o-natTag.one', 1, '10.0.0.9');
    t.connect('h', 'HONEST', 1, '10.0.0.2');
    const inputs = Array.from({ length: 30 }, (_, i) => i);
    t.addJob({ inputs, redundancy: 2, adaptiveTrust: true });
    for (let round = 0; round < 100; round++) {
      const effects = t.take();
      if (t.dispatched(effects).length === 0) break;
      for (const v of ['o', 'h']) for (const task of t.dispatched(effects, v)) t.vote(v, task, 1);
    }
    const views = t.scheduler.devices;
    expect(views.find((d) => d.deviceId === 'HONEST')?.trusted).toBe(true);
    expect(views.filter((d) => d.deviceId.startsWith('o-'))).toEqual([]);
  });
});

describe('Scheduler with a tab that reports tiny run times to hold many copies', () => {
  it('gives every queued copy a deadline within the runtime cap of its dispatch', () => {
    const t = setup();
    const job = t.addJob({ inputs: Array.from({ length: 600 }, (_, i) => i), timeoutMs: 1_000 });
    t.connect('hoarder', 'HOARDER', 1);
    const [first] = t.dispatched(t.take(), 'hoarder');
    // One answer claiming 1 ms: its prefetch target grows to 256 copies.
    expect(t.answer('hoarder', first as PlannedTask, true)).toBe('committed');
    expect(t.dispatched(t.take(), 'hoarder').length).toBeGreaterThan(100);
    const latest = Math.max(...t.scheduler.liveCopies(job.jobId).map((lease) => lease.deadline));
    // 20 x timeoutMs, plus this harness's 1 s grace.
    expect(latest).toBeLessThanOrEqual(t.clock.now() + 21_000);
  });
});
