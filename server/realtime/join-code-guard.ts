/**
 * @module Guards the grid join code a `volunteer:hello` names against guessing: a few attempts
 * per connection, and a sliding window of misses per network address, past which a hello naming
 * a grid is refused without the code being looked up. Every wrong code gets the same answer.
 */
import { CoordinatorError } from '../errors.ts';
import type { Log } from '../log.ts';
import { addressKey } from './address-key.ts';

export interface JoinCodeLimits {
  /** Wrong join codes one address may send per window; 0 turns the window off. */
  missesPerAddress: number;
  missWindowMs: number;
}

/** A tab names its grid once per connection; three lets a person fix a typo. */
export const JOIN_ATTEMPTS_PER_CONNECTION = 3;

/** Shown to people as is: plain words, no subsystem prefix. */
export const NO_SUCH_GRID =
  'No grid has this join code. Check the code or the link with your teacher.';

/** How many misses are recorded between sweeps of addresses whose window has passed. */
const SWEEP_EVERY = 1_000;

export interface JoinCodeGuard {
  /**
   * The check for one connection: resolves when `code` names a grid, else throws (`not_found`
   * for a wrong code, `rate_limited` past an allowance) and, once the connection has used its
   * attempts, closes it after the answer is sent.
   */
  forConnection(
    address: string,
    close: () => void,
  ): (code: string, exists: (code: string) => Promise<boolean>) => Promise<void>;
}

export function createJoinCodeGuard(
  limits: JoinCodeLimits,
  log: Log,
  now: () => number = () => performance.now(),
): JoinCodeGuard {
  /** Per address key: when each recent miss (or attempt still being looked up) happened. */
  const misses = new Map<string, Array<{ at: number }>>();
  let recorded = 0;

  const recent = (key: string, at: number): Array<{ at: number }> => {
    const list = (misses.get(key) ?? []).filter((miss) => at - miss.at < limits.missWindowMs);
    if (list.length > 0) misses.set(key, list);
    else misses.delete(key);
    return list;
  };
  const sweep = (at: number): void => {
    for (const key of [...misses.keys()]) recent(key, at);
  };

  return {
    forConnection(address, close) {
      const key = addressKey(address);
      let attempts = 0;
      return async (code, exists) => {
        const last = ++attempts >= JOIN_ATTEMPTS_PER_CONNECTION;
        if (attempts > JOIN_ATTEMPTS_PER_CONNECTION) {
          throw new CoordinatorError(
            'rate_limited',
            'Too many join codes tried on this connection. Reload the page to try again.',
          );
        }
        const at = now();
        const list = limits.missesPerAddress > 0 ? recent(key, at) : [];
        if (limits.missesPerAddress > 0 && list.length >= limits.missesPerAddress) {
          log.warn({ address }, '[realtime]: join code refused unread, too many misses');
          if (last) closeAfterAnswer(close);
          throw new CoordinatorError(
            'rate_limited',
            'Too many wrong join codes from this network. Wait a few minutes, then reload the page.',
          );
        }
        // Recorded before the lookup and forgiven if the code is right, so a burst of hellos
        // in flight at once cannot look up more codes than the window allows.
        const attempt = { at };
        if (limits.missesPerAddress > 0) {
          list.push(attempt);
          misses.set(key, list);
          if (++recorded % SWEEP_EVERY === 0) sweep(at);
        }
        if (await exists(code)) {
          const kept = misses.get(key);
          const index = kept?.indexOf(attempt) ?? -1;
          if (kept && index >= 0) kept.splice(index, 1);
          return;
        }
        log.info({ address }, '[realtime]: hello named no grid');
        if (last) closeAfterAnswer(close);
        throw new CoordinatorError('not_found', NO_SUCH_GRID);
      };
    },
  };
}

/** Runs `close` once the refusal being thrown has been acked: acks are sent from promise
 * callbacks, which all run before a timer. */
function closeAfterAnswer(close: () => void): void {
  setTimeout(close, 0);
}
