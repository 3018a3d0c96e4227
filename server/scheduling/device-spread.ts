/**
 * @module Spreading a task over devices and addresses, so that one untrusted device, or every
 * device id one address holds, cannot decide a task's fate alone. This file owns two rules and
 * the counters they keep on a task: who may take a copy (`mayTake`), and what a failure or a
 * lost copy costs (`recordFailure`, `recordDrop`, the only writers of `attempts` and `drops`).
 *
 * Why: failures are reports, and a device may report anything. One device answering every copy
 * with `{ status: 'error' }` was handed each retry straight back and failed a job in
 * milliseconds; later, an idle one failed a task an honest tab was running through end-game
 * backups, and three ids from one address failed tasks by each failing once. Now:
 *
 * - Copies go first to devices at addresses that have not failed the task, then to any device
 *   that neither failed it nor holds a copy; a device that failed it or holds a copy is the last
 *   resort. A device that failed it never gets a copy while another copy is live, nor more than
 *   `maxAttempts` while a device elsewhere stands: the task then waits for that device (or a
 *   new one) instead of looping on the failing one.
 * - A failure is charged when its address had not failed the task before, or when no device at
 *   another address that has not failed could try. The task is given up when its charged
 *   attempts reach `maxAttempts` and either two addresses failed it or nobody elsewhere could
 *   try. A device running a copy or having voted counts as able to try. A lone tab whose map
 *   throws still ends after `maxAttempts`, and so does a lab behind one address.
 * - Drops are charged the same way: a copy lost with its tab counts toward `maxDrops` when its
 *   address had neither dropped nor failed the task before, or when no device at an untried
 *   address stands (its own seat has left by then). Addresses that dropped the task are the last
 *   resort for its retries, as failed ones are. Before, any visitor could fail tasks by taking
 *   copies in fresh tabs and closing them; a lone tab that keeps crashing still ends the task.
 */
import { hasVoted } from './ballots.ts';
import { seatAddress, type DeviceCensus } from './device-census.ts';
import type { Effect } from './effects.ts';
import type { JobEntry, Lease, TaskEntry } from './state.ts';
import { voterOf } from './voters.ts';

/** What device-spread reads of the scheduler's state. */
export interface SpreadView {
  census: DeviceCensus;
  leaseOf(leaseId: string): Lease | undefined;
}

/** The tab asking for a copy, or the copy that failed. */
export interface Seat {
  volunteerId: string;
  deviceId: string;
  address?: string;
}

/** What a failure of one copy does to its task. */
export interface FailureVerdict {
  /** Counts against the task's `maxAttempts`. */
  charged: boolean;
  /** The task ends as an error now. */
  giveUp: boolean;
}

export interface FailureFacts {
  /** The failing copy's address had not failed this task before. */
  newAddress: boolean;
  /** Distinct addresses that have failed this task, this one included. */
  failedAddresses: number;
  /** Failed attempts charged before this one. */
  attempts: number;
  maxAttempts: number;
  /** A working device that has not failed the task, at an address that has not, is connected. */
  othersStand: boolean;
}

/**
 * The charging rule (see the module comment).
 *
 * @example decideFailure({ newAddress: false, failedAddresses: 1, attempts: 1, maxAttempts: 3, othersStand: true }) // { charged: false, giveUp: false }
 */
export function decideFailure(facts: FailureFacts): FailureVerdict {
  const charged = facts.newAddress || !facts.othersStand;
  const attempts = facts.attempts + (charged ? 1 : 0);
  const corroborated = facts.failedAddresses >= 2 || !facts.othersStand;
  return { charged, giveUp: attempts >= facts.maxAttempts && corroborated };
}

/**
 * Records that the copy held by `failed` failed, charges it by `decideFailure` and persists the
 * spent attempts. Returns whether the task ends now.
 */
export function recordFailure(
  job: JobEntry,
  taskIndex: number,
  failed: Seat,
  view: SpreadView,
  effects: Effect[],
): boolean {
  const task = job.tasks.at(taskIndex) as TaskEntry;
  const voter = voterOf(failed.deviceId);
  const address = seatAddress(voter, failed.address);
  const failedDevices = (task.failedDevices ??= new Map());
  const failedAddresses = (task.failedAddresses ??= new Set());
  const newAddress = !failedAddresses.has(address);
  failedDevices.set(voter, (failedDevices.get(voter) ?? 0) + 1);
  failedAddresses.add(address);
  const verdict = decideFailure({
    newAddress,
    failedAddresses: failedAddresses.size,
    attempts: task.attempts,
    maxAttempts: job.spec.maxAttempts,
    othersStand: othersStand(job, task, view),
  });
  if (verdict.charged) {
    task.attempts++;
    persistAttempts(job, taskIndex, effects);
  }
  return verdict.giveUp;
}

/**
 * Records that the copy held by `dropped` was lost with its tab (its seat already left the
 * census), charges it by the drop rule (see the module comment) and persists the charged drops.
 * Returns why the task ends now, or undefined while it goes on.
 */
export function recordDrop(
  job: JobEntry,
  dropped: Seat & { taskIndex: number },
  maxDrops: number,
  view: SpreadView,
  effects: Effect[],
): string | undefined {
  const { taskIndex } = dropped;
  const task = job.tasks.at(taskIndex) as TaskEntry;
  const address = seatAddress(voterOf(dropped.deviceId), dropped.address);
  const droppedAddresses = droppedAddressesOf(task);
  const repeat = droppedAddresses.has(address) || (task.failedAddresses?.has(address) ?? false);
  droppedAddresses.add(address);
  if (repeat && untriedStand(job, task, view)) return undefined;
  task.drops++;
  persistAttempts(job, taskIndex, effects);
  return task.drops >= maxDrops ? `lost ${task.drops} times to departing tabs` : undefined;
}

/** Whether a copy of this task may go to this tab (see the module comment for the order). */
export function mayTake(job: JobEntry, task: TaskEntry, tab: Seat, view: SpreadView): boolean {
  const voter = voterOf(tab.deviceId);
  const address = seatAddress(voter, tab.address);
  const redundant = job.spec.redundancy > 1;
  // With `distinctAddresses`, copies and votes also need distinct remote addresses.
  const byAddress = redundant && job.spec.distinctAddresses;
  let holds = false;
  for (const leaseId of task.leases) {
    const holder = view.leaseOf(leaseId);
    if (!holder) continue;
    // Never two live copies in one tab; with redundancy, never two on one device.
    if (holder.volunteerId === tab.volunteerId) return false;
    const holderVoter = voterOf(holder.deviceId);
    if (holderVoter === voter) {
      if (redundant) return false;
      holds = true;
    }
    if (byAddress && seatAddress(holderVoter, holder.address) === address) return false;
  }
  if (redundant && hasVoted(task, voter, byAddress, tab.address)) return false;
  const failures = task.failedDevices?.get(voter);
  if (failures === undefined && !holds) {
    const tried =
      task.failedAddresses?.has(address) === true || DROPPED.get(task)?.has(address) === true;
    if (!tried) return true;
    return !canTakeCopy(job, task, view, true);
  }
  if (failures !== undefined) {
    // A backup beside a live copy would only let a failing device fail the task again.
    if (task.leases.length > 0) return false;
    // It has used its attempts; its failures cost nothing while others stand, so wait for them.
    if (failures >= job.spec.maxAttempts && othersStand(job, task, view)) return false;
  }
  return !canTakeCopy(job, task, view, false);
}

/**
 * Whether a working device that has not failed the task, at an address that has not, is
 * connected: one that runs it or voted on it counts. O(failed devices + failed addresses).
 */
function othersStand(job: JobEntry, task: TaskEntry, view: SpreadView): boolean {
  return view.census.hasSeatOutside(
    job.spec.grid,
    task.failedDevices?.keys() ?? [],
    task.failedAddresses ?? EMPTY,
  );
}

/**
 * Whether some connected device could take a copy without being the last resort: it has not
 * failed the task, holds no copy, has not voted, is not at a holder's or voter's address when
 * the job counts addresses, and with `untried` is not at an address that failed the task.
 */
function canTakeCopy(job: JobEntry, task: TaskEntry, view: SpreadView, untried: boolean): boolean {
  const redundant = job.spec.redundancy > 1;
  const byAddress = redundant && job.spec.distinctAddresses;
  // Scratch sets, reused: this runs for every last-resort check of a fill, and the scheduler is
  // single-threaded and never re-enters it.
  const devices = SCRATCH_DEVICES;
  const addresses = SCRATCH_ADDRESSES;
  devices.clear();
  addresses.clear();
  for (const voter of task.failedDevices?.keys() ?? []) devices.add(voter);
  if (untried) {
    for (const address of task.failedAddresses ?? []) addresses.add(address);
    for (const address of DROPPED.get(task) ?? []) addresses.add(address);
  }
  for (const leaseId of task.leases) {
    const holder = view.leaseOf(leaseId);
    if (!holder) continue;
    const voter = voterOf(holder.deviceId);
    devices.add(voter);
    if (byAddress) addresses.add(seatAddress(voter, holder.address));
  }
  if (redundant) {
    for (const vote of task.votes?.values() ?? []) {
      for (const voter of vote.devices) {
        devices.add(voter);
        if (byAddress) addresses.add(seatAddress(voter, vote.addresses.get(voter)));
      }
    }
  }
  return view.census.hasSeatOutside(job.spec.grid, devices, addresses);
}

/**
 * Whether a working device stands at an address that has neither failed nor dropped the task,
 * other than a device that failed it: one that runs it or voted on it counts.
 */
function untriedStand(job: JobEntry, task: TaskEntry, view: SpreadView): boolean {
  const addresses = SCRATCH_ADDRESSES;
  addresses.clear();
  for (const address of task.failedAddresses ?? []) addresses.add(address);
  for (const address of DROPPED.get(task) ?? []) addresses.add(address);
  return view.census.hasSeatOutside(job.spec.grid, task.failedDevices?.keys() ?? [], addresses);
}

/**
 * Addresses (`seatAddress`) whose tabs went away holding a copy of the task. Kept beside the
 * task rather than on it: not persisted, like `failedAddresses`, and gone with the task.
 */
const DROPPED = new WeakMap<TaskEntry, Set<string>>();

function droppedAddressesOf(task: TaskEntry): Set<string> {
  let addresses = DROPPED.get(task);
  if (!addresses) DROPPED.set(task, (addresses = new Set()));
  return addresses;
}

const EMPTY: ReadonlySet<string> = new Set();
const SCRATCH_DEVICES = new Set<string>();
const SCRATCH_ADDRESSES = new Set<string>();

/** Persists a task's spent attempts and drops, so a restart does not grant it new tries. */
function persistAttempts(job: JobEntry, taskIndex: number, effects: Effect[]): void {
  const { attempts, drops } = job.tasks.at(taskIndex) as TaskEntry;
  effects.push({ type: 'attempt', jobId: job.jobId, taskIndex, attempts, drops });
}
