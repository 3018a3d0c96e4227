/**
 * @module Device standings in the PostgreSQL store (see standing.ts): a batch's deltas are one
 * statement in its transaction, one row per device, taken in device order so two nodes' batches
 * lock the rows they share in one order and never deadlock. Read when a device's tab arrives
 * and when an admin lists devices.
 */
import type pg from 'pg';
import { msArray, numberArray, textArray } from './pg-arrays.ts';
import {
  standingsByDevice,
  toStoredStanding,
  type StandingChange,
  type StandingRow,
} from './standing.ts';
import type { JobStore } from './store.ts';

// A delta with a disagreement replaces the streak with what came after it; one without adds.
const WRITE_SQL = `INSERT INTO device_standing (device_id, streak, disagreements, resets, updated_at)
  SELECT s.device_id, s.agreed, s.disagreed, s.disagreed, s.at
  FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[]) AS s (device_id, agreed, disagreed, at)
  ON CONFLICT (device_id) DO UPDATE SET
    streak = CASE WHEN excluded.disagreements > 0 THEN excluded.streak
                  ELSE device_standing.streak + excluded.streak END,
    disagreements = device_standing.disagreements + excluded.disagreements,
    resets = device_standing.resets + excluded.resets,
    updated_at = GREATEST(device_standing.updated_at, excluded.updated_at)`;

/** Applies a batch's standing changes on `client`, inside the batch's transaction. */
export async function writePgStandings(
  client: pg.PoolClient,
  changes: readonly StandingChange[],
): Promise<void> {
  const rows = standingsByDevice(changes);
  if (rows.length === 0) return;
  await client.query(WRITE_SQL, [
    textArray(rows.map((row) => row.deviceId)),
    numberArray(rows.map((row) => row.agreed)),
    numberArray(rows.map((row) => row.disagreed)),
    msArray(rows.map((row) => row.at)),
  ]);
}

export function createPgStandings(
  pool: pg.Pool,
): Pick<JobStore, 'deviceStandings' | 'recentStandings'> {
  return {
    async deviceStandings(deviceIds) {
      if (deviceIds.length === 0) return [];
      const { rows } = await pool.query<StandingRow>(
        'SELECT * FROM device_standing WHERE device_id = ANY($1::text[])',
        [deviceIds],
      );
      return rows.map(toStoredStanding);
    },
    async recentStandings(limit) {
      const { rows } = await pool.query<StandingRow>(
        'SELECT * FROM device_standing ORDER BY updated_at DESC, device_id LIMIT $1',
        [limit],
      );
      return rows.map(toStoredStanding);
    },
  };
}
