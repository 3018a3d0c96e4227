/**
 * @module What one coordinator node tells the others, through the database (PostgreSQL
 * LISTEN/NOTIFY; on SQLite, the one node tells itself). Events say what changed, never carry
 * the data: a node that hears one reads the store. Each is small (a NOTIFY payload is bounded
 * to 8,000 bytes) and checked when received, like anything else that crosses a boundary.
 */
import { z } from 'zod';

const Id = z.string().min(1).max(200);

export const ClusterEvent = z.discriminatedUnion('type', [
  /** A job was submitted or restored: nodes with idle tabs may claim its tasks. */
  z.strictObject({ type: z.literal('job-submitted'), jobId: Id }),
  /** A job's progress or status changed: admin feeds on every node refresh it. */
  z.strictObject({ type: z.literal('job-changed'), jobId: Id }),
  /** A job was cancelled: nodes drop its claims and cancel its copies. */
  z.strictObject({ type: z.literal('job-cancelled'), jobId: Id }),
  /** Claimed ranges went back (a node died or handed them back): hungry nodes may take them. */
  z.strictObject({ type: z.literal('claims-released'), jobId: Id.optional() }),
  /** A result for a task another node holds was left for it in the store. */
  z.strictObject({ type: z.literal('result-forwarded'), jobId: Id, epoch: z.number().int() }),
  /** A grid or a tab was paused or resumed, a device banned or unbanned, a token revoked. */
  z.strictObject({ type: z.literal('admin-changed'), what: z.enum(['pause', 'ban', 'token']) }),
  /** A device's results lost a vote (durable now): every node ends its streak, at once. */
  z.strictObject({ type: z.literal('device-distrusted'), deviceId: Id }),
]);
export type ClusterEvent = z.infer<typeof ClusterEvent>;
