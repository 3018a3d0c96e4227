/**
 * @module Device standings in the SQLite store (see standing.ts): written inside `apply`'s
 * transaction, one upsert per device per batch, and read when a device's tab arrives and when
 * an admin lists devices.
 */
import type Database from 'better-sqlite3';
import {
  standingsByDevice,
  toStoredStanding,
  type StandingChange,
  type StandingRow,
} from './standing.ts';
import type { JobStore } from './store.ts';

export interface SqliteStandings extends Pick<JobStore, 'deviceStandings' | 'recentStandings'> {
  /** Applies a batch's standing changes; call inside the batch's transaction. */
  write(changes: readonly StandingChange[]): void;
}

export function createSqliteStandings(db: Database.Database): SqliteStandings {
  // A delta with a disagreement replaces the streak with what came after it; one without adds.
  const upsert = db.prepare<[{ deviceId: string; agreed: number; disagreed: number; at: number }]>(
    `INSERT INTO device_standing (device_id, streak, disagreements, resets, updated_at)
     VALUES (@deviceId, @agreed, @disagreed, @disagreed, @at)
     ON CONFLICT (device_id) DO UPDATE SET
       streak = CASE WHEN excluded.disagreements > 0 THEN excluded.streak
                     ELSE streak + excluded.streak END,
       disagreements = disagreements + excluded.disagreements,
       resets = resets + excluded.resets,
       updated_at = MAX(updated_at, excluded.updated_at)`,
  );
  const selectSome = db.prepare<[string], StandingRow>(
    'SELECT * FROM device_standing WHERE device_id IN (SELECT value FROM json_each(?))',
  );
  const selectRecent = db.prepare<[number], StandingRow>(
    'SELECT * FROM device_standing ORDER BY updated_at DESC, device_id LIMIT ?',
  );
  return {
    write(changes) {
      for (const change of standingsByDevice(changes)) {
        const { deviceId, agreed, disagreed, at } = change;
        upsert.run({ deviceId, agreed, disagreed, at });
      }
    },
    async deviceStandings(deviceIds) {
      if (deviceIds.length === 0) return [];
      return selectSome.all(JSON.stringify(deviceIds)).map(toStoredStanding);
    },
    async recentStandings(limit) {
      return selectRecent.all(limit).map(toStoredStanding);
    },
  };
}
