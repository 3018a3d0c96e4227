/**
 * @module Adaptive trust, after BOINC's adaptive replication. A device that has returned a run of
 * results its peers agreed with is trusted: its copies of adaptive jobs' tasks commit alone, but
 * for a spot-checked share that still needs the job's full redundancy. A device caught
 * disagreeing loses its trust (and the scheduler discards its uncommitted results). Pure state;
 * the randomness of spot checks is injected.
 *
 * With several nodes, each keeps the standings of the devices it sees and learns the stored one
 * (every node's verdicts) when a device's tab arrives, or another node caught it disagreeing. Both
 * counts undercount the truth: this node's lacks the others' verdicts, the store's lacks this
 * node's not yet written. So within one streak (the same number of resets) the larger is kept;
 * a streak with more resets behind it is newer and replaces the other whatever its length.
 */
import type { DeviceView } from '../../shared/devices.ts';
import { isOverflowId } from './voters.ts';

export interface TrustPolicy {
  /** Agreeing results in a row before a device is trusted. */
  streakToTrust: number;
  /** Share of a trusted device's tasks still checked with full redundancy. */
  spotCheckRate: number;
}

export const DEFAULT_TRUST: TrustPolicy = { streakToTrust: 10, spotCheckRate: 0.1 };

/** A device's standing: agreeing results in a row, how many lost, and streaks ended. */
export interface Standing {
  streak: number;
  disagreements: number;
  /** Times the streak ended (disagreements and bans): which of two streaks is the newer. */
  resets: number;
}

/**
 * A device's standing; the engine adds its live tabs to make the admin's `DeviceView` (`resets`
 * lets it merge a stored standing the same way this node does).
 */
export type DeviceTrustView = Omit<DeviceView, 'tabs'> & { resets: number };

/** The standing that holds once `known` learns `stored` (see the module comment). */
export function mergeStanding(known: Standing, stored: Standing): Standing {
  if (stored.resets > known.resets) return stored;
  if (stored.resets < known.resets) return known;
  return { ...known, streak: Math.max(known.streak, stored.streak) };
}

/** Whether a device of this standing commits alone (but for spot checks). */
export function isTrustedStanding(
  standing: Standing & { banned: boolean },
  policy: TrustPolicy,
): boolean {
  return !standing.banned && standing.streak >= policy.streakToTrust;
}

interface DeviceRecord extends Standing {
  banned: boolean;
}

export class DeviceTrust {
  readonly #policy: TrustPolicy;
  readonly #devices = new Map<string, DeviceRecord>();

  constructor(policy: TrustPolicy = DEFAULT_TRUST) {
    this.#policy = policy;
  }

  isTrusted(deviceId: string): boolean {
    const record = this.#devices.get(deviceId);
    return record !== undefined && isTrustedStanding(record, this.#policy);
  }

  isBanned(deviceId: string): boolean {
    return this.#devices.get(deviceId)?.banned ?? false;
  }

  /** How many agreeing results a task first given to this device needs. */
  quorumFor(deviceId: string, redundancy: number, random: () => number): number {
    return this.isTrusted(deviceId) && random() >= this.#policy.spotCheckRate ? 1 : redundancy;
  }

  /** The device's result matched the one that committed. Overflow ids never earn trust. */
  agreed(deviceId: string): void {
    if (isOverflowId(deviceId)) return;
    this.#record(deviceId).streak++;
  }

  /** The device's result lost a vote; returns whether it was trusted until now. */
  disagreed(deviceId: string): boolean {
    const wasTrusted = this.isTrusted(deviceId);
    const record = this.#record(deviceId);
    record.streak = 0;
    record.disagreements++;
    record.resets++;
    return wasTrusted;
  }

  /** The device's standing as stored, with every node's verdicts: kept where it is newer. */
  learn(deviceId: string, stored: Standing): void {
    const record = this.#record(deviceId);
    const merged = mergeStanding(record, stored);
    record.streak = merged.streak;
    record.disagreements = merged.disagreements;
    record.resets = merged.resets;
  }

  /**
   * Another node caught the device disagreeing: its streak ends here at once, before the stored
   * standing (which counts the disagreement) is read. A device this node never saw has nothing.
   */
  endStreak(deviceId: string): boolean {
    const record = this.#devices.get(deviceId);
    if (record) record.streak = 0;
    return record !== undefined;
  }

  ban(deviceId: string): void {
    const record = this.#record(deviceId);
    record.banned = true;
    record.streak = 0;
    record.resets++;
  }

  unban(deviceId: string): boolean {
    const record = this.#devices.get(deviceId);
    if (!record?.banned) return false;
    record.banned = false;
    return true;
  }

  view(): DeviceTrustView[] {
    return [...this.#devices].map(([deviceId, record]) => ({
      deviceId,
      streak: record.streak,
      trusted: this.isTrusted(deviceId),
      disagreements: record.disagreements,
      banned: record.banned,
      resets: record.resets,
    }));
  }

  #record(deviceId: string): DeviceRecord {
    let record = this.#devices.get(deviceId);
    if (!record)
      this.#devices.set(
        deviceId,
        (record = { streak: 0, disagreements: 0, resets: 0, banned: false }),
      );
    return record;
  }
}
