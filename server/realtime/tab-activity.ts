/**
 * @module Tabs joining and leaving, for the log. Each tab gets a debug line; at info they are
 * summed into one line at most once per interval. A classroom of 30 reads as it happens (the
 * first change after a quiet spell is logged within the same turn), while 20,000 tabs
 * reconnecting after a restart, or a lab's tabs churning, make one line per interval instead of
 * thousands per second, which would cost more CPU than the tabs themselves and bury every other
 * line.
 */
import type { Log } from '../log.ts';

export interface TabActivity {
  joined(fields: Record<string, unknown>): void;
  left(fields: Record<string, unknown>): void;
  /** Logs what is still pending and stops the timer. */
  close(): void;
}

/** `connected` reads this node's tab count when a line is written. */
export function createTabActivity(
  log: Log,
  intervalMs: number,
  connected: () => number,
): TabActivity {
  let joined = 0;
  let left = 0;
  let loggedAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    if (joined === 0 && left === 0) return;
    const tabs = connected();
    log.info(
      { joined, left, tabs },
      `[realtime]: ${joined} tab(s) joined, ${left} left; ${tabs} connected`,
    );
    loggedAt = performance.now();
    joined = 0;
    left = 0;
  };
  const schedule = (): void => {
    if (timer !== undefined) return;
    // At once after a quiet spell (a zero delay still gathers the tabs of this turn), else when
    // the interval since the last line is up.
    const waitMs = Math.max(0, loggedAt + intervalMs - performance.now());
    timer = setTimeout(flush, waitMs);
    timer.unref();
  };
  return {
    joined(fields) {
      log.debug(fields, '[realtime]: tab joined');
      joined++;
      schedule();
    },
    left(fields) {
      log.debug(fields, '[realtime]: tab left');
      left++;
      schedule();
    },
    close() {
      clearTimeout(timer);
      flush();
    },
  };
}
