/**
 * @module Validation at the socket edge: every inbound event is parsed with its shared schema
 * once, here; handlers receive typed values, and errors go back as an `Ack` (never thrown at the
 * socket). Checks run cheapest first: who is speaking (`requires`), then the payload's schema,
 * whose JSON values are bounded without recursion (shared/json.ts); frames too large or too
 * deep never got this far (frame-guard.ts). Events without an ack callback are malformed by
 * definition and are logged and dropped.
 *
 * socket.io runs listeners in a `process.nextTick` outside any try/catch, so an error thrown by a
 * listener is an uncaught exception that ends the process: every listener here is wrapped by
 * `guard`, which logs such an error and closes only that connection.
 */
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { MAX_REFUSED_MESSAGES } from '../../shared/limits.ts';
import type { Ack } from '../../shared/protocol.ts';
import { CoordinatorError, toWireError } from '../errors.ts';
import type { Log } from '../log.ts';

/** Issue paths longer than this are shortened in messages (a refused value may be 64 deep). */
const FIELD_SEGMENTS = 12;

export function describeIssue(error: z.ZodError): { message: string; field?: string } {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  const segments =
    path.length > FIELD_SEGMENTS
      ? [...path.slice(0, FIELD_SEGMENTS - 2), '…', ...path.slice(-1)]
      : path;
  const field = segments.length > 0 ? segments.map(String).join('.') : undefined;
  const message = issue ? `${field ? `${field}: ` : ''}${issue.message}` : 'invalid input';
  return field ? { message, field } : { message };
}

/** One connection's edge: where refusals are counted and unexpected errors end up. */
export interface SocketEdge {
  socket: Pick<Socket, 'id' | 'disconnect'>;
  log: Log;
  /** Context for log lines (the volunteer id once known). */
  context(): Record<string, unknown>;
  /** Counts a refused message; the connection is closed at MAX_REFUSED_MESSAGES. */
  refused(event: string, message: string): void;
}

export function createSocketEdge(
  socket: Pick<Socket, 'id' | 'disconnect'>,
  log: Log,
  context: () => Record<string, unknown> = () => ({}),
): SocketEdge {
  let refusals = 0;
  return {
    socket,
    log,
    context: () => ({ socketId: socket.id, ...context() }),
    refused(event, message) {
      log.warn({ ...this.context(), event, message }, '[realtime]: malformed event refused');
      if (++refusals === MAX_REFUSED_MESSAGES) {
        log.warn(
          { ...this.context(), refusals },
          '[realtime]: connection closed after repeated malformed events',
        );
        socket.disconnect(true);
      }
    },
  };
}

/**
 * Wraps a listener so nothing it throws or rejects with reaches socket.io: the error is logged
 * with its context and the connection (only it) is closed, its state being unknown.
 */
export function guard<A extends unknown[]>(
  edge: SocketEdge,
  event: string,
  listener: (...args: A) => unknown,
): (...args: A) => void {
  const fail = (error: unknown): void => {
    edge.log.error({ ...edge.context(), event, err: error }, '[realtime]: listener failed');
    edge.socket.disconnect(true);
  };
  return (...args) => {
    try {
      const result = listener(...args);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

export interface EdgeChecks {
  /** Who is speaking, checked before the payload is looked at: throws a CoordinatorError to refuse. */
  requires?: () => unknown;
}

/**
 * Wraps a request-like socket handler: checks the sender, validates the payload, runs the
 * handler, and acks `{ ok: true, data }` or `{ ok: false, error }` with a sanitized error.
 *
 * @example socket.on('task:results', withAck(edge, ResultBatch, 'task:results', (batch) => engine.tabs.report(id, batch.results), { requires: registered }));
 */
export function withAck<S extends z.ZodType, T>(
  edge: SocketEdge,
  schema: S,
  event: string,
  handler: (payload: z.infer<S>) => T | Promise<T>,
  checks: EdgeChecks = {},
): (...args: unknown[]) => void {
  return guard(edge, event, (...args: unknown[]) => {
    // socket.io appends the ack after however many arguments the sender wrote: with none, the
    // ack comes first; with too many, the payload is the first and the rest are ignored.
    const ack = args.length > 0 ? args[args.length - 1] : undefined;
    const payload = args.length > 1 ? args[0] : undefined;
    if (typeof ack !== 'function') {
      edge.refused(event, 'event without an ack callback dropped');
      return;
    }
    const reply = ack as (res: Ack<T>) => void;
    try {
      checks.requires?.();
    } catch (error) {
      reply({ ok: false, error: toWireError(error) });
      return;
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const { message, field } = describeIssue(parsed.error);
      edge.refused(event, message);
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
    // Returned, so guard() also catches a failure of reply() itself.
    return Promise.resolve()
      .then(() => handler(parsed.data))
      .then(
        (data) => reply({ ok: true, data }),
        (error: unknown) => {
          if (!(error instanceof CoordinatorError))
            edge.log.error({ ...edge.context(), err: error, event }, '[realtime]: handler failed');
          reply({ ok: false, error: toWireError(error) });
        },
      );
  });
}

/**
 * Wraps a fire-and-forget handler: no ack to answer with, so an event from a sender that
 * `requires` refuses is dropped unread, and a malformed one is logged, counted and dropped.
 */
export function withoutAck<S extends z.ZodType>(
  edge: SocketEdge,
  schema: S,
  event: string,
  handler: (payload: z.infer<S>) => void,
  checks: EdgeChecks = {},
): (payload: unknown) => void {
  return guard(edge, event, (payload: unknown) => {
    try {
      checks.requires?.();
    } catch (error) {
      // Not counted: a tab's progress may race its hello after a reconnect.
      edge.log.debug({ ...edge.context(), event, err: error }, '[realtime]: early event dropped');
      return;
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      edge.refused(event, describeIssue(parsed.error).message);
      return;
    }
    handler(parsed.data);
  });
}
