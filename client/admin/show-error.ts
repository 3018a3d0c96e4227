/** @module How the admin page shows an error next to what failed. */
import { ApiError } from './api.ts';

/**
 * Shows `error` in `target`, or hides `target` when `error` is undefined. The server's message
 * loses its `[module]: ` tag, which means nothing to a teacher, and is told which form field it
 * is about when it does not say so itself.
 */
export function showError(target: HTMLElement, error: unknown): void {
  target.hidden = error === undefined;
  if (error === undefined) {
    target.textContent = '';
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  const plain = message.replace(/^\[[\w:-]+\]:\s*/, '');
  target.textContent =
    error instanceof ApiError && error.field && !plain.includes(error.field)
      ? `${error.field}: ${plain}`
      : plain;
}
