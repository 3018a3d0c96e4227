/** @module Structured logs (pino), one child logger per subsystem. */
import pino, { type Logger } from 'pino';

export type Log = Logger;

export function createRootLog(level: string = process.env['LOG_LEVEL'] ?? 'info'): Log {
  return pino({ level, base: undefined });
}

export function subsystem(log: Log, name: string): Log {
  return log.child({ subsystem: name });
}
