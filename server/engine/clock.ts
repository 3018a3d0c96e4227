/** @module The engine's notion of now, injected so tests can move time by hand. */

export interface Clock {
  now(): number;
}
