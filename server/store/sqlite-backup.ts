/**
 * @module An online backup of the SQLite store: SQLite's backup API (better-sqlite3's
 * `db.backup`) reading the live file while a coordinator writes it. The copy is taken in one step,
 * so it is one consistent moment: in WAL mode that read holds up no writer, whereas the API's
 * default of 100 pages a step starts over whenever the coordinator commits in between, which a
 * busy coordinator does every few milliseconds.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Pages per step: all of them (SQLite caps a step at this). */
const ALL_PAGES = 0x7fffffff;

export interface SqliteBackup {
  pages: number;
  schemaVersion: number;
}

/**
 * Copies the database at `source` to `target`, which must not exist, then checks the copy
 * (`PRAGMA quick_check`). `source` is opened read-write like any SQLite client, though nothing
 * is written: a read-only connection cannot remove the -wal and -shm files it had to create
 * when no coordinator runs, and files left behind by another user (root) would stop the
 * coordinator from opening its store. The copy is one self-contained file (no WAL).
 */
export async function backupSqlite(source: string, target: string): Promise<SqliteBackup> {
  if (!existsSync(source)) {
    throw new Error(
      `[backup]: there is no store at ${source}; is BROWSERGRID_DATA (--data) right?`,
    );
  }
  if (existsSync(target)) {
    throw new Error(`[backup]: ${target} already exists; name a new file`);
  }
  const db = new Database(source, { fileMustExist: true });
  let pages: number;
  try {
    db.pragma('busy_timeout = 5000');
    ({ totalPages: pages } = await db.backup(target, { progress: () => ALL_PAGES }));
  } finally {
    db.close();
  }
  const copy = new Database(target, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new Error(`[backup]: the copy at ${target} fails its check: ${String(check)}`);
    return { pages, schemaVersion: copy.pragma('user_version', { simple: true }) as number };
  } finally {
    copy.close();
  }
}
