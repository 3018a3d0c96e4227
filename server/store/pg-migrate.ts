/**
 * @module The PostgreSQL store's schema migrations: numbered .sql files in ./pg-migrations, the
 * versions applied recorded in `schema_migrations`. Several nodes may start at once: an advisory
 * lock makes one migrate while the others wait and then find nothing left to do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { inTransaction } from './pg-connect.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./pg-migrations/', import.meta.url));

/** Any constant: it names the migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 0x62677264; // "bgrd"

/** Longest a start waits for another node's migration before it fails. */
const MIGRATION_LOCK_TIMEOUT_MS = 60_000;

interface Migration {
  version: number;
  sql: string;
}

function migrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((name) => /^\d{3}-.*\.sql$/.test(name))
    .sort()
    .map((file) => ({
      version: Number.parseInt(file.slice(0, 3), 10),
      sql: readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'),
    }));
}

/** The newest schema version this code knows. */
export function latestPgSchemaVersion(): number {
  return migrations().at(-1)?.version ?? 0;
}

/**
 * Applies the migrations past the database's version in one transaction. A database at a newer
 * version than this code knows is refused before anything is written: older code would
 * misread, or undo, what newer code wrote.
 */
export async function migratePg(pool: pg.Pool, where: string): Promise<void> {
  try {
    await migrate(pool, where);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.startsWith('[store]:')) throw error;
    throw new Error(`[store]: migrating the PostgreSQL database at ${where} failed: ${message}`, {
      cause: error,
    });
  }
}

async function migrate(pool: pg.Pool, where: string): Promise<void> {
  const known = migrations();
  const latest = known.at(-1)?.version ?? 0;
  await inTransaction(pool, async (client) => {
    // A node that hung while migrating must not hang every other node's start with it.
    await client.query(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT_MS}ms'`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const current = await schemaVersion(client);
    if (current > latest) {
      throw new Error(
        `[store]: the PostgreSQL database at ${where} has schema version ${current}, newer than this browsergrid knows (${latest}); upgrade browsergrid, or point BROWSERGRID_DATABASE_URL at another database. Nothing was changed.`,
      );
    }
    if (current === latest) return;
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    INTEGER PRIMARY KEY,
         applied_at BIGINT NOT NULL
       )`,
    );
    for (const migration of known) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        migration.version,
        Date.now(),
      ]);
    }
  });
}

async function schemaVersion(client: pg.PoolClient): Promise<number> {
  const table = await client.query<{ exists: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`,
  );
  if (!table.rows[0]?.exists) return 0;
  const result = await client.query<{ version: number | null }>(
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  return result.rows[0]?.version ?? 0;
}
