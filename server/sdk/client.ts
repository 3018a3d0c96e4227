/**
 * @module A connection to one coordinator: jobs, uploads, grids and admin tokens over its REST API.
 * Named `Client`, not `Grid` (a grid is a classroom's set of tabs, which this creates and lists)
 * nor `Coordinator` (the running server that `server/app.ts` builds).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type {
  GridCreated,
  GridPauseResult,
  GridSummary,
  JobCreated,
  JobSpecInput,
  JobSummary,
  ResultLine,
  UploadFormat,
  UploadSummary,
} from '../../shared/job.ts';
import { JobId, uploadFormatOf } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { TokenCreated, TokenInfo } from '../../shared/tokens.ts';
import type { WorkerView } from '../../shared/workers.ts';
import { BrowsergridError, JobFailedError } from './errors.ts';
import { Job } from './job.ts';
import { Rest } from './rest.ts';

/** An ambiguous job id prefix names at most this many of its matches. */
const AMBIGUOUS_SHOWN = 5;

export interface ConnectOptions {
  /** An admin token: the coordinator's root token or one made with `createToken`. */
  token: string;
  /** How often a followed job is polled. @default 250 */
  pollMs?: number;
  /**
   * How long a followed job waits for a coordinator that stopped answering (a restart) before
   * its follow rejects. @default 120_000
   */
  reconnectMs?: number;
}

/** A map function as a function (sent as its source: it must not close over variables) or source. */
export type MapFunction<I, O> = ((input: I, ctx: never) => O | Promise<O>) | string;

export type MapOptions = Omit<JobSpecInput, 'map' | 'inputs'>;

/** What `upload` streams: a file path, a byte stream, or JSON values. */
export type UploadSource = string | Readable | Iterable<JsonValue> | AsyncIterable<JsonValue>;

/** A job this client submitted: the coordinator's answer to the submit is known. */
export type SubmittedJob = Job & { readonly created: JobCreated };

/**
 * Opens a client of the coordinator at `url`. Nothing is sent until the first call.
 *
 * @example
 * const client = connect('http://localhost:8080', { token: process.env.BROWSERGRID_ADMIN_TOKEN! });
 * const squares = await client.map([1, 2, 3], (x) => x * x); // [1, 4, 9]
 */
export function connect(url: string, options: ConnectOptions): Client {
  return new Client(url, options);
}

export class Client {
  /** The coordinator's URL, as given to `connect`. */
  readonly url: string;
  readonly pollMs: number;
  readonly reconnectMs: number;
  readonly #rest: Rest;

  constructor(url: string, options: ConnectOptions) {
    this.#rest = new Rest(url, options.token);
    this.url = url;
    this.pollMs = options.pollMs ?? 250;
    this.reconnectMs = options.reconnectMs ?? 120_000;
  }

  /**
   * Submits a job; the returned job's `created` holds its id and its task and item counts.
   *
   * @example
   * const job = await client.submit({ map: '(x) => x + 1', inputs: { range: { start: 0, end: 1e5 } } });
   */
  async submit(spec: JobSpecInput): Promise<SubmittedJob> {
    const created = await this.#rest.json<JobCreated>('POST', '/api/jobs', spec);
    return new Job(created.id, { ...this.#jobDeps(), created }) as SubmittedJob;
  }

  /**
   * A handle on a job already submitted. Nothing is sent until one of its methods is called.
   *
   * @example
   * const { status } = await client.job('j-123').status();
   */
  job(jobId: string): Job {
    return new Job(jobId, this.#jobDeps());
  }

  /**
   * The job whose id is `idOrPrefix` or, failing that, the one job whose id starts with it (the
   * short id a volunteer's tab shows, say). Rejects with status 404 when no job matches, and
   * with code `ambiguous`, naming the matches, when several do.
   *
   * @example
   * const summary = await (await client.findJob('2f0c81b0')).status();
   */
  async findJob(idOrPrefix: string): Promise<Job> {
    return new Job(await this.#resolveJobId(idOrPrefix), this.#jobDeps());
  }

  #jobDeps(): { rest: Rest; pollMs: number; reconnectMs: number } {
    return { rest: this.#rest, pollMs: this.pollMs, reconnectMs: this.reconnectMs };
  }

  async #resolveJobId(idOrPrefix: string): Promise<string> {
    const wanted = idOrPrefix.trim();
    const asked = JSON.stringify(idOrPrefix);
    const notFound = (): BrowsergridError =>
      new BrowsergridError(`[sdk]: no job ${asked} on ${this.#rest.url}`, {
        status: 404,
        code: 'not_found',
      });
    if (!JobId.safeParse(wanted).success) throw notFound();
    try {
      return (await this.#rest.json<JobSummary>('GET', `/api/jobs/${wanted}`)).id;
    } catch (error) {
      if (!(error instanceof BrowsergridError && error.status === 404)) throw error;
    }
    // The REST API takes whole ids only; a prefix is matched here, against the list.
    const prefix = wanted.toLowerCase();
    const matches = (await this.jobs()).filter((job) => job.id.toLowerCase().startsWith(prefix));
    const [only] = matches;
    if (matches.length === 1 && only) return only.id;
    if (matches.length === 0) throw notFound();
    const shown = matches
      .slice(0, AMBIGUOUS_SHOWN)
      .map((job) => `${job.id}${job.name ? ` (${job.name})` : ''}`);
    const more =
      matches.length > AMBIGUOUS_SHOWN ? `, and ${matches.length - AMBIGUOUS_SHOWN} more` : '';
    throw new BrowsergridError(
      `[sdk]: ${asked} matches ${matches.length} jobs: ${shown.join(', ')}${more}; give more of the id`,
      { status: 0, code: 'ambiguous' },
    );
  }

  /**
   * Every job's summary, in the coordinator's order.
   *
   * @example
   * for (const job of await client.jobs()) console.log(job.id, job.status);
   */
  jobs(): Promise<JobSummary[]> {
    return this.#rest.json('GET', '/api/jobs');
  }

  /**
   * Runs `fn` over `inputs` on the grid and resolves with the outputs in input order; rejects
   * with JobFailedError (holding every line) if any item ended in an error.
   *
   * @example
   * const areas = await client.map({ upload: uploadId }, (room: { w: string; h: string }) =>
   *   Number(room.w) * Number(room.h),
   * );
   */
  async map<I extends JsonValue, O extends JsonValue>(
    inputs: I[] | { range: { start: number; end: number; step?: number } } | { upload: string },
    fn: MapFunction<I, O>,
    options: MapOptions = {},
  ): Promise<O[]> {
    const map = typeof fn === 'string' ? fn : fn.toString();
    const job = await this.submit({
      // Unnamed, a job is called after its function, so lists tell jobs apart.
      name: mapName(fn),
      ...options,
      map,
      inputs,
    });
    const summary = await job.done();
    const lines: ResultLine[] = [];
    for await (const line of job.results()) lines.push(line);
    const failed = lines.filter((line) => 'error' in line);
    if (summary.status !== 'completed' || failed.length > 0) {
      const first =
        failed[0] && 'error' in failed[0] ? `; item ${failed[0].index}: ${failed[0].error}` : '';
      throw new JobFailedError(
        `[sdk]: job ${job.id} ${summary.status}, ${failed.length} items failed${first}`,
        summary,
        lines,
      );
    }
    return lines.map((line) => ('output' in line ? line.output : null) as O);
  }

  /**
   * Streams inputs to the coordinator, never holding them whole; a job then names the upload as
   * `inputs: { upload: id }`. `source` is a file path (`.ndjson`, `.jsonl` or `.csv`), a byte
   * stream in `options.format` (default NDJSON), or an (async) iterable of JSON values.
   *
   * @example
   * const upload = await client.upload('rooms.csv'); // { id, format, items, bytes, createdAt }
   */
  async upload(
    source: UploadSource,
    options: { format?: UploadFormat } = {},
  ): Promise<UploadSummary> {
    let format = options.format ?? 'ndjson';
    let bytes: Readable;
    if (typeof source === 'string') {
      const fromName = uploadFormatOf({ name: source });
      if (!fromName) {
        throw new BrowsergridError(
          `[sdk]: ${source}: uploads are NDJSON (.ndjson, .jsonl) or CSV (.csv) files`,
          { status: 0 },
        );
      }
      format = fromName;
      bytes = createReadStream(source);
    } else if (source instanceof Readable) {
      bytes = source;
    } else {
      bytes = Readable.from(ndjsonOf(source));
    }
    return this.#rest.json('POST', `/api/uploads?format=${format}`, bytes);
  }

  /**
   * Complete uploads, newest first.
   *
   * @example
   * const ids = (await client.uploads()).map((upload) => upload.id);
   */
  uploads(): Promise<UploadSummary[]> {
    return this.#rest.json('GET', '/api/uploads');
  }

  /**
   * Deletes an upload and its items; refused (409) while an unfinished job reads it.
   *
   * @example
   * await client.deleteUpload(upload.id);
   */
  async deleteUpload(uploadId: string): Promise<void> {
    await this.#rest.request('DELETE', `/api/uploads/${uploadId}`);
  }

  /**
   * Creates a grid (a classroom's set of tabs) and resolves with its join code and link.
   *
   * @example
   * const { code, joinUrl } = await client.createGrid('Room 7');
   */
  createGrid(name: string): Promise<GridCreated> {
    return this.#rest.json('POST', '/api/grids', { name });
  }

  /**
   * Every grid with its roster.
   *
   * @example
   * for (const grid of await client.grids()) console.log(grid.code, grid.devices.length);
   */
  grids(): Promise<GridSummary[]> {
    return this.#rest.json('GET', '/api/grids');
  }

  /**
   * One grid by its join code, with its roster.
   *
   * @example
   * const { devices, paused } = await client.grid('ROOM-7');
   */
  grid(code: string): Promise<GridSummary> {
    return this.#rest.json('GET', `/api/grids/${code}`);
  }

  /**
   * Pauses a grid's tabs, or with `volunteerId` one of them: each stops taking work and hands
   * back what it holds, until resumed (across restarts too). Resolves with the grid now and how
   * many tabs were told.
   *
   * @example
   * const { changed } = await client.pauseGrid('K7P3XM');
   */
  pauseGrid(code: string, options: { volunteerId?: string } = {}): Promise<GridPauseResult> {
    return this.#rest.json('POST', `/api/grids/${encodeURIComponent(code)}/pause`, options);
  }

  /**
   * Resumes a grid's tabs, or with `volunteerId` one of them.
   *
   * @example
   * await client.resumeGrid('K7P3XM', { volunteerId });
   */
  resumeGrid(code: string, options: { volunteerId?: string } = {}): Promise<GridPauseResult> {
    return this.#rest.json('POST', `/api/grids/${encodeURIComponent(code)}/resume`, options);
  }

  /**
   * The tabs connected now, in every grid and none: who could run a job.
   *
   * @example
   * if ((await client.workers()).length === 0) console.warn('no tab is connected');
   */
  workers(): Promise<WorkerView[]> {
    return this.#rest.json('GET', '/api/workers');
  }

  /**
   * Named admin tokens, revoked ones included; never the tokens themselves.
   *
   * @example
   * const live = (await client.tokens()).filter((token) => !token.revokedAt);
   */
  tokens(): Promise<TokenInfo[]> {
    return this.#rest.json('GET', '/api/tokens');
  }

  /**
   * Creates a named admin token. Its `token` is in this answer only: keep it now.
   *
   * @example
   * const { tokenId, token } = await client.createToken('teacher 2');
   */
  createToken(name: string): Promise<TokenCreated> {
    return this.#rest.json('POST', '/api/tokens', { name });
  }

  /**
   * Revokes a named admin token; calls made with it are refused from then on.
   *
   * @example
   * await client.revokeToken(tokenId);
   */
  async revokeToken(tokenId: string): Promise<void> {
    await this.#rest.request('DELETE', `/api/tokens/${tokenId}`);
  }
}

async function* ndjsonOf(
  values: Iterable<JsonValue> | AsyncIterable<JsonValue>,
): AsyncIterable<string> {
  for await (const value of values) yield `${JSON.stringify(value)}\n`;
}

/** A name for an unnamed `map` job: the function's own name, else the start of its source. */
function mapName(fn: { name: string } | string): string {
  if (typeof fn !== 'string' && fn.name) return `map: ${fn.name}`;
  const source = (typeof fn === 'string' ? fn : fn.toString()).replace(/\s+/g, ' ').trim();
  return `map: ${source.length > 60 ? `${source.slice(0, 59)}…` : source}`;
}
