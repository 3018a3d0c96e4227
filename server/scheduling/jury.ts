/**
 * @module The jury: votes and the trust they earn; judging voters and bans have one owner.
 *
 * With adaptive trust, voters who agreed with what committed extend their run; the others lose
 * their trust and every vote they cast on open tasks. A banned device loses its votes too.
 */
import type { ItemOutcome } from '../../shared/job.ts';
import { Ballots } from './ballots.ts';
import type { Effect } from './effects.ts';
import type { JobEntry } from './state.ts';
import { DeviceTrust, type DeviceTrustView, type Standing, type TrustPolicy } from './trust.ts';
import { isOverflowId, voterOf } from './voters.ts';

/** A result whose tab left votes as its lease (see `cast`): no device to judge. */
const LEASE_VOTER = 'lease:';

/** Whether a voter is a device whose standing every node keeps (overflow ids earn no trust). */
function keepsStanding(voter: string): boolean {
  return !voter.startsWith(LEASE_VOTER) && !isOverflowId(voter);
}

/** Takes back a voter's votes on open tasks (the scheduler gives those tasks another copy). */
export type Discard = (voter: string) => void;

export class Jury {
  readonly #ballots = new Ballots();
  readonly #trust: DeviceTrust;

  constructor(policy: TrustPolicy) {
    this.#trust = new DeviceTrust(policy);
  }

  /**
   * Records an answer; returns how many distinct voters agree with it. A result with no known
   * device (its tab left) votes as its lease, so it still counts once.
   */
  cast(
    job: JobEntry,
    taskIndex: number,
    items: ItemOutcome[],
    voter: { deviceId: string | undefined; leaseId: string; address: string | undefined },
  ): number {
    const id =
      voter.deviceId === undefined ? `${LEASE_VOTER}${voter.leaseId}` : voterOf(voter.deviceId);
    return this.#ballots.cast(job, taskIndex, items, id, voter.address);
  }

  /** Agreeing answers a task whose first copy goes to this device needs (adaptive trust). */
  quorumFor(deviceId: string, redundancy: number, random: () => number): number {
    return this.#trust.quorumFor(deviceId, redundancy, random);
  }

  /** Closes the ballot of a task that ended without a verdict (its job was cancelled). */
  dismiss(job: JobEntry, taskIndex: number): void {
    this.#ballots.close(job, taskIndex, undefined);
  }

  /** Closes a settled task's ballot and judges its voters against what committed. */
  judge(
    job: JobEntry,
    taskIndex: number,
    winner: ItemOutcome[] | undefined,
    discard: Discard,
    effects: Effect[],
  ): void {
    const { agreed, disagreed } = this.#ballots.close(job, taskIndex, winner);
    if (!job.spec.adaptiveTrust) return;
    for (const deviceId of agreed) this.#trust.agreed(deviceId);
    for (const deviceId of disagreed) {
      this.#trust.disagreed(deviceId);
      discard(deviceId);
      effects.push({ type: 'distrust', deviceId, banned: false });
    }
    const judged = {
      type: 'judged' as const,
      agreed: agreed.filter(keepsStanding),
      disagreed: disagreed.filter(keepsStanding),
    };
    if (judged.agreed.length + judged.disagreed.length > 0) effects.push(judged);
  }

  /** The device's standing as stored (every node's verdicts); see `DeviceTrust.learn`. */
  learn(deviceId: string, stored: Standing): void {
    this.#trust.learn(deviceId, stored);
  }

  /** Another node caught the device disagreeing; returns whether this node knows it. */
  endStreak(deviceId: string): boolean {
    return this.#trust.endStreak(deviceId);
  }

  /** Takes back every vote `voter` cast on open tasks; returns those tasks. */
  takeBack(
    voter: string,
    jobs: (jobId: string) => JobEntry | undefined,
  ): Array<{ job: JobEntry; taskIndex: number }> {
    return this.#ballots.takeBack(voter, jobs);
  }

  /** Bans a device and discards its open votes; the scheduler drops its tabs. */
  ban(deviceId: string, discard: Discard): void {
    this.#trust.ban(deviceId);
    // An overflow id votes as its address (voters.ts): those votes may be the banned tab's.
    discard(voterOf(deviceId));
  }

  unban(deviceId: string): boolean {
    return this.#trust.unban(deviceId);
  }

  isBanned(deviceId: string): boolean {
    return this.#trust.isBanned(deviceId);
  }

  view(): DeviceTrustView[] {
    return this.#trust.view();
  }
}
