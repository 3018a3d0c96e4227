/**
 * @module How the command line words an error before it exits: one `browsergrid: …` line, as
 * Unix tools do, naming what was asked of whom and why it failed, never a stack.
 */
import { BrowsergridError } from '../sdk/index.ts';

/** Where the command sent its calls and where its token came from, for the 401 message. */
export interface CallContext {
  url: string;
  /** `--token`, `BROWSERGRID_ADMIN_TOKEN` or the token file's path. */
  tokenFrom: string;
}

let context: CallContext | undefined;

/** Remembered by `clientOf`: a process runs one command, so one context is all there is. */
export function noteCallContext(next: CallContext): void {
  context = next;
}

/** One line for stderr. */
export function describeError(error: unknown): string {
  if (error instanceof BrowsergridError) {
    if (error.code === 'unreachable') return `browsergrid: ${plain(error.message)}`;
    if (error.status === 401 && context) {
      return `browsergrid: ${context.url} refused the admin token from ${context.tokenFrom} (revoked, or from another coordinator's data dir?)`;
    }
    if (error.method !== undefined) {
      return `browsergrid: ${error.method} ${error.path} failed (${error.status}): ${plain(error.message)}`;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return `browsergrid: ${plain(message)}`;
}

/** The CLI's and SDK's own prefixes say nothing once the line starts with `browsergrid:`. */
function plain(message: string): string {
  return message.replace(/^\[(cli|sdk|backup)\]: /, '');
}
