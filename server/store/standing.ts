/**
 * @module A device's adaptive-trust standing as the store keeps it for every node, and the
 * deltas that move it. Deltas, not values: two nodes judging one device at once both count, the
 * way `done = done + n` counts two nodes' settles. A delta composes with the next, so a batch
 * writes one row per device however many verdicts it holds.
 */

/** What a device's results earned since the last write: applied in one statement per device. */
export interface StandingDelta {
  /**
   * Results agreed with after the last disagreement in this delta (all of them if none): they
   * extend the stored streak, or, after a disagreement, are the whole new streak.
   */
  agreed: number;
  /** Results that lost a vote: each one ends the streak. */
  disagreed: number;
}

/** A device's standing as stored. */
export interface StoredStanding {
  deviceId: string;
  /** Agreeing results in a row, on every node together. */
  streak: number;
  disagreements: number;
  /** Times the streak ended (disagreements and bans): which of two streaks is the newer. */
  resets: number;
  updatedAt: number;
}

/** A standing as both backends' rows hold it. */
export interface StandingRow {
  device_id: string;
  streak: number;
  disagreements: number;
  resets: number;
  updated_at: number;
}

export function toStoredStanding(row: StandingRow): StoredStanding {
  return {
    deviceId: row.device_id,
    streak: row.streak,
    disagreements: row.disagreements,
    resets: row.resets,
    updatedAt: row.updated_at,
  };
}

/** `first` then `then`, as one delta. */
export function addStanding(first: StandingDelta, then: StandingDelta): StandingDelta {
  return then.disagreed > 0
    ? { agreed: then.agreed, disagreed: first.disagreed + then.disagreed }
    : { agreed: first.agreed + then.agreed, disagreed: first.disagreed };
}

/** A batch's delta for one device (a `StoreChange`). */
export interface StandingChange extends StandingDelta {
  type: 'standing';
  deviceId: string;
  at: number;
}

/** One change per device, in device order (so concurrent batches lock rows in one order). */
export function standingsByDevice(changes: readonly StandingChange[]): StandingChange[] {
  const byDevice = new Map<string, StandingChange>();
  for (const change of changes) {
    const before = byDevice.get(change.deviceId);
    byDevice.set(
      change.deviceId,
      before
        ? { ...before, ...addStanding(before, change), at: Math.max(before.at, change.at) }
        : change,
    );
  }
  return [...byDevice.values()].sort((a, b) =>
    a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
  );
}
