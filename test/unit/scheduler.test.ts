import { describe, expect, it } from 'vitest';
import { Scheduler, type Effect, type PlannedTask } from '../../server/scheduling/scheduler.ts';
import { targetOutstanding } from '../../server/scheduling/prefetch.ts';
import { JobSpec, type JobSpecInput } from '../../shared/job.ts';
import type { TaskResult } from '../../shared/protocol.ts';
import { itemsOf } from '../support/planned-task.ts';
import { FakeClock } from '../support/fake-clock.ts';

function setup(options: { maxDrops?: number; streakToTrust?: number } = {}) {
  const clock = new FakeClock();
  let leaseCounter = 0;
  const issued = new Map<string, string>();
  const scheduler = new Scheduler({
    // Readable ids; what each was issued for is remembered, as the real signer proves it.
    leaseIds: {
      issue: (jobId, taskIndex, volunteerId) => {
        const leaseId = `L${++leaseCounter}`;
        issued.set(leaseId, `${jobId}/${taskIndex}/${volunteerId}`);
        return leaseId;
      },
      verify: (leaseId, jobId, taskIndex, volunteerId) =>
        issued.get(leaseId) === `${jobId}/${taskIndex}/${volunteerId}`,
    },
    leaseGraceMs: 1_000,
    ...(options.maxDrops !== undefined ? { maxDrops: options.maxDrops } : {}),
    trust: { streakToTrust: options.streakToTrust ?? 10, spotCheckRate: 0.1 },
    random: () => 0.5, // never a spot check
  });
  let effects: Effect[] = [];
  const take = (): Effect[] => {
    const taken = effects;
    effects = [];
    return taken;
  };
  const of = <T extends Effect['type']>(list: Effect[], type: T) =>
    list.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
  const dispatched = (list: Effect[], volunteerId?: string): PlannedTask[] =>
    of(list, 'dispatch')
      .filter((e) => volunteerId === undefined || e.volunteerId === volunteerId)
      .flatMap((e) => e.tasks);
  return {
    clock,
    scheduler,
    take,
    of,
    dispatched,
    addJob(jobId: string, spec: Partial<JobSpecInput> = {}) {
      return scheduler.addJob(
        jobId,
        JobSpec.parse({ map: '(x) => x * x', inputs: [1, 2, 3, 4], ...spec }),
        clock.now(),
        effects,
      );
    },
    connect(volunteerId: string, slots = 1, extra: { deviceId?: string; grid?: string } = {}) {
      scheduler.connect(
        {
          volunteerId,
          deviceId: extra.deviceId ?? `dev-${volunteerId}`,
          slots,
          ...(extra.grid ? { grid: extra.grid } : {}),
        },
        clock.now(),
        effects,
      );
    },
    ok(volunteerId: string, task: PlannedTask, outputs?: unknown[], durationMs = 5): string {
      const result: TaskResult = {
        leaseId: task.leaseId,
        jobId: task.jobId,
        taskIndex: task.taskIndex,
        durationMs,
        outcome: {
          status: 'ok',
          items: (outputs ?? itemsOf(task).map((x) => (x as number) * (x as number))).map(
            (output) => ({ output: output as number }),
          ),
        },
      };
      return scheduler.report(volunteerId, [result], clock.now(), effects)[0] as string;
    },
    fail(volunteerId: string, task: PlannedTask, message = 'boom'): string {
      return scheduler.report(
        volunteerId,
        [
          {
            leaseId: task.leaseId,
            jobId: task.jobId,
            taskIndex: task.taskIndex,
            durationMs: 1,
            outcome: { status: 'error', message },
          },
        ],
        clock.now(),
        effects,
      )[0] as string;
    },
    expire() {
      scheduler.expire(clock.now(), effects);
    },
    disconnect(volunteerId: string) {
      scheduler.disconnect(volunteerId, clock.now(), effects);
    },
  };
}

describe('Scheduler dispatch', () => {
  it('fills a tab to its capacity in one batch and sends the job code once', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    t.connect('a', 2);
    const first = t.take();
    const batches = t.of(first, 'dispatch');
    expect(batches).toHaveLength(1);
    expect(batches[0]?.tasks.map((task) => task.taskIndex)).toEqual([0, 1, 2, 3]);
    expect(batches[0]?.jobs.map((job) => job.jobId)).toEqual(['j']);
    expect(t.of(first, 'job')).toMatchObject([{ status: 'running' }]);

    t.ok('a', batches[0]?.tasks[0] as PlannedTask);
    const refill = t.of(t.take(), 'dispatch');
    expect(refill.flatMap((e) => e.tasks).length).toBeGreaterThan(0);
    expect(refill.flatMap((e) => e.jobs)).toEqual([]);
  });

  it('sends the job code again to a reconnected tab', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2, 3, 4, 5, 6] });
    t.connect('a', 1);
    t.take();
    t.disconnect('a');
    t.take();
    t.connect('a', 1);
    expect(t.of(t.take(), 'dispatch')[0]?.jobs.map((job) => job.jobId)).toEqual(['j']);
  });

  it('gives a paused tab (0 slots) nothing and resumes it on capacity', () => {
    const t = setup();
    t.addJob('j');
    t.connect('a', 0);
    expect(t.dispatched(t.take())).toEqual([]);
    t.scheduler.setSlots('a', 1, t.clock.now(), []);
    // setSlots reports through the effects list it is given
    const effects: Effect[] = [];
    t.scheduler.setSlots('a', 2, t.clock.now(), effects);
    expect(t.dispatched(effects).length).toBeGreaterThan(0);
  });

  it('serves higher priority first and shares equal priorities round-robin', () => {
    const t = setup();
    t.addJob('low', { priority: 0, inputs: [1, 2, 3, 4] });
    t.addJob('high', { priority: 5, inputs: [1, 2] });
    t.addJob('low2', { priority: 0, inputs: [1, 2, 3, 4] });
    t.connect('a', 3); // 6 tasks on first fill
    const jobs = t.dispatched(t.take()).map((task) => task.jobId);
    expect(jobs.slice(0, 2)).toEqual(['high', 'high']);
    expect(jobs.slice(2).sort()).toEqual(['low', 'low', 'low2', 'low2']);
  });

  it('keeps grid jobs on tabs of that grid and public jobs off them', () => {
    const t = setup();
    t.addJob('public');
    t.addJob('class', { grid: 'ROOM1' });
    t.connect('pub', 4);
    t.connect('student', 4, { grid: 'ROOM1' });
    const effects = t.take();
    expect(new Set(t.dispatched(effects, 'pub').map((task) => task.jobId))).toEqual(
      new Set(['public']),
    );
    expect(new Set(t.dispatched(effects, 'student').map((task) => task.jobId))).toEqual(
      new Set(['class']),
    );
  });

  it("sizes a tab's prefetch from its measured task time", () => {
    expect(targetOutstanding(2, undefined)).toBe(4);
    expect(targetOutstanding(2, 1_000)).toBe(4); // 2 s of work per worker
    expect(targetOutstanding(2, 10)).toBe(400); // 200 per worker fill 2 s
    expect(targetOutstanding(2, 1)).toBe(512); // capped at 256 per worker
    expect(targetOutstanding(2, 10_000)).toBe(2); // at least one per worker
    expect(targetOutstanding(0, 10)).toBe(0);
  });

  it('fills a fast tab with big items by size, not by time, and keeps one per worker', () => {
    const t = setup();
    const item = 'x'.repeat(100_000); // ~100 KB a task: the 1 MiB budget holds ~10
    t.addJob('big', { inputs: Array.from({ length: 200 }, () => item) });
    t.connect('v', 2);
    const first = t.dispatched(t.take());
    expect(first).toHaveLength(4); // before any run time: 2 a worker
    // Fast results make the time target huge; the byte budget bounds the refill.
    t.ok('v', first[0] as PlannedTask, ['done'], 1);
    t.ok('v', first[1] as PlannedTask, ['done'], 1);
    const refill = t.dispatched(t.take());
    const held = 2 + refill.length;
    expect(held * 100_002).toBeLessThanOrEqual(1024 * 1024);
    expect(held).toBeGreaterThan(7);

    t.addJob('huge', { inputs: ['y'.repeat(5_000_000)], priority: 1 });
    t.connect('w', 2);
    expect(t.dispatched(t.take(), 'w').map((a) => a.jobId)).toContain('huge');
  });

  it("does not let one job's big tasks stop a tab from prefetching another's small ones", () => {
    const t = setup();
    t.addJob('big', { inputs: Array.from({ length: 100 }, () => 'x'.repeat(200_000)) });
    t.addJob('small', { inputs: Array.from({ length: 2_000 }, (_, i) => i) });
    t.connect('v', 2);
    const first = t.dispatched(t.take());
    for (const task of first)
      t.ok(
        'v',
        task,
        itemsOf(task).map(() => 0),
        1,
      );
    const held = t.dispatched(t.take());
    // Round robin over both jobs: the big one is skipped once the budget is spent, not the tab.
    expect(held.filter((a) => a.jobId === 'small').length).toBeGreaterThan(100);
    expect(held.filter((a) => a.jobId === 'big').length).toBeLessThanOrEqual(5);
  });
});

describe('Scheduler leases', () => {
  it('re-dispatches a task whose lease expired and counts the attempt', () => {
    const t = setup();
    const job = t.addJob('j', { inputs: [7], timeoutMs: 1_000 });
    t.connect('slow', 1);
    const [task] = t.dispatched(t.take());
    t.connect('fast', 1);
    expect(t.dispatched(t.take(), 'fast')).toEqual([]); // nothing left to give

    t.clock.advance(1_999);
    t.expire();
    expect(t.take()).toEqual([]);

    t.clock.advance(2);
    t.expire();
    const effects = t.take();
    expect(t.of(effects, 'cancel')).toMatchObject([
      { volunteerId: 'slow', leaseIds: [task?.leaseId], reason: 'expired' },
    ]);
    expect(t.of(effects, 'attempt')).toMatchObject([{ taskIndex: 0, attempts: 1 }]);
    const again = t.dispatched(effects);
    expect(again).toHaveLength(1);
    expect(again[0]?.taskIndex).toBe(0);
    expect(again[0]?.leaseId).not.toBe(task?.leaseId);
    expect(job.inFlight).toBe(1);
  });

  it('gives copies queued behind others in a tab a deadline that allows for the queue', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2, 3, 4], timeoutMs: 1_000 });
    t.connect('a', 1); // holds 2: one running, one queued
    t.take();
    t.clock.advance(2_500); // past the first copy's bound (1 s + 1 s grace), within the second's
    t.expire();
    const cancels = t.of(t.take(), 'cancel');
    expect(cancels.flatMap((c) => c.leaseIds)).toEqual(['L1']);
  });

  it('records item errors after maxAttempts failed attempts and still finishes the job', () => {
    const t = setup();
    const job = t.addJob('j', { inputs: [1, 2], chunkSize: 2, maxAttempts: 2 });
    t.connect('a', 1);
    let [task] = t.dispatched(t.take());
    expect(t.fail('a', task as PlannedTask, 'worker crashed')).toBe('retrying');
    [task] = t.dispatched(t.take());
    expect(t.fail('a', task as PlannedTask, 'worker crashed')).toBe('failed');
    const effects = t.take();
    const [settle] = t.of(effects, 'settle');
    expect(settle?.status).toBe('failed');
    expect(settle?.items).toHaveLength(2);
    expect(settle?.items[0]).toMatchObject({
      error: expect.stringMatching(/gave up after 2 failed attempts: worker crashed/),
    });
    expect(t.of(effects, 'job')).toMatchObject([{ status: 'failed' }]);
    expect(job.failed).toBe(1);
  });

  it('retries a task whose map threw on an item, then keeps the last outputs and errors', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2], chunkSize: 2, maxAttempts: 1 });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    const [verdict] = t.scheduler.report(
      'a',
      [
        {
          leaseId: (task as PlannedTask).leaseId,
          jobId: 'j',
          taskIndex: 0,
          durationMs: 1,
          outcome: { status: 'ok', items: [{ output: 1 }, { error: 'TypeError: bad' }] },
        },
      ],
      t.clock.now(),
      [],
    );
    expect(verdict).toBe('failed');
  });

  it('commits a task once: a second result is a duplicate', () => {
    const t = setup();
    t.addJob('j', { inputs: [3] });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    expect(t.ok('a', task as PlannedTask)).toBe('committed');
    const first = t.take();
    expect(t.of(first, 'settle')).toMatchObject([{ status: 'committed', items: [{ output: 9 }] }]);
    expect(t.of(first, 'job')).toMatchObject([{ status: 'completed' }]);
    expect(t.ok('a', task as PlannedTask)).toBe('unknown-job'); // the job finished and left memory
    expect(t.of(t.take(), 'settle')).toEqual([]);
  });

  it('drops a late result for a task another copy already committed', () => {
    const t = setup();
    t.addJob('j', { inputs: [3, 4], timeoutMs: 100 });
    t.connect('a', 1);
    const [first] = t.dispatched(t.take());
    t.connect('b', 1);
    t.clock.advance(2_000);
    t.expire();
    const again = t
      .of(t.take(), 'dispatch')
      .flatMap((e) => e.tasks.map((task) => ({ holder: e.volunteerId, task })));
    const retry = again.find(({ task }) => task.taskIndex === first?.taskIndex);
    expect(retry).toBeDefined();
    expect(t.ok(retry?.holder as string, retry?.task as PlannedTask)).toBe('committed');
    expect(t.ok('a', first as PlannedTask)).toBe('duplicate');
  });

  it('splits the work left between tabs by their slots', () => {
    const t = setup();
    t.addJob('j', { inputs: Array.from({ length: 12 }, (_, i) => i) });
    t.connect('a', 1);
    t.connect('b', 3);
    const effects = t.take();
    // a alone first takes its initial 2; b then takes its share of the rest.
    expect(t.dispatched(effects, 'a')).toHaveLength(2);
    expect(t.dispatched(effects, 'b')).toHaveLength(6);
    // Measured as fast, a is still held to its share of what is left.
    const [task] = t.dispatched(effects, 'a');
    t.ok('a', task as PlannedTask);
    expect(t.dispatched(t.take(), 'a').length).toBeLessThanOrEqual(2);
  });

  it('accepts a result from a lease lost to a disconnect while the task is open', () => {
    const t = setup();
    t.addJob('j', { inputs: [5] });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    t.disconnect('a');
    const effects = t.take();
    expect(t.of(effects, 'attempt')).toMatchObject([{ attempts: 0, drops: 1 }]);
    t.connect('a', 1); // the reloaded tab: gets the task again, and sends its old result too
    t.take();
    expect(t.ok('a', task as PlannedTask)).toBe('committed');
  });

  it('leaves a task no tab was sent untouched by a forged result for it, so the task still runs', () => {
    const t = setup();
    const job = t.addJob('j', { inputs: [1, 2, 3, 4] });
    t.connect('mallory', 0); // holds nothing: a made-up lease for a task no tab holds yet
    const forged: PlannedTask = {
      leaseId: 'L-forged',
      jobId: 'j',
      taskIndex: 3,
      span: { start: 3, count: 1 },
      source: job.inputs,
    };
    expect(t.ok('mallory', forged, [666])).toBe('foreign-lease');
    t.connect('a', 4);
    for (let round = 0; round < 10 && job.status !== 'completed'; round++) {
      for (const task of t.dispatched(t.take(), 'a')) t.ok('a', task);
    }
    expect(job).toMatchObject({ status: 'completed', done: 4 });
  });

  it('refuses a result for an open task under a lease id it never issued to that browser', () => {
    const t = setup();
    t.addJob('j', { inputs: [5] });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    t.disconnect('a'); // the lease is no longer tracked: only its id can vouch for it
    t.take();
    t.connect('mallory', 1);
    const forged = { ...(task as PlannedTask), leaseId: 'L999' };
    expect(t.ok('mallory', forged, [666])).toBe('foreign-lease');
    expect(t.ok('mallory', task as PlannedTask, [666])).toBe('foreign-lease');
    t.connect('a', 1);
    expect(t.ok('a', task as PlannedTask)).toBe('committed');
  });

  it("takes a live lease's result from another tab of the same browser (a reconnect the coordinator has not noticed)", () => {
    const t = setup();
    t.addJob('j', { inputs: [5] });
    t.connect('a', 1, { deviceId: 'D' });
    const [task] = t.dispatched(t.take());
    t.connect('a~2', 1, { deviceId: 'D' });
    expect(t.ok('a~2', task as PlannedTask)).toBe('committed');
  });

  it('keeps no checkpoint on the coordinator for jobs with redundancy', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2], chunkSize: 2, redundancy: 2, speculation: false });
    t.connect('a', 1, { deviceId: 'A' });
    const [copy] = t.dispatched(t.take(), 'a');
    const checkpoint = { item: 1, state: null, done: [{ output: 666 }] };
    const report = { leaseId: (copy as PlannedTask).leaseId, jobId: 'j', taskIndex: 0, checkpoint };
    const effects: Effect[] = [];
    expect(t.scheduler.checkpoint('a', report, t.clock.now(), effects)).toBe(true);
    expect(effects.filter((e) => e.type === 'checkpoint')).toEqual([]);
    t.connect('b', 1, { deviceId: 'B' });
    const [replica] = t.dispatched(t.take(), 'b');
    expect(replica?.checkpoint).toBeUndefined();
  });

  it('refuses a result naming a lease held by another tab', () => {
    const t = setup();
    t.addJob('j', { inputs: [5] });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    t.connect('mallory', 1);
    expect(t.ok('mallory', task as PlannedTask, [666])).toBe('foreign-lease');
    expect(t.ok('a', task as PlannedTask)).toBe('committed');
  });

  it('gives up a task that keeps losing its tabs after maxDrops', () => {
    const t = setup({ maxDrops: 2 });
    t.addJob('j', { inputs: [1] });
    t.connect('a', 1);
    t.disconnect('a');
    t.connect('b', 1);
    t.disconnect('b');
    const settle = t.of(t.take(), 'settle');
    expect(settle).toMatchObject([{ status: 'failed' }]);
    expect(settle[0]?.items[0]).toMatchObject({ error: expect.stringMatching(/lost 2 times/) });
  });

  it('gives a task a device dropped back to a tab elsewhere, not to that device again, so repeated drops cannot fail it', () => {
    const t = setup({ maxDrops: 2 });
    t.addJob('j', { inputs: [1, 2, 3] });
    t.connect('honest', 1, { deviceId: 'dev-honest' });
    const held = t.dispatched(t.take(), 'honest');
    expect(held).toHaveLength(2); // prefetch: the third task is left for the next tab
    for (const tab of ['t1', 't2', 't3']) {
      t.connect(tab, 1, { deviceId: 'dev-thief' });
      t.disconnect(tab);
    }
    const effects = t.take();
    expect(t.dispatched(effects, 't1')).toHaveLength(1);
    expect([...t.dispatched(effects, 't2'), ...t.dispatched(effects, 't3')]).toEqual([]);
    expect(t.of(effects, 'settle')).toEqual([]);
    for (const task of held) expect(t.ok('honest', task)).toBe('committed');
    const [last] = t.dispatched(t.take(), 'honest');
    expect(last?.taskIndex).toBe(2);
    expect(t.ok('honest', last as PlannedTask)).toBe('committed');
  });

  it('gives up a task that keeps crashing a lone device after maxDrops, though one address dropped it each time', () => {
    const t = setup({ maxDrops: 3 });
    t.addJob('j', { inputs: [1] });
    for (const tab of ['a1', 'a2', 'a3']) {
      t.connect(tab, 1, { deviceId: 'dev-lone' });
      t.disconnect(tab);
    }
    const settle = t.of(t.take(), 'settle');
    expect(settle).toMatchObject([{ status: 'failed' }]);
    expect(settle[0]?.items[0]).toMatchObject({ error: expect.stringMatching(/lost 3 times/) });
  });

  it('cancels a job: live copies are told to stop and nothing more is dispatched', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2, 3, 4, 5, 6] });
    t.connect('a', 1);
    const held = t.dispatched(t.take());
    expect(t.scheduler.cancelJob('j', t.clock.now(), [])).toBe(true);
    const effects: Effect[] = [];
    t.scheduler.connect({ volunteerId: 'b', deviceId: 'db', slots: 2 }, t.clock.now(), effects);
    expect(t.dispatched(effects)).toEqual([]);
    expect(t.ok('a', held[0] as PlannedTask)).toBe('unknown-job');
  });

  it('tells the tabs holding other copies to stop once one copy commits', () => {
    const t = setup();
    t.addJob('j', { inputs: [2], redundancy: 1, timeoutMs: 100 });
    t.connect('a', 1);
    const [copyA] = t.dispatched(t.take());
    t.connect('b', 1);
    t.clock.advance(5_000);
    t.expire(); // copy A's lease ends; a second copy goes out
    const [second] = t.of(t.take(), 'dispatch');
    expect(second?.tasks.map((task) => task.taskIndex)).toEqual([0]);
    expect(t.ok('a', copyA as PlannedTask)).toBe('committed'); // the stale copy arrives first
    expect(t.of(t.take(), 'cancel')).toMatchObject([
      {
        volunteerId: second?.volunteerId,
        leaseIds: [second?.tasks[0]?.leaseId],
        reason: 'committed',
      },
    ]);
  });
});

describe('Scheduler redundancy', () => {
  it('runs copies on distinct devices and commits when enough agree', () => {
    const t = setup();
    t.addJob('j', { inputs: [3], redundancy: 2 });
    t.connect('a1', 2, { deviceId: 'A' });
    t.connect('a2', 2, { deviceId: 'A' }); // second tab of the same browser
    t.connect('b', 2, { deviceId: 'B' });
    const effects = t.take();
    const a = [...t.dispatched(effects, 'a1'), ...t.dispatched(effects, 'a2')];
    const b = t.dispatched(effects, 'b');
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    const owner = t.dispatched(effects, 'a1').length === 1 ? 'a1' : 'a2';
    expect(t.ok(owner, a[0] as PlannedTask)).toBe('voted');
    expect(t.ok('b', b[0] as PlannedTask)).toBe('committed');
  });

  it('does not let disagreeing results commit alone', () => {
    const t = setup();
    t.addJob('j', { inputs: [3], redundancy: 2 });
    t.connect('a', 1, { deviceId: 'A' });
    t.connect('b', 1, { deviceId: 'B' });
    const effects = t.take();
    expect(t.ok('a', t.dispatched(effects, 'a')[0] as PlannedTask, [9])).toBe('voted');
    expect(t.ok('b', t.dispatched(effects, 'b')[0] as PlannedTask, [10])).toBe('voted');
    t.connect('c', 1, { deviceId: 'C' });
    const third = t.dispatched(t.take(), 'c');
    expect(third).toHaveLength(1);
    expect(t.ok('c', third[0] as PlannedTask, [9])).toBe('committed');
  });
});

describe('Scheduler redundancy without agreement', () => {
  /** Runs copies on fresh devices, answering with `answers` in turn, until the task settles. */
  function vote(redundancy: number, maxAttempts: number, answers: number[]) {
    const t = setup();
    t.addJob('j', { inputs: [3], redundancy, maxAttempts, speculation: false });
    const verdicts: string[] = [];
    answers.forEach((answer, i) => {
      const id = `v${i}`;
      t.connect(id, 1, { deviceId: `D${i}` });
      const [task] = t.dispatched(t.take(), id);
      if (task) verdicts.push(t.ok(id, task, [answer]));
    });
    return { t, verdicts };
  }

  it.each<[string, number, number, number[], string[]]>([
    ['two agree at once', 2, 3, [9, 9], ['voted', 'committed']],
    ['a tie is broken by a third copy', 2, 3, [9, 10, 9], ['voted', 'voted', 'committed']],
    [
      'no majority after maxAttempts extra copies ends as an error',
      2,
      2,
      [9, 10, 11],
      ['voted', 'voted', 'failed'],
    ],
    [
      'a strict majority of the copies run commits',
      3,
      2,
      [9, 9, 10, 9],
      ['voted', 'voted', 'voted', 'committed'],
    ],
    ['an even split fails', 3, 2, [9, 9, 10, 10], ['voted', 'voted', 'voted', 'failed']],
  ])('%s', (_name, redundancy, maxAttempts, answers, expected) => {
    const { t, verdicts } = vote(redundancy, maxAttempts, answers);
    expect(verdicts).toEqual(expected);
    if (expected.at(-1) === 'failed') {
      const [settle] = t.of(t.take(), 'settle');
      expect(settle?.items[0]).toMatchObject({
        error: expect.stringMatching(/no majority among \d+ results/),
      });
    }
  });
});

describe('Scheduler adaptive trust', () => {
  type Harness = ReturnType<typeof setup>;

  /** Lets each tab answer everything it holds, round after round; returns every verdict. */
  function drive(
    t: Harness,
    answer: (volunteerId: string, task: PlannedTask) => number,
    rounds = 20,
  ) {
    const verdicts: Array<{ volunteerId: string; taskIndex: number; verdict: string }> = [];
    const effects: Effect[] = [];
    for (let round = 0; round < rounds; round++) {
      const taken = t.take();
      effects.push(...taken);
      const dispatches = t.of(taken, 'dispatch');
      if (dispatches.length === 0) break;
      for (const { volunteerId, tasks } of dispatches) {
        for (const task of tasks) {
          // Tasks of two seconds: each tab holds about one at a time.
          const verdict = t.ok(volunteerId, task, [answer(volunteerId, task)], 2_000);
          verdicts.push({ volunteerId, taskIndex: task.taskIndex, verdict });
        }
      }
    }
    effects.push(...t.take());
    return { verdicts, effects };
  }

  const square = (_id: string, task: PlannedTask) => (itemsOf(task)[0] as number) ** 2;

  it('lets devices that keep agreeing commit alone, so verification costs less than redundancy times', () => {
    const t = setup({ streakToTrust: 2 });
    t.addJob('j', {
      inputs: Array.from({ length: 200 }, (_, i) => i),
      redundancy: 2,
      adaptiveTrust: true,
      speculation: false,
    });
    t.connect('a', 1, { deviceId: 'A' });
    t.connect('b', 1, { deviceId: 'B' });
    const { verdicts } = drive(t, square, 400);
    const committed = verdicts.filter((v) => v.verdict === 'committed');
    expect(committed).toHaveLength(200);
    // Untrusted, every task took two results (400); trusted, most took one. The quorum is fixed
    // when a task is first dispatched, so the tasks sent before trust was earned still take two.
    expect(verdicts.length).toBeLessThan(260);
    expect(
      t.scheduler.devices
        .filter((device) => device.trusted)
        .map((device) => device.deviceId)
        .sort(),
    ).toEqual(['A', 'B']);
  });

  it('takes trust and every uncommitted result away from a device caught disagreeing', () => {
    const t = setup({ streakToTrust: 50 });
    t.addJob('j', { inputs: [1, 2], redundancy: 2, adaptiveTrust: true, speculation: false });
    t.connect('liar', 2, { deviceId: 'L' });
    const lies = t.dispatched(t.take(), 'liar');
    expect(lies).toHaveLength(2);
    for (const task of lies) expect(t.ok('liar', task, [666])).toBe('voted');
    t.connect('h1', 1, { deviceId: 'H1' });
    t.connect('h2', 1, { deviceId: 'H2' });
    const { verdicts, effects } = drive(t, square);
    expect(t.of(effects, 'distrust')).toMatchObject([{ deviceId: 'L', banned: false }]);
    // One verdict per task for the store, so every node learns it: the liar lost once.
    const judged = t.of(effects, 'judged');
    expect(judged.flatMap((effect) => effect.disagreed)).toEqual(['L']);
    expect(judged.flatMap((effect) => effect.agreed).sort()).toEqual(['H1', 'H1', 'H2', 'H2']);
    expect(t.scheduler.devices.find((device) => device.deviceId === 'L')).toMatchObject({
      disagreements: 1,
      trusted: false,
    });
    // Both tasks committed with the honest answer, each on two honest results: the liar's
    // pending vote on the other task was discarded rather than counted.
    const commits = verdicts.filter((v) => v.verdict === 'committed');
    expect(commits.map((v) => v.taskIndex).sort()).toEqual([0, 1]);
    expect(t.of(effects, 'settle').map((e) => e.items)).toEqual(
      expect.arrayContaining([[{ output: 1 }], [{ output: 4 }]]),
    );
    expect(verdicts.filter((v) => v.volunteerId !== 'liar')).toHaveLength(4);
  });

  it('holds a lowered quorum for the trusted device only: its lost copy re-run elsewhere needs agreement', () => {
    const t = setup({ streakToTrust: 1 });
    t.addJob('warmup', { inputs: [1], redundancy: 2, adaptiveTrust: true, speculation: false });
    t.connect('a', 1, { deviceId: 'A' });
    t.connect('b', 1, { deviceId: 'B' });
    drive(t, square);
    expect(t.scheduler.devices.find((device) => device.deviceId === 'A')?.trusted).toBe(true);
    t.scheduler.disconnect('b', t.clock.now(), []);
    t.addJob('j', { inputs: [5], redundancy: 2, adaptiveTrust: true, speculation: false });
    const [trustedCopy] = t.dispatched(t.take(), 'a');
    expect(trustedCopy?.jobId).toBe('j');
    t.disconnect('a'); // the trusted copy is lost
    t.take();
    t.connect('m', 1, { deviceId: 'M' });
    const [retry] = t.dispatched(t.take(), 'm');
    expect(t.ok('m', retry as PlannedTask, [666])).toBe('voted');
    // The task now needs agreement: another copy goes out, and the honest majority wins.
    t.connect('h', 1, { deviceId: 'H' });
    const [another] = t.dispatched(t.take(), 'h');
    expect(another?.taskIndex).toBe(0);
    expect(t.ok('h', another as PlannedTask)).toBe('voted');
  });

  it('bans a device: its tabs are dropped and its votes discarded', () => {
    const t = setup();
    t.addJob('j', { inputs: [1], redundancy: 2, speculation: false });
    t.connect('x', 1, { deviceId: 'X' });
    const [task] = t.dispatched(t.take(), 'x');
    expect(t.ok('x', task as PlannedTask)).toBe('voted');
    const effects: Effect[] = [];
    t.scheduler.ban('X', t.clock.now(), effects);
    expect(t.scheduler.isBanned('X')).toBe(true);
    expect(t.scheduler.getVolunteer('x')).toBeUndefined();
    expect(effects.filter((e) => e.type === 'distrust')).toMatchObject([
      { deviceId: 'X', banned: true },
    ]);
  });
});

describe('Scheduler restore', () => {
  it('re-queues only unsettled tasks and keeps their spent attempts', () => {
    const t = setup();
    const spec = JobSpec.parse({ map: '(x) => x', inputs: [1, 2, 3], maxAttempts: 2 });
    const effects: Effect[] = [];
    t.scheduler.restoreJob(
      {
        jobId: 'r',
        seq: 4,
        spec,
        status: 'running',
        createdAt: 0,
        startedAt: 1,
        settled: [{ taskIndex: 1, status: 'committed' }],
        attempts: [{ taskIndex: 2, attempts: 1, drops: 0 }],
      },
      t.clock.now(),
      effects,
    );
    t.connect('a', 4);
    const tasks = t.dispatched(t.take());
    // Tasks with state restored (attempts, a checkpoint) queue before untouched ones.
    expect(tasks.map((task) => task.taskIndex)).toEqual([2, 0]);
    expect(t.fail('a', tasks[0] as PlannedTask)).toBe('failed');
  });

  it('finishes at once a restored job whose tasks are all settled', () => {
    const t = setup();
    const effects: Effect[] = [];
    t.scheduler.restoreJob(
      {
        jobId: 'r',
        seq: 1,
        spec: JobSpec.parse({ map: '(x) => x', inputs: [1] }),
        status: 'running',
        createdAt: 0,
        settled: [{ taskIndex: 0, status: 'committed' }],
        attempts: [],
      },
      t.clock.now(),
      effects,
    );
    expect(effects.filter((e) => e.type === 'job')).toMatchObject([{ status: 'completed' }]);
    expect(t.scheduler.getJob('r')).toBeUndefined();
  });
});

describe('Scheduler progress and checkpoints', () => {
  it('keeps a copy that reports progress alive past timeoutMs and expires a silent one', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2], timeoutMs: 1_000, speculation: false });
    t.connect('a', 2);
    const [talker, silent] = t.dispatched(t.take());
    const start = [
      { leaseId: (talker as PlannedTask).leaseId, elapsedMs: 0 },
      { leaseId: (silent as PlannedTask).leaseId, elapsedMs: 0 },
    ];
    t.scheduler.progress('a', start, t.clock.now());
    for (let i = 1; i <= 4; i++) {
      t.clock.advance(900);
      t.scheduler.progress(
        'a',
        [{ leaseId: (talker as PlannedTask).leaseId, elapsedMs: i * 900, fraction: i / 5 }],
        t.clock.now(),
      );
      t.expire();
    }
    const cancels = t.of(t.take(), 'cancel').flatMap((c) => c.leaseIds);
    expect(cancels).toEqual([(silent as PlannedTask).leaseId]);
    expect(t.ok('a', talker as PlannedTask)).toBe('committed');
  });

  it("stops extending a copy that reports progress at the job's maxRuntimeMs", () => {
    const t = setup();
    t.addJob('j', { inputs: [1], timeoutMs: 1_000, maxRuntimeMs: 3_000, speculation: false });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    const leaseId = (task as PlannedTask).leaseId;
    t.scheduler.progress('a', [{ leaseId, elapsedMs: 0 }], t.clock.now());
    let expiredAt: number | undefined;
    for (let i = 1; i <= 12 && expiredAt === undefined; i++) {
      t.clock.advance(500);
      t.scheduler.progress('a', [{ leaseId, elapsedMs: i * 500, fraction: i / 20 }], t.clock.now());
      t.expire();
      if (t.of(t.take(), 'cancel').some((c) => c.leaseIds.includes(leaseId))) expiredAt = i * 500;
    }
    // maxRuntimeMs (3 s) plus the lease grace (1 s in this harness), despite progress every 0.5 s.
    expect(expiredAt).toBe(4_000);
  });

  it('ignores progress for a lease the tab does not hold', () => {
    const t = setup();
    t.addJob('j', { inputs: [1], timeoutMs: 1_000, speculation: false });
    t.connect('a', 1);
    const [task] = t.dispatched(t.take());
    t.connect('mallory', 1);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(900);
      t.scheduler.progress(
        'mallory',
        [{ leaseId: (task as PlannedTask).leaseId, elapsedMs: 0 }],
        t.clock.now(),
      );
    }
    t.expire();
    expect(t.of(t.take(), 'cancel').flatMap((c) => c.leaseIds)).toEqual([
      (task as PlannedTask).leaseId,
    ]);
  });

  it('hands the latest checkpoint to the next copy of the task', () => {
    const t = setup();
    t.addJob('j', { inputs: [1, 2, 3], chunkSize: 3, timeoutMs: 1_000, speculation: false });
    t.connect('a', 1);
    const [first] = t.dispatched(t.take());
    const checkpoint = { item: 1, state: { i: 42 }, done: [{ output: 1 }] };
    const report = {
      leaseId: (first as PlannedTask).leaseId,
      jobId: 'j',
      taskIndex: 0,
      checkpoint,
    };
    const effects: Effect[] = [];
    expect(t.scheduler.checkpoint('mallory', report, t.clock.now(), effects)).toBe(false);
    expect(t.scheduler.checkpoint('a', report, t.clock.now(), effects)).toBe(true);
    expect(effects).toMatchObject([{ type: 'checkpoint', taskIndex: 0, checkpoint }]);
    t.disconnect('a');
    t.connect('b', 1);
    const [next] = t.dispatched(t.take());
    expect(next?.checkpoint).toEqual(checkpoint);
  });
});

describe('Scheduler speculation', () => {
  /** Ten one-item tasks on four tabs; nine finish in 100 ms, the tenth's tab stalls. */
  function straggler(speculation: boolean) {
    const t = setup();
    t.addJob('j', {
      inputs: Array.from({ length: 10 }, (_, i) => i),
      timeoutMs: 60_000,
      speculation,
    });
    for (const id of ['a', 'b', 'c', 'slow']) t.connect(id, 1);
    const held = new Map<string, PlannedTask[]>();
    for (const dispatch of t.of(t.take(), 'dispatch'))
      held.set(dispatch.volunteerId, dispatch.tasks);
    const slowTask = (held.get('slow') as PlannedTask[])[0] as PlannedTask;
    t.scheduler.progress('slow', [{ leaseId: slowTask.leaseId, elapsedMs: 0 }], t.clock.now());
    t.clock.advance(100);
    // The fast tabs run everything else, reporting as they go.
    for (let round = 0; round < 10; round++) {
      const effects = t.take();
      for (const dispatch of t.of(effects, 'dispatch')) {
        held.set(dispatch.volunteerId, [
          ...(held.get(dispatch.volunteerId) ?? []),
          ...dispatch.tasks,
        ]);
      }
      for (const id of ['a', 'b', 'c']) {
        for (const task of held.get(id) ?? []) t.ok(id, task);
        held.set(id, []);
      }
    }
    for (const dispatch of t.of(t.take(), 'dispatch'))
      held.set(dispatch.volunteerId, dispatch.tasks);
    t.clock.advance(2_000);
    const effects: Effect[] = [];
    t.scheduler.speculate(t.clock.now(), effects);
    return { t, slowTask, effects };
  }

  it('backs up a straggling copy on another tab; the first result commits and the straggler is told to stop', () => {
    const { t, slowTask, effects } = straggler(true);
    const backups = t
      .of(effects, 'dispatch')
      .filter((d) => d.tasks.some((task) => task.taskIndex === slowTask.taskIndex));
    expect(backups).toHaveLength(1);
    const [backup] = backups;
    expect(backup?.volunteerId).not.toBe('slow');
    const copy = backup?.tasks.find((task) => task.taskIndex === slowTask.taskIndex) as PlannedTask;
    expect(t.ok(backup?.volunteerId as string, copy)).toBe('committed');
    const after = t.take();
    expect(t.of(after, 'cancel')).toMatchObject([
      { volunteerId: 'slow', leaseIds: [slowTask.leaseId], reason: 'committed' },
    ]);
    expect(t.of(after, 'copy-ended').find((e) => e.lease.leaseId === copy.leaseId)).toMatchObject({
      end: 'result',
      won: true,
      lease: { kind: 'backup' },
    });
    expect(t.of(after, 'job')).toMatchObject([{ status: 'completed' }]);
  });

  it('starts no backup when the job turns speculation off', () => {
    const { t, slowTask, effects } = straggler(false);
    const backups = t
      .of(effects, 'dispatch')
      .filter((d) => d.tasks.some((task) => task.taskIndex === slowTask.taskIndex));
    expect(backups).toEqual([]);
  });
});
