/**
 * @module Connected devices with room to work (a tab with slots > 0), per grid ('' is the public
 * pool), as seats: a (voter, address) pair with the number of tabs on it. Device-spread asks it
 * whether some device outside a set of devices and addresses could take a task, in
 * O(excluded devices + excluded addresses) and without allocating.
 *
 * A tab without a known address (unit tests, a coordinator behind no proxy information) is its
 * own address, `device:<voter>`, so the address rules degrade to the device rules.
 */
import { voterOf } from './voters.ts';

interface GridSeats {
  /** Voter -> address -> tabs. */
  byDevice: Map<string, Map<string, number>>;
  /** Address -> voter -> tabs. */
  byAddress: Map<string, Map<string, number>>;
  /** Distinct (voter, address) pairs. */
  seats: number;
}

/** The address a copy or failure is counted under (see the module comment). */
export function seatAddress(voter: string, address: string | undefined): string {
  return address ?? `device:${voter}`;
}

/** Invariant: a tab is counted at most once, where its last `set` put it. */
export class DeviceCensus {
  readonly #byGrid = new Map<string, GridSeats>();
  readonly #tabs = new Map<string, { grid: string; voter: string; address: string }>();

  /**
   * Records a tab's current grid, device, address and slots (a paused tab counts for nothing).
   * Returns whether a seat left the census: some task's last-resort device may now take it.
   */
  set(tab: {
    volunteerId: string;
    deviceId: string;
    address?: string;
    grid?: string;
    slots: number;
  }): boolean {
    const before = this.#tabs.get(tab.volunteerId);
    const lost = this.delete(tab.volunteerId);
    if (tab.slots <= 0) return lost;
    const grid = tab.grid ?? '';
    const voter = voterOf(tab.deviceId);
    const address = seatAddress(voter, tab.address);
    let seats = this.#byGrid.get(grid);
    if (!seats)
      this.#byGrid.set(grid, (seats = { byDevice: new Map(), byAddress: new Map(), seats: 0 }));
    if (bump(seats.byDevice, voter, address, 1)) seats.seats++;
    bump(seats.byAddress, address, voter, 1);
    this.#tabs.set(tab.volunteerId, { grid, voter, address });
    const same = before?.grid === grid && before.voter === voter && before.address === address;
    return lost && !same;
  }

  /** Forgets a tab; returns whether its seat left the census with it. */
  delete(volunteerId: string): boolean {
    const counted = this.#tabs.get(volunteerId);
    if (!counted) return false;
    this.#tabs.delete(volunteerId);
    const seats = this.#byGrid.get(counted.grid) as GridSeats;
    const lost = bump(seats.byDevice, counted.voter, counted.address, -1);
    if (lost) seats.seats--;
    bump(seats.byAddress, counted.address, counted.voter, -1);
    if (seats.seats === 0) this.#byGrid.delete(counted.grid);
    return lost;
  }

  /**
   * Whether a working device of `grid` sits outside both `devices` and `addresses`: some seat
   * whose voter is not in `devices` and whose address is not in `addresses`. O(|devices| +
   * |addresses|). `devices` must not repeat a voter (a Set, or a Map's keys).
   */
  hasSeatOutside(
    grid: string | undefined,
    devices: Iterable<string>,
    addresses: ReadonlySet<string>,
  ): boolean {
    const seats = this.#byGrid.get(grid ?? '');
    if (!seats) return false;
    let excluded = 0;
    for (const address of addresses) excluded += seats.byAddress.get(address)?.size ?? 0;
    if (excluded >= seats.seats) return false;
    for (const voter of devices) {
      for (const address of seats.byDevice.get(voter)?.keys() ?? []) {
        if (!addresses.has(address)) excluded++;
      }
      if (excluded >= seats.seats) return false;
    }
    return excluded < seats.seats;
  }
}

/** Adds `by` tabs to outer[key][inner]; true when the (key, inner) pair appeared or vanished. */
function bump(
  outer: Map<string, Map<string, number>>,
  key: string,
  inner: string,
  by: number,
): boolean {
  let counts = outer.get(key);
  if (!counts) outer.set(key, (counts = new Map()));
  const before = counts.get(inner) ?? 0;
  const after = before + by;
  if (after > 0) counts.set(inner, after);
  else counts.delete(inner);
  if (counts.size === 0) outer.delete(key);
  return (before === 0) !== (after === 0);
}
