/** @module The SQLite store's schema migrations: numbered .sql files in ./migrations. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((name) => /^\d{3}-.*\.sql$/.test(name))
    .sort();
}

/** The newest schema version this code knows. */
export function latestSqliteSchemaVersion(): number {
  const last = migrationFiles().at(-1);
  return last === undefined ? 0 : Number.parseInt(last.slice(0, 3), 10);
}

/**
 * Refuses a database at a newer schema version than this code knows, before anything touches
 * it: older code would misread, or undo, what newer code wrote.
 */
export function refuseNewerSqliteSchema(db: Database.Database, filename: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestSqliteSchemaVersion();
  if (current > latest) {
    throw new Error(
      `[store]: the SQLite database ${filename} has schema version ${current}, newer than this browsergrid knows (${latest}); upgrade browsergrid, or point BROWSERGRID_DATA at another directory. Nothing was changed.`,
    );
  }
}

/** Applies the numbered .sql files past the database's user_version, each in a transaction. */
export function migrateSqlite(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const file of migrationFiles()) {
    const version = Number.parseInt(file.slice(0, 3), 10);
    if (version <= current) continue;
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
