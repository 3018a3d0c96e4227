/**
 * @module Telling "the database is away" (stopped, restarting, cut off) from every other store
 * failure. The first kind is worth waiting out: the same write succeeds once the server is back.
 * Anything else (a constraint, a missing job, a fenced node, a bug) must surface at once.
 */

/** Errors of a socket that never connected or was cut. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server going away or not yet back: 57P01 admin_shutdown (a fast stop),
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down); and 25P03,
 * the server ending a session that sat inside a transaction past the idle limit because this
 * process was frozen or starved (the transaction rolled back whole, so it may run again). Class
 * 08 (connection exception) is matched by prefix.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '25P03']);

/** node-postgres' own errors for a connection lost or never made carry no code, only these. */
const CLIENT_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /encountered a connection error and is not queryable/,
];

/** Whether `error` says only that the database cannot be reached right now. */
export function isStoreUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 4) return false;
  if (error instanceof AggregateError) {
    // A host with several addresses fails once per address.
    return error.errors.length > 0 && error.errors.every((e) => isStoreUnreachable(e, depth + 1));
  }
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    return SOCKET_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
  }
  if (CLIENT_MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  return error.cause !== undefined && isStoreUnreachable(error.cause, depth + 1);
}
