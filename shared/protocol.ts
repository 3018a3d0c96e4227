/**
 * @module The socket protocol between the coordinator and volunteer tabs (default namespace) and
 * admin pages (`/admin`): every event's name and payload schema, both directions.
 *
 * Every copy of a task a tab receives carries its own `leaseId`; results, progress and cancels
 * name the lease, which makes duplicates and retries idempotent.
 */
import { z } from 'zod';
import { WireError } from './errors.ts';
import { GridCode, ItemOutcome, JobId, JobSummary } from './job.ts';
import { JsonValue } from './json.ts';
import { arrayToFirstIssue } from './arrays.ts';
import {
  MAX_ANNOUNCED_NODES,
  MAX_CHUNK_SIZE,
  MAX_RESULTS_PER_MESSAGE,
  MAX_SLOTS_PER_TAB,
} from './limits.ts';

/** Bumped on any incompatible change; a tab speaking another version is refused at hello. */
export const PROTOCOL_VERSION = 1;

export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

const Id = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected an id');
export const LeaseId = Id;
export const DeviceId = Id;
export const TabId = Id;

/**
 * What a volunteer calls themselves on their grid's roster. Refused, not cleaned: control,
 * line-separator and bidi-override characters (which could forge or reorder a roster line) and
 * lone surrogates, checked before the trim so that none passes by sitting at an end. Length
 * counts UTF-16 units, as the page's input does.
 */
export const NICKNAME_MAX_CHARS = 40;
const NICKNAME_REFUSED = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/u;
export const Nickname = z
  .string()
  .refine((name) => !NICKNAME_REFUSED.test(name), 'no control or direction characters')
  .trim()
  .min(1, 'expected a nickname')
  .max(NICKNAME_MAX_CHARS, `at most ${NICKNAME_MAX_CHARS} characters`);
export type Nickname = z.infer<typeof Nickname>;

export const Hello = z.strictObject({
  protocolVersion: z.number().int(),
  /**
   * The id the coordinator issued this browser (kept in IndexedDB, shared by its tabs). Any other
   * value (none yet, an old random one, a forged one) gets a fresh issued id in the welcome.
   */
  deviceId: DeviceId,
  /** Random, kept in sessionStorage: per tab, survives a reload. */
  tabId: TabId,
  /** Tasks the tab runs at once (its Web Workers); 0 while paused. */
  slots: z.number().int().min(0).max(MAX_SLOTS_PER_TAB),
  grid: GridCode.optional(),
  userAgent: z.string().max(512).optional(),
  /** Shown on the grid's roster beside the tab's browser. */
  nickname: Nickname.optional(),
});
export type Hello = z.infer<typeof Hello>;

/** Where the live coordinators listen (several on one database), the receiving one first. */
export const NodeUrls = z.array(z.string().max(2_048)).max(MAX_ANNOUNCED_NODES);

/**
 * The node a tab tries after `current` did not answer: the next one listed after it (round the
 * list), or the first other one if `current` is not listed. Undefined when there is no other.
 */
export function nextNode(nodes: readonly string[], current: string): string | undefined {
  if (!nodes.some((url) => url !== current)) return undefined;
  const at = nodes.indexOf(current);
  return at < 0 ? nodes.find((url) => url !== current) : nodes[(at + 1) % nodes.length];
}

/** The live nodes changed (one joined or was lost) since the tab's welcome. */
export const NodeList = z.object({ nodes: NodeUrls });
export type NodeList = z.infer<typeof NodeList>;

/**
 * Who paused a tab, so its page can say so: the grid's admin for the whole grid or for this tab
 * alone, or the coordinator's admin (a banned device, closed after this message).
 */
export const PausedBy = z.enum(['grid', 'tab', 'coordinator']);
export type PausedBy = z.infer<typeof PausedBy>;

export const Welcome = z.object({
  volunteerId: TabId,
  /** The device id this connection counts as: the hello's if the coordinator issued it, else a
   * fresh one the tab keeps and sends in later hellos. */
  deviceId: DeviceId,
  /** Coordinator's clock (ms since epoch), for tabs that log or compare times. */
  serverTime: z.number(),
  /**
   * Where the tab reaches the live coordinators (several on one database), this one first: if
   * this one is lost, the tab moves to another and sends what it holds there.
   */
  nodes: NodeUrls.optional(),
  /** The name of the grid the hello's join code named, to show the volunteer where they are. */
  gridName: z.string().optional(),
  /**
   * The grid's admin has this tab paused (the whole grid, or this tab). Absent, no admin pause
   * holds: a tab that was paused when it lost its connection and was resumed meanwhile runs again.
   */
  pausedBy: PausedBy.extract(['grid', 'tab']).optional(),
});
export type Welcome = z.infer<typeof Welcome>;

export const Capacity = z.strictObject({ slots: z.number().int().min(0).max(MAX_SLOTS_PER_TAB) });
export type Capacity = z.infer<typeof Capacity>;

/**
 * How a job's `map` is compiled in the tab: a function expression, or an ES module whose default
 * export is the function. Decided once, at submit (server/jobs/map-source.ts), never guessed again.
 */
export const MapKind = z.enum(['function', 'module']);
export type MapKind = z.infer<typeof MapKind>;

/** Job code, sent once per tab per job, before the first of its tasks. */
export const JobCode = z.object({
  jobId: JobId,
  /** Shown to the volunteer: what their computer is working on, and for whom. */
  name: z.string().optional(),
  description: z.string().optional(),
  submittedBy: z.string().optional(),
  map: z.string(),
  mapKind: MapKind,
  timeoutMs: z.number().int(),
});
export type JobCode = z.infer<typeof JobCode>;

/**
 * A long task's saved state: the item it was on, the map's state for that item, and the outcomes
 * of the items before it. A copy given a checkpoint resumes at `item`, with `ctx.restore()`
 * returning `state`.
 */
export const TaskCheckpoint = z.strictObject({
  item: z.number().int().min(0),
  state: JsonValue,
  done: arrayToFirstIssue(ItemOutcome, MAX_CHUNK_SIZE),
});
export type TaskCheckpoint = z.infer<typeof TaskCheckpoint>;

export const Assignment = z.object({
  leaseId: LeaseId,
  jobId: JobId,
  taskIndex: z.number().int().min(0),
  /** Index of the task's first item in the job's inputs. */
  start: z.number().int().min(0),
  inputs: arrayToFirstIssue(JsonValue, MAX_CHUNK_SIZE),
  /** The latest checkpoint the coordinator holds for this task, if any. */
  checkpoint: TaskCheckpoint.optional(),
});
export type Assignment = z.infer<typeof Assignment>;

export const AssignBatch = z.object({ jobs: z.array(JobCode), tasks: z.array(Assignment) });
export type AssignBatch = z.infer<typeof AssignBatch>;

export const CancelReason = z.enum(['committed', 'cancelled', 'expired', 'paused']);
export const CancelBatch = z.object({ leaseIds: z.array(LeaseId), reason: CancelReason });
export type CancelBatch = z.infer<typeof CancelBatch>;

/**
 * A finished copy of a task. `ok` carries one outcome per item (an item whose map threw carries
 * its error); `error` means the copy produced nothing usable (timeout, worker crash).
 */
export const TaskResult = z.strictObject({
  leaseId: LeaseId,
  jobId: JobId,
  taskIndex: z.number().int().min(0),
  durationMs: z.number().min(0).max(1e10),
  outcome: z.discriminatedUnion('status', [
    z.strictObject({
      status: z.literal('ok'),
      items: arrayToFirstIssue(ItemOutcome, MAX_CHUNK_SIZE),
    }),
    z.strictObject({ status: z.literal('error'), message: z.string().max(4096) }),
  ]),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** How a copy ended in its tab, as the tab's worker pool reports it and the result carries it. */
export const TaskOutcome = TaskResult.shape.outcome;
export type TaskOutcome = z.infer<typeof TaskOutcome>;

export const ResultBatch = z.strictObject({
  results: z.array(TaskResult).min(1).max(MAX_RESULTS_PER_MESSAGE),
});
export type ResultBatch = z.infer<typeof ResultBatch>;

/**
 * A results message as the coordinator first reads it: the envelope only, so each result is then
 * judged alone and one malformed result is refused by itself, not with the rest of its message.
 */
export const ResultBatchEnvelope = z.strictObject({
  results: z.array(z.unknown()).min(1).max(MAX_RESULTS_PER_MESSAGE),
});
export type ResultBatchEnvelope = z.infer<typeof ResultBatchEnvelope>;

/**
 * `leaseIds`: results committed or knowingly dropped (duplicates); `refused`: results the
 * coordinator will never take (another tab's lease). The tab forgets both.
 */
export const ResultAck = z.object({ leaseIds: z.array(LeaseId), refused: z.array(LeaseId) });
export type ResultAck = z.infer<typeof ResultAck>;

/**
 * Copies that started or moved on. `elapsedMs` is how long the copy has run in the tab (so the
 * coordinator learns its start time); `fraction` is what the map reported via `ctx.progress`.
 * A copy is reported when it starts and then, throttled, whenever it reports progress; each
 * report restarts its `timeoutMs`.
 */
export const ProgressBatch = z.strictObject({
  updates: z
    .array(
      z.strictObject({
        leaseId: LeaseId,
        elapsedMs: z.number().min(0).max(1e10),
        fraction: z.number().min(0).max(1).optional(),
      }),
    )
    .min(1)
    .max(MAX_RESULTS_PER_MESSAGE),
});
export type ProgressBatch = z.infer<typeof ProgressBatch>;

/** A copy's latest checkpoint, sent throttled; the tab keeps every checkpoint in IndexedDB. */
export const CheckpointReport = z.strictObject({
  leaseId: LeaseId,
  jobId: JobId,
  taskIndex: z.number().int().min(0),
  checkpoint: TaskCheckpoint,
});
export type CheckpointReport = z.infer<typeof CheckpointReport>;

/** Copies a tab gives back unrun (it was paused): they go to other tabs at no attempt's cost. */
export const ReleaseBatch = z.strictObject({
  leaseIds: z.array(LeaseId).min(1).max(MAX_RESULTS_PER_MESSAGE),
});
export type ReleaseBatch = z.infer<typeof ReleaseBatch>;

/** The grid's admin paused or resumed this tab; a paused tab takes no work and holds none. */
export const Control = z.object({
  paused: z.boolean(),
  reason: z.string().optional(),
  pausedBy: PausedBy.optional(),
});
export type Control = z.infer<typeof Control>;

export interface VolunteerToServerEvents {
  'volunteer:hello': (hello: Hello, ack: (res: Ack<Welcome>) => void) => void;
  'volunteer:capacity': (capacity: Capacity, ack: (res: Ack<null>) => void) => void;
  'task:results': (batch: ResultBatch, ack: (res: Ack<ResultAck>) => void) => void;
  'task:progress': (batch: ProgressBatch) => void;
  'task:checkpoint': (report: CheckpointReport) => void;
  'task:release': (batch: ReleaseBatch, ack: (res: Ack<null>) => void) => void;
}

export interface ServerToVolunteerEvents {
  'task:assign': (batch: AssignBatch) => void;
  'task:cancel': (batch: CancelBatch) => void;
  'volunteer:control': (control: Control) => void;
  'volunteer:nodes': (list: NodeList) => void;
}

export interface AdminToServerEvents {
  'jobs:subscribe': (ack: (res: Ack<JobSummary[]>) => void) => void;
}

export interface ServerToAdminEvents {
  'job:progress': (summary: JobSummary) => void;
}
