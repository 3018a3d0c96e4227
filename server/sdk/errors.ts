/** @module The SDK's errors: a refused REST call, and a map whose items failed. */
import type { JobSummary, ResultLine } from '../../shared/job.ts';

/**
 * A call the coordinator refused (`status` is its HTTP status; `code` and `field` come from its
 * error body), or a request the SDK refused to send (`status` 0).
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
    details: { status: number; code?: string; field?: string; method?: string; path?: string },
  ) {
    super(message);
    this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
    if (details.field !== undefined) this.field = details.field;
    if (details.method !== undefined) this.method = details.method;
    if (details.path !== undefined) this.path = details.path;
  }
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
