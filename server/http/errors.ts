/** @module Express error handling: every failure becomes `{ error: { code, message, field? } }`. */
import type { IncomingMessage } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ErrorResponse } from '../../shared/errors.ts';
import { CoordinatorError, httpStatusOf, toWireError } from '../errors.ts';
import type { Log } from '../log.ts';

/** Errors thrown by express.json() carry a `type` naming what went wrong. */
function fromBodyParser(error: unknown, limitBytes: number): CoordinatorError | undefined {
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') {
    return new CoordinatorError(
      'payload_too_large',
      `[http]: request body is larger than the limit of ${limitBytes} bytes (BROWSERGRID_MAX_BODY_BYTES)`,
    );
  }
  if (type === 'entity.parse.failed') {
    return new CoordinatorError(
      'invalid_input',
      `[http]: request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new CoordinatorError('invalid_input', `[http]: ${(error as Error).message}`);
  }
  return undefined;
}

export function errorHandler(log: Log, limitBytes: number): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const known = fromBodyParser(error, limitBytes) ?? error;
    const status = httpStatusOf(known);
    // Refused before its body was read (no token, no route, too large): hang up after the
    // answer rather than let Node read and discard what may be 64 MB, or a body that trickles.
    if (hasUnreadBody(req)) res.setHeader('Connection', 'close');
    if (status >= 500) log.error({ err: error, path: req.path }, '[http]: request failed');
    const body: ErrorResponse = { error: toWireError(known) };
    res.status(status).json(body);
  };
}

function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = Number(req.headers['content-length'] ?? 0);
  return length > 0 || req.headers['transfer-encoding'] !== undefined;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new CoordinatorError('not_found', `[http]: no route for ${req.method} ${req.path}`));
};
