/**
 * @module Which store a coordinator opens: PostgreSQL when a database URL is set, else the
 * embedded SQLite file in the data dir. The one place that chooses.
 */
import path from 'node:path';
import type { Log } from '../log.ts';
import { createPgStore } from './pg-store.ts';
import { createSqliteStore } from './sqlite-store.ts';
import type { JobStore } from './store.ts';

/**
 * The shortest the idle-in-transaction limit gets, however short the silence limit: a pause of
 * a healthy node's own (a long garbage collection) must not end its transactions.
 */
const MIN_IDLE_IN_TRANSACTION_MS = 3_000;

export interface StoreSettings {
  dataDir: string;
  /** postgres://… : keep everything there instead of in `<dataDir>/browsergrid.db`. */
  databaseUrl?: string | undefined;
  databaseConnectTimeoutMs?: number | undefined;
  /**
   * Silence after which the other nodes declare a node dead: also (at least 3 s) the longest
   * one of its transactions may stay open while it does nothing (a node frozen mid-commit holds
   * locks the others wait on).
   */
  nodeSilentMs?: number | undefined;
}

/**
 * Opens, and migrates, the store the settings name. Fails with a `[store]:` message when the
 * database cannot be reached or its schema is newer than this code.
 */
export async function openStore(
  settings: StoreSettings,
  options: { onIdleError?: (error: Error) => void; log?: Log } = {},
): Promise<JobStore> {
  if (settings.databaseUrl === undefined) {
    return createSqliteStore({ filename: path.join(settings.dataDir, 'browsergrid.db') });
  }
  return createPgStore({
    connectionString: settings.databaseUrl,
    ...(settings.databaseConnectTimeoutMs !== undefined
      ? { connectTimeoutMs: settings.databaseConnectTimeoutMs }
      : {}),
    ...(settings.nodeSilentMs !== undefined
      ? { idleInTransactionTimeoutMs: Math.max(settings.nodeSilentMs, MIN_IDLE_IN_TRANSACTION_MS) }
      : {}),
    ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
