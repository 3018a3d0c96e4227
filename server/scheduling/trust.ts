/**
 * @module Adaptive trust, after BOINC's adaptive replication. A device that has returned a run of
 * results its peers agreed with is trusted: its copies of adaptive jobs' tasks commit alone, but
 * for a spot-checked share that still needs the job's full redundancy. A device caught
 * disagreeing loses its trust (and the scheduler discards its uncommitted results). Pure state;
 * the randomness of spot checks is injected.
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

/** A device's standing; the engine adds its live tabs to make the admin's `DeviceView`. */
export type DeviceTrustView = Omit<DeviceView, 'tabs'>;

interface DeviceRecord {
  streak: number;
  disagreements: number;
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
    return record !== undefined && !record.banned && record.streak >= this.#policy.streakToTrust;
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
    return wasTrusted;
  }

  ban(deviceId: string): void {
    const record = this.#record(deviceId);
    record.banned = true;
    record.streak = 0;
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
    }));
  }

  #record(deviceId: string): DeviceRecord {
    let record = this.#devices.get(deviceId);
    if (!record)
      this.#devices.set(deviceId, (record = { streak: 0, disagreements: 0, banned: false }));
    return record;
  }
}
