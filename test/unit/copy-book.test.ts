import { describe, expect, it } from 'vitest';
import { CopyBook, copyKind } from '../../server/scheduling/copy-book.ts';
import type { Effect } from '../../server/scheduling/effects.ts';
import { newJobEntry } from '../../server/scheduling/job-entry.ts';
import { inlineInputs } from '../../server/jobs/inline-inputs.ts';
import type { JobEntry, Lease, VolunteerEntry } from '../../server/scheduling/state.ts';
import { JobSpec, type JobSpecInput } from '../../shared/job.ts';
import { FakeClock } from '../support/fake-clock.ts';

const GRACE_MS = 1_000;

function setup(spec: Partial<JobSpecInput> = {}) {
  const clock = new FakeClock();
  const parsed = JobSpec.parse({
    map: '(x) => x',
    inputs: [1, 2, 3, 4, 5, 6],
    chunkSize: 1,
    timeoutMs: 10_000,
    ...spec,
  });
  const job = newJobEntry('job-1', 1, parsed, 'running', clock.now(), inlineInputs(parsed.inputs));
  const jobs = new Map<string, JobEntry>([[job.jobId, job]]);
  const tabs = new Map<string, VolunteerEntry>();
  const freed: string[] = [];
  let counter = 0;
  const book = new CopyBook(
    {
      leaseGraceMs: GRACE_MS,
      leaseIds: { issue: () => `L${++counter}`, verify: () => false },
    },
    {
      jobOf: (jobId) => jobs.get(jobId),
      tabOf: (volunteerId) => tabs.get(volunteerId),
      freed: (volunteerId) => freed.push(volunteerId),
    },
  );
  const tab = (volunteerId: string, slots = 1): VolunteerEntry => {
    const entry: VolunteerEntry = {
      volunteerId,
      deviceId: `device-${volunteerId}`,
      slots,
      leases: new Set(),
      heldBytes: 0,
      knownJobs: new Set(),
      tasksDone: 0,
      cpuMs: 0,
    };
    tabs.set(volunteerId, entry);
    return entry;
  };
  /** Every index that says a copy is live agrees with the book's own `get`. */
  const liveEverywhere = (lease: Lease): boolean[] => {
    const task = job.tasks.at(lease.taskIndex);
    return [
      book.get(lease.leaseId) !== undefined,
      task?.leases.includes(lease.leaseId) ?? false,
      tabs.get(lease.volunteerId)?.leases.has(lease.leaseId) ?? false,
      book.liveCopies(job).includes(lease),
    ];
  };
  /** Whether expiring at the copy's deadline ends it: the heap holds a live entry for it. */
  const expiresAtDeadline = (lease: Lease): boolean => {
    const effects: Effect[] = [];
    return [...book.expire(lease.deadline, effects)].includes(lease);
  };
  return { clock, job, book, tab, freed, liveEverywhere, expiresAtDeadline };
}

describe('CopyBook', () => {
  it('indexes an issued copy in every place that says it is live, and counts its task as running', () => {
    const { clock, job, book, tab, liveEverywhere } = setup();
    const alice = tab('alice');
    const lease = book.issue(job, 2, alice, 'first', clock.now());
    expect(liveEverywhere(lease)).toEqual([true, true, true, true]);
    expect(job.inFlight).toBe(1);
    expect([...job.running]).toEqual([2]);
    expect(alice.heldBytes).toBe(lease.bytes);
    expect(job.tasks.at(2)?.copies).toBe(1);
    expect(book.nextDeadline()).toBe(lease.deadline);
  });

  it('forgets a dropped copy everywhere, and dropping it again changes nothing and reports nothing', () => {
    const { clock, job, book, tab, freed, liveEverywhere } = setup();
    const alice = tab('alice');
    const lease = book.issue(job, 0, alice, 'first', clock.now());
    const effects: Effect[] = [];
    book.drop(lease, 'error', clock.now(), effects);
    expect(liveEverywhere(lease)).toEqual([false, false, false, false]);
    expect(job.inFlight).toBe(0);
    expect(job.running.size).toBe(0);
    expect(alice.heldBytes).toBe(0);
    expect(freed).toEqual(['alice']);
    expect(effects.map((effect) => effect.type)).toEqual(['copy-ended']);

    book.drop(lease, 'error', clock.now(), effects);
    expect(effects).toHaveLength(1);
    expect(freed).toEqual(['alice']);
    expect(job.inFlight).toBe(0);
    expect(alice.heldBytes).toBe(0);
  });

  it('keeps a task running until its last live copy is dropped', () => {
    const { clock, job, book, tab } = setup({ redundancy: 2 });
    const first = book.issue(job, 0, tab('alice'), 'replica', clock.now());
    const second = book.issue(job, 0, tab('bob'), 'replica', clock.now());
    expect(job.inFlight).toBe(1);
    book.drop(first, 'result', clock.now(), []);
    expect(job.inFlight).toBe(1);
    expect(job.running.has(0)).toBe(true);
    book.drop(second, 'result', clock.now(), []);
    expect(job.inFlight).toBe(0);
    expect(job.running.has(0)).toBe(false);
  });

  it('expires a live copy at its deadline and never a dropped one', () => {
    const { clock, job, book, tab, expiresAtDeadline } = setup();
    const alice = tab('alice');
    const dropped = book.issue(job, 1, tab('bob'), 'first', clock.now());
    const live = book.issue(job, 0, alice, 'first', clock.advance(1));
    book.drop(dropped, 'released', clock.now(), []);
    expect(expiresAtDeadline(dropped)).toBe(false);
    expect(expiresAtDeadline(live)).toBe(true);
    expect(book.get(live.leaseId)).toBeUndefined();
    expect(alice.leases.size).toBe(0);
  });

  it('tells the tab to stop an expired copy, after the copy ended', () => {
    const { clock, job, book, tab } = setup();
    const lease = book.issue(job, 0, tab('alice'), 'first', clock.now());
    clock.advance(lease.deadline - clock.now());
    const effects: Effect[] = [];
    expect([...book.expire(clock.now(), effects)]).toEqual([lease]);
    expect(effects).toMatchObject([
      { type: 'copy-ended', end: 'expired', lease },
      { type: 'cancel', volunteerId: 'alice', leaseIds: [lease.leaseId], reason: 'expired' },
    ]);
  });

  it('does not expire a copy whose deadline progress pushed back, until the new deadline', () => {
    const { clock, job, book, tab } = setup({ timeoutMs: 10_000 });
    const lease = book.issue(job, 0, tab('alice'), 'first', clock.now());
    const firstDeadline = lease.deadline;
    clock.advance(8_000);
    book.progress(lease, job, 7_000, 0.5, clock.now());
    expect(lease.startedAt).toBe(clock.now() - 7_000);
    expect(lease.fraction).toBe(0.5);
    expect(lease.deadline).toBe(clock.now() + 10_000 + GRACE_MS);
    expect([...book.expire(firstDeadline, [])]).toEqual([]);
    expect(book.get(lease.leaseId)).toBe(lease);
    expect([...book.expire(lease.deadline, [])]).toEqual([lease]);
  });

  it('never extends a copy past its runtime cap from its start', () => {
    const { clock, job, book, tab } = setup({ timeoutMs: 10_000, maxRuntimeMs: 15_000 });
    const lease = book.issue(job, 0, tab('alice'), 'first', clock.now());
    const start = clock.now();
    clock.advance(9_000);
    book.extend(lease, job, clock.now());
    expect(lease.deadline).toBe(start + 15_000 + GRACE_MS);
  });

  it('gives a copy queued behind others in its tab one timeout per copy ahead, within the cap', () => {
    const { clock, job, book, tab } = setup({ timeoutMs: 10_000, maxRuntimeMs: 25_000 });
    const alice = tab('alice', 1);
    const now = clock.now();
    const deadlines = [0, 1, 2, 3].map((i) => book.issue(job, i, alice, 'first', now).deadline);
    expect(deadlines).toEqual([
      now + 10_000 + GRACE_MS,
      now + 20_000 + GRACE_MS,
      now + 25_000 + GRACE_MS,
      now + 25_000 + GRACE_MS,
    ]);
  });

  it('ends every copy of a settled task with one cancel per tab and leaves nothing to expire', () => {
    const { clock, job, book, tab, expiresAtDeadline } = setup({ redundancy: 2 });
    const a = book.issue(job, 0, tab('alice'), 'replica', clock.now());
    const b = book.issue(job, 0, tab('bob'), 'replica', clock.now());
    const effects: Effect[] = [];
    book.endAll(job.tasks.at(0)!, 'committed', clock.now(), effects);
    expect(book.size).toBe(0);
    expect(effects.filter((effect) => effect.type === 'cancel')).toEqual([
      { type: 'cancel', volunteerId: 'alice', leaseIds: [a.leaseId], reason: 'committed' },
      { type: 'cancel', volunteerId: 'bob', leaseIds: [b.leaseId], reason: 'committed' },
    ]);
    expect(expiresAtDeadline(a) || expiresAtDeadline(b)).toBe(false);
  });

  it('stops yielding an expired copy that charging an earlier one already ended', () => {
    const { clock, job, book, tab } = setup({ redundancy: 2 });
    const a = book.issue(job, 0, tab('alice'), 'replica', clock.now());
    const b = book.issue(job, 0, tab('bob'), 'replica', clock.now());
    const seen: Lease[] = [];
    for (const lease of book.expire(Math.max(a.deadline, b.deadline), [])) {
      seen.push(lease);
      // The task gave up on the first expiry: its other copy ends with it.
      book.endAll(job.tasks.at(0)!, 'committed', clock.now(), []);
    }
    expect(seen).toHaveLength(1);
  });

  it('lists only live copies of a tab that left, and holds nothing for it once forgotten', () => {
    const { clock, job, book, tab } = setup();
    const alice = tab('alice', 2);
    const kept = book.issue(job, 0, alice, 'first', clock.now());
    const gone = book.issue(job, 1, alice, 'first', clock.now());
    book.drop(gone, 'released', clock.now(), []);
    expect([...book.heldBy(alice)]).toEqual([kept]);
    book.forgetTab(alice);
    expect([...book.heldBy(alice)]).toEqual([]);
  });

  it('holds the copy-is-live-everywhere invariant through a random run of issues, drops and expiries', () => {
    const { clock, job, book, tab, liveEverywhere } = setup({
      inputs: Array.from({ length: 40 }, (_, i) => i),
      redundancy: 3,
    });
    const tabs = ['a', 'b', 'c', 'd'].map((id) => tab(id, 2));
    const issued: Lease[] = [];
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let step = 0; step < 500; step++) {
      const roll = next();
      if (roll < 0.5) {
        const taskIndex = Math.floor(next() * 40);
        const holder = tabs[Math.floor(next() * tabs.length)]!;
        const task = job.tasks.at(taskIndex)!;
        issued.push(
          book.issue(
            job,
            taskIndex,
            holder,
            copyKind(job, task),
            clock.advance(Math.floor(next() * 3_000)),
          ),
        );
      } else if (roll < 0.8 && issued.length > 0) {
        book.drop(issued[Math.floor(next() * issued.length)]!, 'error', clock.now(), []);
      } else {
        [...book.expire(clock.advance(Math.floor(next() * 5_000)), [])];
      }
      for (const lease of issued) {
        const views = liveEverywhere(lease);
        expect(views.every((view) => view === views[0])).toBe(true);
      }
      const live = issued.filter((lease) => book.get(lease.leaseId));
      expect(book.size).toBe(live.length);
      expect(job.inFlight).toBe(new Set(live.map((lease) => lease.taskIndex)).size);
      expect(job.running.size).toBe(job.inFlight);
      for (const holder of tabs) {
        const held = live.filter((lease) => lease.volunteerId === holder.volunteerId);
        expect(holder.heldBytes).toBe(held.reduce((sum, lease) => sum + lease.bytes, 0));
      }
      const earliest = Math.min(...live.map((lease) => lease.deadline));
      if (live.length > 0) expect(book.nextDeadline()).toBeLessThanOrEqual(earliest);
    }
  });
});
