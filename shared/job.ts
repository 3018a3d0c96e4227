/** @module Job spec, job summary and per-item outcome schemas: the REST API's body and response types. */
import { z } from 'zod';
import { arrayToFirstIssue } from './arrays.ts';
import { JsonValue } from './json.ts';
import { SpeculationOverrides } from './speculation.ts';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_RUNTIME_TIMEOUTS,
  DEFAULT_TASK_TIMEOUT_MS,
  MAX_CHUNK_SIZE,
  MAX_JOB_ITEMS,
  MAX_MAP_CODE_CHARS,
  MAX_MAX_ATTEMPTS,
  MAX_REDUNDANCY,
  MAX_TASK_TIMEOUT_MS,
  MIN_TASK_TIMEOUT_MS,
} from './limits.ts';

/** A grid's code, as people type it to join (`?grid=CODE`). */
export const GridCode = z.string().regex(/^[A-Za-z0-9-]{1,32}$/, 'expected a grid code');

export const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a job id');
export type JobId = z.infer<typeof JobId>;

/** `{ range: { start, end, step } }` stands for start, start+step, … while < end (like Python's range). */
export const RangeInputs = z
  .object({
    range: z.strictObject({
      start: z.number().int().safe(),
      end: z.number().int().safe(),
      step: z
        .number()
        .int()
        .safe()
        .refine((step) => step !== 0, 'step must not be 0')
        .default(1),
    }),
  })
  .strict()
  .refine((spec) => rangeLength(spec.range) <= MAX_JOB_ITEMS, {
    message: `a range may hold at most ${MAX_JOB_ITEMS} items`,
    path: ['range'],
  });
export type RangeInputs = z.infer<typeof RangeInputs>;

/** An upload's id, as `POST /api/uploads` returned it. */
export const UploadId = z.string().regex(/^u-[0-9a-f-]{36}$/, 'expected an upload id such as u-…');

/** `{ upload: id }`: the items of a completed upload (NDJSON or CSV streamed to `POST /api/uploads`). */
export const UploadInputs = z.strictObject({ upload: UploadId });
export type UploadInputs = z.infer<typeof UploadInputs>;

export const JobInputs = z.union([
  arrayToFirstIssue(JsonValue, MAX_JOB_ITEMS),
  RangeInputs,
  UploadInputs,
]);
export type JobInputs = z.infer<typeof JobInputs>;

export const JobSpec = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  /** What the job computes and why, shown to the volunteers who run it. */
  description: z.string().trim().max(1000).optional(),
  /** Set by the coordinator from the admin token that submitted the job. */
  submittedBy: z.string().max(100).optional(),
  /** Source of `(input, ctx) => output` (sync or async), or an ES module whose default export is one. */
  map: z.string().min(1, 'map must not be empty').max(MAX_MAP_CODE_CHARS),
  inputs: JobInputs,
  chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
  timeoutMs: z
    .number()
    .int()
    .min(MIN_TASK_TIMEOUT_MS)
    .max(MAX_TASK_TIMEOUT_MS)
    .default(DEFAULT_TASK_TIMEOUT_MS),
  /**
   * Longest a copy may run from its start, however much progress it reports (each report restarts
   * `timeoutMs`). Unset: `DEFAULT_MAX_RUNTIME_TIMEOUTS` (20) x `timeoutMs`, at most 24 h; see
   * `maxRuntimeMsOf`.
   */
  maxRuntimeMs: z.number().int().min(MIN_TASK_TIMEOUT_MS).max(MAX_TASK_TIMEOUT_MS).optional(),
  maxAttempts: z.number().int().min(1).max(MAX_MAX_ATTEMPTS).default(DEFAULT_MAX_ATTEMPTS),
  /** Matching results from distinct devices needed before a task's result commits. */
  redundancy: z.number().int().min(1).max(MAX_REDUNDANCY).default(1),
  /**
   * With redundancy > 1: copies and agreeing results of a task must also come from distinct
   * remote addresses, so several browsers (or forged devices) behind one address count once.
   * Costs: tabs behind one NAT (a classroom, an office) then count as one, and alone can never
   * reach a quorum of 2. Default false.
   */
  distinctAddresses: z.boolean().default(false),
  /**
   * With redundancy > 1: devices with a run of agreed results get most tasks alone, spot-checked
   * (see server/scheduling/trust.ts), so verification costs far less than `redundancy` times.
   */
  adaptiveTrust: z.boolean().default(false),
  /** Higher runs first; equal priorities share tabs round-robin. */
  priority: z.number().int().min(-1000).max(1000).default(0),
  /**
   * Folded over the outputs in input order once the job completes, on the coordinator (a worker
   * thread with a time limit): `fn` is `(acc, output, index) => acc`, starting from `initial`.
   */
  reduce: z
    .strictObject({
      fn: z.string().min(1).max(MAX_MAP_CODE_CHARS),
      initial: JsonValue.default(null),
    })
    .optional(),
  /** Runs only on tabs that joined this grid (`?grid=CODE`); must name an existing grid. */
  grid: GridCode.optional(),
  /**
   * Backup copies of slow tasks: `true` (default policy), `false` (off), or policy overrides
   * `{ quantile, multiplier, minRuntimeMs, maxShare, endGame }` (see shared/speculation.ts).
   */
  speculation: z.union([z.boolean(), SpeculationOverrides]).default(true),
});
/** What a client sends (defaults optional). */
export type JobSpecInput = z.input<typeof JobSpec>;
/** What the coordinator keeps (defaults filled in). */
export type JobSpec = z.infer<typeof JobSpec>;

/** The longest a copy of this job's tasks may run from its start (see `JobSpec.maxRuntimeMs`). */
export function maxRuntimeMsOf(spec: Pick<JobSpec, 'timeoutMs' | 'maxRuntimeMs'>): number {
  return (
    spec.maxRuntimeMs ??
    Math.min(MAX_TASK_TIMEOUT_MS, spec.timeoutMs * DEFAULT_MAX_RUNTIME_TIMEOUTS)
  );
}

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

export function isFinished(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export const JobCreated = z.object({ id: JobId, tasks: z.number().int(), items: z.number().int() });
export type JobCreated = z.infer<typeof JobCreated>;

/** `done`, `failed` and `inFlight` count tasks; `items` counts input items. */
export const JobSummary = z.object({
  id: JobId,
  name: z.string().optional(),
  status: JobStatus,
  items: z.number().int(),
  tasks: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  inFlight: z.number().int(),
  priority: z.number().int(),
  grid: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** With a reduce: pending until it ran, then its value or why there is none. */
  reduce: z
    .union([
      z.object({ status: z.literal('pending') }),
      z.object({ status: z.literal('done'), value: JsonValue }),
      z.object({ status: z.literal('error'), error: z.string() }),
    ])
    .optional(),
});
export type JobSummary = z.infer<typeof JobSummary>;

/** What one input item produced: the map's output, or why it has none. */
export const ItemOutcome = z.union([
  z.strictObject({ output: JsonValue }),
  z.strictObject({ error: z.string().max(4096) }),
]);
export type ItemOutcome = z.infer<typeof ItemOutcome>;

/** One line of `GET /api/jobs/:id/results`. */
export type ResultLine = { index: number } & ItemOutcome;

export const GridSpec = z.strictObject({ name: z.string().trim().min(1).max(100) });
export type GridSpec = z.infer<typeof GridSpec>;

export const GridCreated = z.object({ code: GridCode, name: z.string(), joinUrl: z.string() });
export type GridCreated = z.infer<typeof GridCreated>;

export const DeviceState = z.enum(['working', 'idle', 'paused', 'gone']);
export type DeviceState = z.infer<typeof DeviceState>;

/** One tab in a grid's roster. */
export const RosterEntry = z.object({
  volunteerId: z.string(),
  deviceId: z.string(),
  browser: z.string(),
  /** What the volunteer called themselves at hello (shared/protocol.ts `Nickname`), if anything. */
  nickname: z.string().optional(),
  cores: z.number().int(),
  state: DeviceState,
  pausedByAdmin: z.boolean(),
  holding: z.number().int(),
  tasksDone: z.number().int(),
  /** Run time of the tab's committed results, in seconds: its contribution. */
  cpuSeconds: z.number(),
  /** Measured run time of one task, ms. */
  taskMs: z.number().optional(),
  lastSeen: z.string(),
  /** When the tab connected (ISO time): the roster's "joined 12:04". */
  joinedAt: z.string().optional(),
});
export type RosterEntry = z.infer<typeof RosterEntry>;

export const GridSummary = z.object({
  code: GridCode,
  name: z.string(),
  joinUrl: z.string(),
  createdAt: z.string(),
  paused: z.boolean(),
  devices: z.array(RosterEntry),
});
export type GridSummary = z.infer<typeof GridSummary>;

/** `POST /api/grids/:code/pause` or `/resume`: `{}` for the whole grid, `{ volunteerId }` for one tab. */
export const PauseTarget = z.strictObject({ volunteerId: z.string().min(1).max(200).optional() });
export type PauseTarget = z.infer<typeof PauseTarget>;

/** What pausing or resuming answers: the grid as it is now, and how many tabs were told. */
export const GridPauseResult = GridSummary.extend({ changed: z.number().int().min(0) });
export type GridPauseResult = z.infer<typeof GridPauseResult>;

export const UPLOAD_FORMATS = ['ndjson', 'csv'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

const UPLOAD_EXTENSIONS: Record<string, UploadFormat> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.csv': 'csv',
};
/** Content types `POST /api/uploads` understands, by format. */
export const UPLOAD_CONTENT_TYPES: Record<string, UploadFormat> = {
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/jsonlines': 'ndjson',
  'text/csv': 'csv',
};

/** A file's upload format from its name's extension, else its content type; undefined if neither says. */
export function uploadFormatOf(file: { name?: string; type?: string }): UploadFormat | undefined {
  const extension = /\.[^./\\]+$/.exec(file.name?.toLowerCase() ?? '')?.[0] ?? '';
  const type = file.type?.split(';')[0]?.trim().toLowerCase() ?? '';
  return UPLOAD_EXTENSIONS[extension] ?? UPLOAD_CONTENT_TYPES[type];
}

/** `POST /api/uploads`'s answer and `GET /api/uploads/:id`. */
export const UploadSummary = z.object({
  id: UploadId,
  format: z.enum(UPLOAD_FORMATS),
  items: z.number().int(),
  bytes: z.number().int(),
  createdAt: z.string(),
});
export type UploadSummary = z.infer<typeof UploadSummary>;

export function rangeLength(range: { start: number; end: number; step?: number }): number {
  const step = range.step ?? 1;
  if (step === 0) return 0;
  const span = step > 0 ? range.end - range.start : range.start - range.end;
  return span <= 0 ? 0 : Math.ceil(span / Math.abs(step));
}
