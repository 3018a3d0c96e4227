/**
 * @module The speculation policy: when the coordinator starts a backup copy of a slow task (see
 * server/scheduling/speculation.ts for the rules). A job's `speculation` option overrides any of
 * its fields, so the bounds are written once, here, for both.
 */
import { z } from 'zod';

export const SpeculationPolicy = z.strictObject({
  /** Share of the job's tasks that must have finished before a straggler gets a backup. */
  quantile: z.number().min(0).max(1),
  /** A straggler has run longer than this many times the median finished task. */
  multiplier: z.number().min(1).max(100),
  /** No copy younger than this is backed up. */
  minRuntimeMs: z.number().int().min(0).max(86_400_000),
  /** Most of the running tasks backed up at once (at least one). */
  maxShare: z.number().min(0).max(1),
  /** Back up the oldest copies when nothing waits and tabs sit idle. */
  endGame: z.boolean(),
});
export type SpeculationPolicy = z.infer<typeof SpeculationPolicy>;

/** A job's overrides of the default policy: any of its fields. */
export const SpeculationOverrides = SpeculationPolicy.partial();
export type SpeculationOverrides = z.infer<typeof SpeculationOverrides>;

export const DEFAULT_SPECULATION: SpeculationPolicy = {
  quantile: 0.75,
  multiplier: 1.5,
  minRuntimeMs: 500,
  maxShare: 0.1,
  endGame: true,
};

/** A job's `speculation` option as the policy it runs under; undefined when turned off. */
export function resolveSpeculation(
  option: boolean | SpeculationOverrides,
): SpeculationPolicy | undefined {
  if (option === false) return undefined;
  if (option === true) return DEFAULT_SPECULATION;
  const overrides = Object.fromEntries(
    Object.entries(option).filter(([, value]) => value !== undefined),
  );
  return { ...DEFAULT_SPECULATION, ...overrides };
}
