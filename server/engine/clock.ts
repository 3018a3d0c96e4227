/** @module The engine's notion of now, injected so tests can move time by hand. */

export interface Clock {
  now(): number;
}

/** Wall-clock time in milliseconds: what a coordinator uses unless a test injects its own. */
export const systemClock: Clock = { now: () => Date.now() };
