/**
 * @module Votes on tasks that need agreeing results (redundancy): each distinct result, the
 * devices that returned it, and an index of the open tasks each device voted on, so a device
 * found lying can have every vote it cast taken back. Pure state.
 */
import type { ItemOutcome } from '../../shared/job.ts';
import { canonicalJson } from '../../shared/json-checks.ts';
import { seatAddress } from './device-census.ts';
import type { JobEntry, TaskEntry, Vote } from './state.ts';

export class Ballots {
  /** Open tasks each voter voted on, as `${jobId}\n${taskIndex}`. */
  readonly #openBy = new Map<string, Set<string>>();

  /** Records a vote; returns how many distinct voters now agree with it (see `countVoters`). */
  cast(
    job: JobEntry,
    taskIndex: number,
    items: ItemOutcome[],
    voter: string,
    address?: string,
  ): number {
    const task = job.tasks.at(taskIndex) as TaskEntry;
    const votes = (task.votes ??= new Map());
    const key = canonicalJson(items);
    const vote: Vote = votes.get(key) ?? {
      devices: new Set<string>(),
      addresses: new Map(),
      items,
    };
    votes.set(key, vote);
    vote.devices.add(voter);
    if (address !== undefined) vote.addresses.set(voter, address);
    let open = this.#openBy.get(voter);
    if (!open) this.#openBy.set(voter, (open = new Set()));
    open.add(`${job.jobId}\n${taskIndex}`);
    return countVoters(vote, job.spec.distinctAddresses);
  }

  /**
   * Closes a settled task's ballot; with the result that committed, says who voted for it and
   * who against.
   */
  close(
    job: JobEntry,
    taskIndex: number,
    winner: ItemOutcome[] | undefined,
  ): { agreed: string[]; disagreed: string[] } {
    const task = job.tasks.at(taskIndex) as TaskEntry;
    const agreed: string[] = [];
    const disagreed: string[] = [];
    if (!task.votes) return { agreed, disagreed };
    const winning = winner === undefined ? undefined : canonicalJson(winner);
    const key = `${job.jobId}\n${taskIndex}`;
    for (const [answer, vote] of task.votes) {
      for (const voter of vote.devices) {
        const open = this.#openBy.get(voter);
        open?.delete(key);
        if (open?.size === 0) this.#openBy.delete(voter);
        if (winning === undefined) continue;
        (answer === winning ? agreed : disagreed).push(voter);
      }
    }
    return { agreed, disagreed };
  }

  /** Takes back every vote `voter` cast on open tasks; returns those tasks. */
  takeBack(
    voter: string,
    jobs: (jobId: string) => JobEntry | undefined,
  ): Array<{ job: JobEntry; taskIndex: number }> {
    const open = this.#openBy.get(voter);
    this.#openBy.delete(voter);
    const touched: Array<{ job: JobEntry; taskIndex: number }> = [];
    for (const key of open ?? []) {
      const [jobId, index] = key.split('\n');
      const job = jobs(jobId as string);
      const task = job?.tasks.at(Number(index));
      if (!job || !task?.votes || task.status !== 'pending') continue;
      for (const [answer, vote] of task.votes) {
        vote.devices.delete(voter);
        vote.addresses.delete(voter);
        if (vote.devices.size === 0) task.votes.delete(answer);
      }
      touched.push({ job, taskIndex: Number(index) });
    }
    return touched;
  }
}

/**
 * Voters behind one answer: distinct devices, or with `byAddress` (a job's `distinctAddresses`)
 * distinct remote addresses, so several devices behind one address count once.
 */
export function countVoters(vote: Vote, byAddress: boolean): number {
  if (!byAddress || vote.addresses.size === 0) return vote.devices.size;
  const addresses = new Set<string>();
  for (const device of vote.devices) addresses.add(seatAddress(device, vote.addresses.get(device)));
  return addresses.size;
}

/** Whether `deviceId` voted on the task, or with `byAddress` any device from `address`. */
export function hasVoted(
  task: TaskEntry,
  deviceId: string,
  byAddress: boolean,
  address: string | undefined,
): boolean {
  for (const vote of task.votes?.values() ?? []) {
    if (vote.devices.has(deviceId)) return true;
    if (byAddress) for (const from of vote.addresses.values()) if (from === address) return true;
  }
  return false;
}

/** All voters on a task and the most common answer with its voters (see `countVoters`). */
export function tally(
  task: TaskEntry,
  byAddress: boolean,
): { total: number; best?: Vote; bestVoters: number; answers: number } {
  let total = 0;
  let best: Vote | undefined;
  let bestVoters = 0;
  for (const vote of task.votes?.values() ?? []) {
    const voters = countVoters(vote, byAddress);
    total += voters;
    if (!best || voters > bestVoters) [best, bestVoters] = [vote, voters];
  }
  return { total, bestVoters, answers: task.votes?.size ?? 0, ...(best ? { best } : {}) };
}
