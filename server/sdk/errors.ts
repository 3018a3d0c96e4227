/** @module The SDK's errors: a refused REST call, and a map whose items failed. */
import type { JobSummary, ResultLine } from '../../shared/job.ts';

/**
 * A call the coordinator refused (`status` is its HTTP status; `code` and `field` come from its
 * error body), a request the SDK refused to send (`status` 0), or a call that got no answer
 * (`status` 0, `code` `unreachable`, the network error as `cause`).
 *
 * @example
 * try {
 *   await client.submit({ map: '(x) =>', inputs: [1] });
 * } catch (error) {
 *   if (error instanceof BrowsergridError && error.field === 'map') console.error(error.message);
 * }
 */
export class BrowsergridError extends Error {
  override readonly name = 'BrowsergridError';
  readonly status: number;
  readonly code?: string;
  readonly field?: string;
  /** The refused call, e.g. `POST` and `/api/jobs`; absent when the SDK refused before sending. */
  readonly method?: string;
  readonly path?: string;

  constructor(
    message: string,
    details: {
      status: number;
      code?: string;
      field?: string;
      method?: string;
      path?: string;
      cause?: unknown;
    },
  ) {
    super(message, details.cause !== undefined ? { cause: details.cause } : {});
    this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
    if (details.field !== undefined) this.field = details.field;
    if (details.method !== undefined) this.method = details.method;
    if (details.path !== undefined) this.path = details.path;
  }
}

/**
 * The error for a call that got no answer: the coordinator is down, its host does not resolve, or
 * the connection broke mid-answer. Its message names the URL and the network's own reason
 * (`connect ECONNREFUSED 127.0.0.1:9`, `getaddrinfo ENOTFOUND nohost.invalid`), which fetch hides
 * behind "fetch failed".
 */
export function unreachable(
  url: string,
  error: unknown,
  method: string,
  path: string,
): BrowsergridError {
  if (error instanceof BrowsergridError) return error;
  return new BrowsergridError(`[sdk]: cannot reach ${url}: ${networkReason(error)}`, {
    status: 0,
    code: 'unreachable',
    method,
    path,
    cause: error,
  });
}

/** The innermost useful words of a fetch failure; an AggregateError (IPv6 then IPv4) has several. */
function networkReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause: unknown = current instanceof Error ? current.cause : undefined;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  if (current instanceof AggregateError && current.errors.length > 0) {
    return [...new Set(current.errors.map((inner) => networkReason(inner)))].join('; ');
  }
  if (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    if (current.message) return current.message;
    if (typeof code === 'string') return code;
  }
  return String(current);
}

/** Thrown by `map` when items failed: `results` holds every line, outputs and errors alike. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  constructor(
    message: string,
    readonly summary: JobSummary,
    readonly results: ResultLine[],
  ) {
    super(message);
  }
}
