/**
 * @module Opening a PostgreSQL pool for the store: numbers parsed as numbers, a bounded connect
 * time, and a failure that says where it tried and why (never with the password).
 */
import pg from 'pg';

/** How long a node waits for PostgreSQL to answer before it gives up starting. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Idle time before a connection's first TCP keepalive probe. */
const KEEPALIVE_DELAY_MS = 10_000;

// int8 (BIGINT, COUNT(*)) arrives as text by default, because it may pass 2^53; our BIGINTs are
// millisecond times, byte counts and sequence numbers, all far below it. Per pool, not global.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));

/** `host:port/database` of a connection URL: what messages name, never its user or password. */
export function describePgTarget(connectionString: string): string {
  const url = new URL(connectionString);
  // `postgres:///db?host=/run/postgresql` names a socket directory instead of a host.
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  return `${host}:${url.port || '5432'}/${database}`;
}

export interface PgPoolOptions {
  connectionString: string;
  connectTimeoutMs?: number;
  /**
   * Longest a connection may sit inside a transaction waiting for this process (PostgreSQL's
   * `idle_in_transaction_session_timeout`): past it the server rolls the transaction back and
   * ends the session. A node frozen or cut off mid-transaction holds row locks (its node row,
   * the job row) that every other node's reaper and commits wait on; this is how long they wait.
   */
  idleInTransactionTimeoutMs?: number;
  /** An idle connection failed (the server restarted, say); the pool replaces it by itself. */
  onIdleError?: (error: Error) => void;
}

/** A pool that has answered one query, so a wrong URL fails here, at start, and not later. */
export async function openPgPool(options: PgPoolOptions): Promise<pg.Pool> {
  const where = describePgTarget(options.connectionString);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // An idle connection to a server gone without a word (a host lost, a network cut) starts
    // probing after 10 s instead of the system's two hours (the probes' own interval and count
    // are the system's: on Linux about 11 minutes more before the socket fails).
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    ...(options.idleInTransactionTimeoutMs !== undefined
      ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs }
      : {}),
    types,
  });
  // Without a listener, an idle client's error would be an uncaught 'error' event.
  pool.on('error', (error) => options.onIdleError?.(error));
  // The pool listens only to idle clients. A checked-out one between two queries (inside a
  // transaction) that hears the server stop would throw an uncaught 'error' event and end the
  // process; with this listener its next query fails instead, and the caller sees that.
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`[store]: cannot reach PostgreSQL at ${where}: ${causeOf(error)}`, {
      cause: error,
    });
  }
  return pool;
}

function causeOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // A host name with several addresses fails once per address.
    return error.errors.map(causeOf).join('; ');
  }
  if (error instanceof Error)
    return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}

/** Runs `work` in one transaction on one connection, retried if PostgreSQL chose it as a
 * deadlock's victim or a serialization failure: it rolled back whole, so it may run again. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      if (mayRetry(error) && attempt < MAX_TRANSACTION_TRIES) continue;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

const MAX_TRANSACTION_TRIES = 5;

/** Runs one statement (its own transaction), retried as `inTransaction` retries. */
export async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (mayRetry(error) && attempt < MAX_TRANSACTION_TRIES) continue;
      throw error;
    }
  }
}

/** A deadlock's victim or a serialization failure: rolled back whole, so it may run again. */
function mayRetry(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '40P01' || code === '40001';
}
