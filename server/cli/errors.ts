/** @module How the command line words an error before it exits 1. */
import { BrowsergridError } from '../sdk/index.ts';

/** One line for stderr: a refused call names the call and its HTTP status before the reason. */
export function describeError(error: unknown): string {
  if (error instanceof BrowsergridError && error.method !== undefined) {
    return `[cli]: ${error.method} ${error.path} failed (${error.status}): ${error.message}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith('[cli]:') ? message : `[cli]: ${message}`;
}
