/** @module The coordinator's one error type: a wire code, an HTTP status and the field to blame. */
import type { ErrorCode, WireError } from '../shared/errors.ts';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  map_compile_error: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  protocol_mismatch: 400,
  not_registered: 409,
  rate_limited: 429,
  // This node lost its claim (presumed dead): another node serves the request.
  fenced: 503,
  internal: 500,
};

export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  readonly code: ErrorCode;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** What may cross a boundary: our own errors as they are, anything else sanitized. */
export function toWireError(error: unknown): WireError {
  if (error instanceof CoordinatorError) {
    return {
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
    };
  }
  return { code: 'internal', message: '[coordinator]: internal error' };
}

export function httpStatusOf(error: unknown): number {
  return error instanceof CoordinatorError ? error.status : 500;
}
