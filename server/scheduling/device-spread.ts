/**
 * @module Spreading a task over devices, so that one untrusted device cannot decide its fate
 * alone. A device that failed a task (an error report or a timeout), or already runs a copy of
 * it, gets its next copy only when no other device could take it; and its repeated failures cost
 * the task nothing while another device could. Pure state and rules; the scheduler applies them.
 *
 * Why: failures are reports, and a device may report anything. Without this, one device that
 * answers every copy with `{ status: 'error' }` was handed each retry straight back (it held no
 * vote, so nothing made it ineligible) and failed a job in milliseconds while honest tabs were
 * connected. With it, such a device spends at most one attempt of each task and the retry goes
 * elsewhere; a task is given up only once its failures come from two devices, or when no other
 * device is there to try (a lone tab whose map throws still ends after `maxAttempts`, as before).
 */
import type { Lease, TaskEntry } from './state.ts';

/** What a failure of one copy does to its task. */
export interface FailureVerdict {
  /** Counts against the task's `maxAttempts`. */
  charged: boolean;
  /** The task ends as an error now. */
  giveUp: boolean;
}

export interface FailureFacts {
  /** The failing device had already failed this task. */
  failedBefore: boolean;
  /** Distinct devices that have failed this task, this one included. */
  failedDevices: number;
  /** Failed attempts charged before this one. */
  attempts: number;
  maxAttempts: number;
  /** A working tab of a device that neither failed nor runs this task is connected. */
  othersCanTake: boolean;
}

/**
 * The rule: a device's first failure of a task is charged, as any failure always was; its
 * repeats are charged only when no other device could take the task. The task is given up when
 * its attempts are spent and either two devices failed it or nobody else can try.
 *
 * @example decideFailure({ failedBefore: true, failedDevices: 1, attempts: 1, maxAttempts: 3, othersCanTake: true }) // { charged: false, giveUp: false }
 */
export function decideFailure(facts: FailureFacts): FailureVerdict {
  const charged = !facts.failedBefore || !facts.othersCanTake;
  const attempts = facts.attempts + (charged ? 1 : 0);
  const corroborated = facts.failedDevices >= 2 || !facts.othersCanTake;
  return { charged, giveUp: attempts >= facts.maxAttempts && corroborated };
}

/**
 * Records that `deviceId` failed a copy of `task` and applies `decideFailure`, counting the
 * attempt on the task when charged. `othersCanTake` is asked after the device is recorded.
 */
export function recordFailure(
  task: TaskEntry,
  deviceId: string,
  maxAttempts: number,
  othersCanTake: () => boolean,
): FailureVerdict {
  const failedDevices = (task.failedDevices ??= new Set());
  const failedBefore = failedDevices.has(deviceId);
  failedDevices.add(deviceId);
  const verdict = decideFailure({
    failedBefore,
    failedDevices: failedDevices.size,
    attempts: task.attempts,
    maxAttempts,
    othersCanTake: othersCanTake(),
  });
  if (verdict.charged) task.attempts++;
  return verdict;
}

/** Devices that failed, run or voted on a task: the ones its next copy should avoid. */
export function devicesOn(
  task: TaskEntry,
  leaseOf: (leaseId: string) => Lease | undefined,
): Set<string> {
  const devices = new Set(task.failedDevices);
  for (const leaseId of task.leases) {
    const holder = leaseOf(leaseId);
    if (holder) devices.add(holder.deviceId);
  }
  for (const vote of task.votes?.values() ?? []) for (const d of vote.devices) devices.add(d);
  return devices;
}

/**
 * Connected devices with room to work (a tab with slots > 0), per grid ('' is the public pool),
 * counted by tabs. Invariant: a tab is counted at most once, where its last `set` put it.
 */
export class DeviceCensus {
  readonly #byGrid = new Map<string, Map<string, number>>();
  readonly #tabs = new Map<string, { grid: string; deviceId: string }>();

  /** Records a tab's current grid, device and slots (a paused tab counts for nothing). */
  set(tab: { volunteerId: string; deviceId: string; grid?: string; slots: number }): void {
    this.delete(tab.volunteerId);
    if (tab.slots <= 0) return;
    const grid = tab.grid ?? '';
    let devices = this.#byGrid.get(grid);
    if (!devices) this.#byGrid.set(grid, (devices = new Map()));
    devices.set(tab.deviceId, (devices.get(tab.deviceId) ?? 0) + 1);
    this.#tabs.set(tab.volunteerId, { grid, deviceId: tab.deviceId });
  }

  delete(volunteerId: string): void {
    const counted = this.#tabs.get(volunteerId);
    if (!counted) return;
    this.#tabs.delete(volunteerId);
    const devices = this.#byGrid.get(counted.grid) as Map<string, number>;
    const left = (devices.get(counted.deviceId) ?? 1) - 1;
    if (left > 0) devices.set(counted.deviceId, left);
    else devices.delete(counted.deviceId);
    if (devices.size === 0) this.#byGrid.delete(counted.grid);
  }

  /** Whether a working device of `grid` outside `excluded` is connected. O(|excluded|). */
  hasOtherDevice(grid: string | undefined, excluded: ReadonlySet<string>): boolean {
    const devices = this.#byGrid.get(grid ?? '');
    if (!devices) return false;
    let present = 0;
    for (const deviceId of excluded) if (devices.has(deviceId)) present++;
    return devices.size > present;
  }
}
