/**
 * @module `browsergrid backup <file>`: a consistent copy of the SQLite store, taken while the
 * coordinator runs. Restoring is copying it back as `browsergrid.db` into a stopped
 * coordinator's data dir (docs/operations.md). PostgreSQL has its own tools (pg_dump).
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { backupSqlite } from '../store/sqlite-backup.ts';

interface BackupOptions {
  data: string;
}

export function addBackupCommand(program: Command): void {
  program
    .command('backup')
    .description(
      "copy the SQLite store to <file> while the coordinator runs (the data dir's browsergrid.db)",
    )
    .argument('<file>', 'where to write the copy; must not exist')
    .addOption(
      new Option('--data <dir>', 'data dir holding browsergrid.db')
        .env('BROWSERGRID_DATA')
        .default('./data'),
    )
    .action(async (file: string, options: BackupOptions) => {
      if (process.env['BROWSERGRID_DATABASE_URL']) {
        throw new Error(
          '[backup]: BROWSERGRID_DATABASE_URL is set: jobs are kept in PostgreSQL, not in the data dir; back that up with pg_dump',
        );
      }
      const source = path.join(options.data, 'browsergrid.db');
      const { pages, schemaVersion } = await backupSqlite(source, file);
      process.stdout.write(
        `backed up ${source} to ${file} (${pages} pages, schema version ${schemaVersion})\n`,
      );
    });
}
