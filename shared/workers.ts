/**
 * @module A connected tab as `GET /api/workers` lists it. With several nodes each lists its own
 * tabs in the store and the route reads every live node's, so the list names the node too.
 */
import { z } from 'zod';
import { RosterEntry } from './job.ts';

export const WorkerView = z.strictObject({
  volunteerId: z.string(),
  deviceId: z.string(),
  grid: z.string().optional(),
  slots: z.number().int().min(0),
  /** Copies it holds now. */
  holding: z.number().int().min(0),
  tasksDone: z.number().int().min(0),
  /** Its moving average task time, once it reported one. */
  taskMs: z.number().min(0).optional(),
  /** The node it is connected to (its id), with several nodes. */
  node: z.string().optional(),
  /** A grid tab as its grid's roster shows it, so every node's roster lists every node's tabs. */
  roster: RosterEntry.optional(),
});
export type WorkerView = z.infer<typeof WorkerView>;
