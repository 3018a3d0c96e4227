/**
 * @module How many tasks a tab should hold: enough that its workers never wait on a round trip,
 * few enough that a straggler does not hoard the job. Sized from the tab's measured speed so it
 * holds about `targetQueueMs` of work.
 */

export interface PrefetchOptions {
  /** Work a tab should hold, in ms of its measured task time. */
  targetQueueMs: number;
  /** Upper bound on tasks held per Web Worker, however fast the tasks. */
  maxPerSlot: number;
  /** Tasks per Web Worker before the tab has reported any run time. */
  initialPerSlot: number;
  /**
   * Input bytes a tab may hold (one task per Web Worker is let through whatever its size): big
   * items fill a tab by size before they fill it by time, which bounds both the tab's hoard and
   * each assign message.
   */
  maxHeldBytes: number;
}

export const DEFAULT_PREFETCH: PrefetchOptions = {
  targetQueueMs: 2_000,
  maxPerSlot: 256,
  initialPerSlot: 2,
  maxHeldBytes: 1024 * 1024,
};

export function targetOutstanding(
  slots: number,
  ewmaTaskMs: number | undefined,
  options: PrefetchOptions = DEFAULT_PREFETCH,
): number {
  if (slots <= 0) return 0;
  if (ewmaTaskMs === undefined) return slots * options.initialPerSlot;
  const perSlot = Math.ceil(options.targetQueueMs / Math.max(ewmaTaskMs, 0.01));
  return slots * Math.min(options.maxPerSlot, Math.max(1, perSlot));
}

/** Exponential moving average with weight `alpha` on the new sample. */
export function updateEwma(previous: number | undefined, sample: number, alpha = 0.2): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}
