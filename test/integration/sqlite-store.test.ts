import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { latestSqliteSchemaVersion } from '../../server/store/sqlite-migrate.ts';
import { createSqliteStore } from '../../server/store/sqlite-store.ts';
import { openStore } from '../../server/store/open-store.ts';
import { runStoreContract } from './store-contract.ts';

runStoreContract('sqlite', (dir) =>
  createSqliteStore({ filename: path.join(dir, 'browsergrid.db') }),
);

describe('SQLite store: schema versions', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a database at a newer schema version than it knows, and changes nothing in it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-sqlite-newer-'));
    const filename = path.join(dir, 'browsergrid.db');
    const newer = latestSqliteSchemaVersion() + 1;
    const made = new Database(filename);
    made.exec('CREATE TABLE from_the_future (x INTEGER)');
    made.pragma(`user_version = ${newer}`);
    made.close();
    const digest = (): string => createHash('sha256').update(readFileSync(filename)).digest('hex');
    const before = digest();

    await expect(openStore({ dataDir: dir })).rejects.toThrow(
      `[store]: the SQLite database ${filename} has schema version ${newer}, newer than this browsergrid knows (${latestSqliteSchemaVersion()}); upgrade browsergrid, or point BROWSERGRID_DATA at another directory. Nothing was changed.`,
    );
    expect(digest()).toBe(before);
    expect(existsSync(`${filename}-wal`)).toBe(false);
  });
});
