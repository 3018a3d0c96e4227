import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../shared/errors.ts';
import { plainError } from '../../client/volunteer/plain-errors.ts';
import type { RuntimeError } from '../../client/volunteer/runtime.ts';

const INTERNAL = [
  '[realtime]: there is no grid NOPE99',
  '[volunteer:hello]: grid: expected a grid code',
  '[outbox]: QuotaExceededError: the quota has been exceeded',
  'operation has timed out',
];

describe('the volunteer page in plain words', () => {
  it('answers every error code, field and source with a sentence that carries no internal text', () => {
    const errors: RuntimeError[] = [];
    for (const message of INTERNAL) {
      errors.push({ source: 'results', message });
      for (const code of ERROR_CODES) {
        for (const field of [undefined, 'grid', 'nickname', 'slots', '__proto__']) {
          errors.push({ source: 'hello', code, message, ...(field ? { field } : {}) });
        }
      }
    }
    for (const error of errors) {
      const said = plainError(error);
      expect(said, JSON.stringify(error)).toMatch(/^[A-Z].*\.$/);
      expect(said).not.toMatch(/\[|realtime|outbox|NOPE99|expected|Quota|timed out/);
    }
  });

  it('tells a wrong join code and a malformed one alike', () => {
    const wrong = plainError({ source: 'hello', code: 'not_found', message: 'x' });
    expect(wrong).toBe('No grid has this join code. Check the code or the link with your teacher.');
    expect(
      plainError({ source: 'hello', code: 'invalid_input', field: 'grid', message: 'x' }),
    ).toBe(wrong);
  });
});
