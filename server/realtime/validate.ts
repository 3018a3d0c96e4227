/**
 * @module Validation at the socket edge: every inbound event is parsed with its shared schema
 * once, here; handlers receive typed values, and errors go back as an `Ack` (never thrown at the
 * socket). Events without an ack callback are malformed by definition and are logged and dropped.
 */
import type { z } from 'zod';
import type { Ack } from '../../shared/protocol.ts';
import { CoordinatorError, toWireError } from '../errors.ts';
import type { Log } from '../log.ts';

export function describeIssue(error: z.ZodError): { message: string; field?: string } {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  const message = issue ? `${field ? `${field}: ` : ''}${issue.message}` : 'invalid input';
  return field ? { message, field } : { message };
}

/**
 * Wraps a request-like socket handler: validates the payload, runs the handler, and acks
 * `{ ok: true, data }` or `{ ok: false, error }` with a sanitized error.
 *
 * @example socket.on('task:results', withAck(ResultBatch, log, 'task:results', (batch) => engine.report(id, batch.results)));
 */
export function withAck<S extends z.ZodType, T>(
  schema: S,
  log: Log,
  event: string,
  handler: (payload: z.infer<S>) => T | Promise<T>,
): (payload: unknown, ack?: unknown) => void {
  return (payload, ack) => {
    if (typeof ack !== 'function') {
      log.warn({ event }, '[realtime]: event without an ack callback dropped');
      return;
    }
    const reply = ack as (res: Ack<T>) => void;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const { message, field } = describeIssue(parsed.error);
      log.warn({ event, message }, '[realtime]: malformed event refused');
      reply({
        ok: false,
        error: {
          code: 'invalid_input',
          message: `[${event}]: ${message}`,
          ...(field ? { field } : {}),
        },
      });
      return;
    }
    Promise.resolve()
      .then(() => handler(parsed.data))
      .then(
        (data) => reply({ ok: true, data }),
        (error: unknown) => {
          if (!(error instanceof CoordinatorError))
            log.error({ err: error, event }, '[realtime]: handler failed');
          reply({ ok: false, error: toWireError(error) });
        },
      );
  };
}
