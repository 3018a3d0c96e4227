/** @module Structured logs (pino), one child logger per subsystem. */
import pino, { type Logger } from 'pino';

export type Log = Logger;

export function createRootLog(level: string = process.env['LOG_LEVEL'] ?? 'info'): Log {
  return pino({ level, base: undefined });
}

export function subsystem(log: Log, name: string): Log {
  return log.child({ subsystem: name });
}

/** How often a throttled warning may be logged. */
export const WARN_EVERY_MS = 10_000;

/**
 * A warning logged at most once per `everyMs`, with how many times it happened since the last
 * line (`countField`, `refused` unless told): a flood of refusals must not flood the log too.
 *
 * @example
 * const refused = throttledWarn(log);
 * refused({ address }, '[http]: connection refused');
 */
export function throttledWarn(
  log: Log,
  everyMs = WARN_EVERY_MS,
  countField = 'refused',
): (fields: Record<string, unknown>, message: string) => void {
  let count = 0;
  let loggedAt = -Infinity;
  return (fields, message) => {
    count++;
    const now = performance.now();
    if (now - loggedAt < everyMs) return;
    log.warn({ ...fields, [countField]: count }, message);
    loggedAt = now;
    count = 0;
  };
}
