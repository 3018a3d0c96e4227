/**
 * @module Structured logs (pino), one child logger per subsystem: JSON lines for journald and log
 * shippers, or pino-pretty's readable lines for a person at a terminal.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type Log = Logger;

/** `auto` is pretty on a terminal and JSON anywhere else (a pipe, a file, journald, CI). */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * What `auto` means here: pretty only for a person watching, so stdout must be a terminal and
 * the process not under CI (CI logs are often a TTY, and read by tools).
 */
export function resolveLogFormat(
  format: LogFormat,
  stdoutIsTTY: boolean = process.stdout.isTTY === true,
  env: NodeJS.ProcessEnv = process.env,
): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  const ci = env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false';
  return stdoutIsTTY && !ci ? 'pretty' : 'json';
}

/**
 * The process's logger. `destination` (stdout unless told) is for tests; pretty output is
 * written synchronously, so the last lines before an exit are not lost.
 */
export function createRootLog(
  level: string = process.env['LOG_LEVEL'] ?? 'info',
  format: LogFormat = 'json',
  destination?: DestinationStream,
): Log {
  const options = { level, base: undefined };
  if (resolveLogFormat(format) === 'json') {
    return destination ? pino(options, destination) : pino(options);
  }
  return pino(
    options,
    pretty({
      sync: true,
      destination: destination ?? 1,
      translateTime: 'SYS:HH:MM:ss.l',
      // Every message starts with its subsystem already ("[engine]: ...").
      ignore: 'subsystem',
      ...(destination ? { colorize: false } : {}),
    }),
  );
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
