/**
 * @module What the volunteer page says when something goes wrong. The coordinator's messages are
 * written for logs (`[realtime]: ...`); people read a sentence chosen by the error's code and
 * source here instead, and the technical text goes to the console.
 */
import { NICKNAME_MAX_CHARS } from '../../shared/protocol.ts';
import type { RuntimeError } from './runtime.ts';

export const NICKNAME_HINT = `A nickname is up to ${NICKNAME_MAX_CHARS} characters, with no line breaks or control characters.`;

const NO_SUCH_GRID = 'No grid has this join code. Check the code or the link with your teacher.';

/** A sentence for people, for any error the runtime reports. */
export function plainError(error: RuntimeError): string {
  if (error.source === 'results') {
    return error.message.startsWith('[outbox]')
      ? 'This browser could not save finished work on this device. Work still goes out while the page stays open.'
      : 'Finished work could not be sent just now. It is kept and sent again shortly.';
  }
  switch (error.code) {
    case 'not_found':
      return NO_SUCH_GRID;
    case 'invalid_input':
      if (error.field === 'grid') return NO_SUCH_GRID;
      if (error.field === 'nickname') return `That nickname cannot be used. ${NICKNAME_HINT}`;
      return 'The coordinator did not accept this page. Reload it to try again.';
    case 'rate_limited':
      return /network/.test(error.message)
        ? 'Too many wrong join codes from this network. Wait a few minutes, then reload the page.'
        : 'Too many join codes tried. Reload the page to try again.';
    case 'protocol_mismatch':
      return 'This page is out of date. Reload it to continue.';
    case 'unauthorized':
      return "This device has been blocked by the site's admin.";
    default:
      return 'The coordinator could not take this tab just now. It will try again; reload the page if this goes on.';
  }
}
