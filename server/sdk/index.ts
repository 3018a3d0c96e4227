/**
 * @module The Node SDK: submit jobs, follow them, read their results, from scripts.
 *
 * @example
 * import { connect } from 'browsergrid/sdk';
 * const grid = connect('http://localhost:8080', { token: process.env.BROWSERGRID_ADMIN_TOKEN });
 * const squares = await grid.map([1, 2, 3], (x) => x * x); // [1, 4, 9]
 * const job = await grid.submit({ map: '(x) => x + 1', inputs: { range: { start: 0, end: 1e5 } } });
 * job.onProgress((summary) => console.log(`${summary.done}/${summary.tasks}`));
 * for await (const line of job.results({ follow: true })) console.log(line.index, line);
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { ErrorResponse } from '../../shared/errors.ts';
import type {
  GridCreated,
  GridSummary,
  JobCreated,
  JobSpecInput,
  JobSummary,
  ResultLine,
  UploadFormat,
  UploadSummary,
} from '../../shared/job.ts';
import { isFinished, uploadFormatOf } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';

export interface ConnectOptions {
  token: string;
  /** How often a job is polled while it is followed. */
  pollMs?: number;
}

/** A map function as a function (sent as its source: it must not close over variables) or source. */
export type MapFunction<I, O> = ((input: I, ctx: never) => O | Promise<O>) | string;

export type MapOptions = Omit<JobSpecInput, 'map' | 'inputs'>;

export class BrowsergridError extends Error {
  override readonly name = 'BrowsergridError';
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Thrown by `map` when items failed: `results` holds every line, outputs and errors alike. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  constructor(
    message: string,
    readonly summary: JobSummary,
    readonly results: ResultLine[],
  ) {
    super(message);
  }
}

export function connect(url: string, options: ConnectOptions): Grid {
  return new Grid(url, options);
}

export class Grid {
  readonly #url: string;
  readonly #token: string;
  readonly pollMs: number;

  constructor(url: string, options: ConnectOptions) {
    this.#url = url;
    this.#token = options.token;
    this.pollMs = options.pollMs ?? 250;
  }

  async submit(spec: JobSpecInput): Promise<Job> {
    const created = await this.json<JobCreated>('POST', '/api/jobs', spec);
    return new Job(this, created.id);
  }

  job(jobId: string): Job {
    return new Job(this, jobId);
  }

  /**
   * Runs `fn` over `inputs` on the grid and resolves with the outputs in input order; rejects
   * with JobFailedError (holding every line) if any item ended in an error.
   */
  async map<I extends JsonValue, O extends JsonValue>(
    inputs: I[] | { range: { start: number; end: number; step?: number } } | { upload: string },
    fn: MapFunction<I, O>,
    options: MapOptions = {},
  ): Promise<O[]> {
    const job = await this.submit({
      ...options,
      map: typeof fn === 'string' ? fn : fn.toString(),
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
   * stream in `options.format`, or an (async) iterable of JSON values.
   */
  async upload(
    source: string | Readable | Iterable<JsonValue> | AsyncIterable<JsonValue>,
    options: { format?: UploadFormat } = {},
  ): Promise<UploadSummary> {
    let format = options.format ?? 'ndjson';
    let bytes: Readable;
    if (typeof source === 'string') {
      const fromName = uploadFormatOf({ name: source });
      if (!fromName) {
        throw new BrowsergridError(
          `[sdk]: ${source}: uploads are NDJSON (.ndjson, .jsonl) or CSV (.csv) files`,
          0,
        );
      }
      format = fromName;
      bytes = createReadStream(source);
    } else if (source instanceof Readable) {
      bytes = source;
    } else {
      bytes = Readable.from(ndjsonOf(source));
    }
    const res = await this.request('POST', `/api/uploads?format=${format}`, bytes);
    return (await res.json()) as UploadSummary;
  }

  /** Complete uploads, newest first. */
  uploads(): Promise<UploadSummary[]> {
    return this.json('GET', '/api/uploads');
  }

  createGrid(name: string): Promise<GridCreated> {
    return this.json('POST', '/api/grids', { name });
  }

  grids(): Promise<GridSummary[]> {
    return this.json('GET', '/api/grids');
  }

  /** @internal */
  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const streamed = body instanceof Readable;
    const res = await fetch(new URL(path, this.#url), {
      method,
      headers: {
        Authorization: `Bearer ${this.#token}`,
        ...(body !== undefined && !streamed ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(streamed
        ? { body: Readable.toWeb(body) as ReadableStream, duplex: 'half' }
        : body !== undefined
          ? { body: JSON.stringify(body) }
          : {}),
    } as RequestInit);
    if (res.ok) return res;
    const parsed = ErrorResponse.safeParse(await res.json().catch(() => undefined));
    if (parsed.success) {
      const { message, code, field } = parsed.data.error;
      throw new BrowsergridError(message, res.status, code, field);
    }
    throw new BrowsergridError(
      `[sdk]: ${method} ${path} failed with HTTP ${res.status}`,
      res.status,
    );
  }

  /** @internal */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }
}

export class Job {
  readonly #grid: Grid;
  readonly id: string;
  readonly #listeners = new Set<(summary: JobSummary) => void>();
  #watching?: Promise<JobSummary>;

  constructor(grid: Grid, jobId: string) {
    this.#grid = grid;
    this.id = jobId;
  }

  status(): Promise<JobSummary> {
    return this.#grid.json('GET', `/api/jobs/${this.id}`);
  }

  cancel(): Promise<JobSummary> {
    return this.#grid.json('DELETE', `/api/jobs/${this.id}`);
  }

  /** Calls `listener` whenever the job's counters move, until it finishes. Returns an unsubscribe. */
  onProgress(listener: (summary: JobSummary) => void): () => void {
    this.#listeners.add(listener);
    void this.done().catch(() => undefined);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the final summary once the job is completed, failed or cancelled. */
  done(): Promise<JobSummary> {
    this.#watching ??= this.#watch();
    return this.#watching;
  }

  /**
   * The results, one line per item in input order. With `follow`, lines come as soon as every
   * item before them has committed, until the job ends; without, what has committed now.
   */
  async *results(options: { follow?: boolean } = {}): AsyncGenerator<ResultLine> {
    let next = 0;
    for (;;) {
      const finished = options.follow ? isFinished((await this.status()).status) : true;
      const res = await this.#grid.request('GET', `/api/jobs/${this.id}/results?from=${next}`);
      for await (const raw of lines(res)) {
        const line = JSON.parse(raw) as ResultLine;
        // Only the unbroken prefix: a later line waits until the ones before it commit.
        if (line.index !== next) break;
        next++;
        yield line;
      }
      if (finished) return;
      await new Promise((resolve) => setTimeout(resolve, this.#grid.pollMs));
    }
  }

  async #watch(): Promise<JobSummary> {
    let last = '';
    for (;;) {
      const summary = await this.status();
      const key = `${summary.status}:${summary.done}:${summary.failed}:${summary.inFlight}`;
      if (key !== last) {
        last = key;
        for (const listener of this.#listeners) listener(summary);
      }
      if (isFinished(summary.status)) return summary;
      await new Promise((resolve) => setTimeout(resolve, this.#grid.pollMs));
    }
  }
}

async function* ndjsonOf(
  values: Iterable<JsonValue> | AsyncIterable<JsonValue>,
): AsyncIterable<string> {
  for await (const value of values) yield `${JSON.stringify(value)}\n`;
}

/** A response's non-empty lines, read as they arrive. */
async function* lines(res: Response): AsyncIterable<string> {
  if (!res.body) return;
  const input = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.length > 0) yield line;
    }
  } finally {
    // A reader that stops early must not leave the response open (and the server writing).
    input.destroy();
  }
}
