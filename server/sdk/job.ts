/** @module One job on a coordinator: its status, progress, results and cancellation. */
import type { Readable } from 'node:stream';
import { isFinished, type JobCreated, type JobSummary, type ResultLine } from '../../shared/job.ts';
import { BrowsergridError } from './errors.ts';
import type { Rest } from './rest.ts';

/** What a followed job's `onConnection` listeners hear: the coordinator went, or came back. */
export type ConnectionChange = { state: 'lost'; error: BrowsergridError } | { state: 'back' };

/** Retries of an unreachable coordinator back off to this. */
const MAX_RETRY_MS = 5_000;

/**
 * Errors a followed job outlives: no answer (a coordinator restarting), or a proxy's while the
 * coordinator behind it is away.
 */
function isTransient(error: unknown): error is BrowsergridError {
  return (
    error instanceof BrowsergridError &&
    (error.code === 'unreachable' ||
      error.status === 502 ||
      error.status === 503 ||
      error.status === 504)
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A handle on one job, from `client.submit(spec)` or `client.job(jobId)`. Following a job
 * (`done`, `onProgress`, `results({ follow: true })`) polls it every `pollMs` of its client, and
 * outlives a coordinator that is away for up to `reconnectMs` (a restart): it retries, then reads
 * on from where it was.
 *
 * @example
 * const job = await client.submit({ map: '(x) => x * 2', inputs: [1, 2, 3] });
 * job.onProgress((summary) => console.log(`${summary.done}/${summary.tasks}`));
 * const summary = await job.done(); // status completed, failed or cancelled
 */
export class Job {
  readonly id: string;
  /** The coordinator's answer to the submit (`id`, `tasks`, `items`); absent for `client.job(id)`. */
  readonly created?: JobCreated;
  readonly #rest: Rest;
  readonly #pollMs: number;
  readonly #reconnectMs: number;
  readonly #listeners = new Set<(summary: JobSummary) => void>();
  readonly #connectionListeners = new Set<(change: ConnectionChange) => void>();
  /** Whether the last call of a follow went unanswered: one `lost` per outage, then one `back`. */
  #lost = false;
  #watching?: Promise<JobSummary>;

  /** @internal Use `client.submit` or `client.job`. */
  constructor(
    jobId: string,
    deps: { rest: Rest; pollMs: number; reconnectMs: number; created?: JobCreated },
  ) {
    this.id = jobId;
    this.#rest = deps.rest;
    this.#pollMs = deps.pollMs;
    this.#reconnectMs = deps.reconnectMs;
    if (deps.created) this.created = deps.created;
  }

  /**
   * The job's counters and status now.
   *
   * @example
   * const { status, done, tasks } = await client.job(jobId).status();
   */
  status(): Promise<JobSummary> {
    return this.#rest.json('GET', `/api/jobs/${this.id}`);
  }

  /**
   * Cancels the job and resolves with its summary: tabs are told to stop its tasks.
   *
   * @example
   * const { status } = await client.job(jobId).cancel(); // 'cancelled'
   */
  cancel(): Promise<JobSummary> {
    return this.#rest.json('DELETE', `/api/jobs/${this.id}`);
  }

  /**
   * Calls `listener` whenever the job's counters move, until it finishes. Returns an unsubscribe.
   *
   * @example
   * const off = job.onProgress((summary) => console.log(`${summary.done}/${summary.tasks}`));
   */
  onProgress(listener: (summary: JobSummary) => void): () => void {
    this.#listeners.add(listener);
    void this.done().catch(() => undefined);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` when a follow of this job finds the coordinator gone (`lost`, with why) and
   * when it answers again (`back`). Returns an unsubscribe.
   *
   * @example
   * job.onConnection((change) => console.error(change.state === 'lost' ? change.error.message : 'back'));
   */
  onConnection(listener: (change: ConnectionChange) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  /**
   * Resolves with the final summary once the job is completed, failed or cancelled.
   *
   * @example
   * const summary = await job.done();
   * if (summary.status !== 'completed') console.error(`${summary.failed} tasks failed`);
   */
  done(): Promise<JobSummary> {
    this.#watching ??= this.#watch();
    return this.#watching;
  }

  /**
   * The results, one line per item in input order. With `follow`, lines come as soon as every
   * item before them has committed, until the job ends; without, what has committed now.
   *
   * @example
   * for await (const line of job.results({ follow: true })) {
   *   if ('error' in line) console.error(line.index, line.error);
   * }
   */
  async *results(options: { follow?: boolean } = {}): AsyncGenerator<ResultLine> {
    let next = 0;
    for (;;) {
      const finished = options.follow
        ? isFinished((await this.#patiently(() => this.status())).status)
        : true;
      try {
        for await (const raw of this.#rest.lines(`/api/jobs/${this.id}/results?from=${next}`)) {
          const line = JSON.parse(raw) as ResultLine;
          // Only the unbroken prefix: a later line waits until the ones before it commit.
          if (line.index !== next) break;
          next++;
          yield line;
        }
      } catch (error) {
        // A follow reads on from `next` once the coordinator is back.
        if (!options.follow || !isTransient(error)) throw error;
        await sleep(this.#pollMs);
        continue;
      }
      if (finished) return;
      await sleep(this.#pollMs);
    }
  }

  /**
   * The results as the coordinator sends them: NDJSON bytes, one `{ index, output }` or
   * `{ index, error }` line per item committed so far, in input order. Unlike `results()`, a
   * running job's lines after a gap come too. For saving to a file without parsing.
   *
   * @example
   * await pipeline(await job.download(), createWriteStream('results.ndjson'));
   */
  download(): Promise<Readable> {
    return this.#rest.stream(`/api/jobs/${this.id}/results`);
  }

  async #watch(): Promise<JobSummary> {
    let last = '';
    for (;;) {
      const summary = await this.#patiently(() => this.status());
      const key = `${summary.status}:${summary.done}:${summary.failed}:${summary.inFlight}`;
      if (key !== last) {
        last = key;
        for (const listener of this.#listeners) listener(summary);
      }
      if (isFinished(summary.status)) return summary;
      await sleep(this.#pollMs);
    }
  }

  /** `call`, retried with backoff while the coordinator is away, for up to `reconnectMs`. */
  async #patiently<T>(call: () => Promise<T>): Promise<T> {
    let since: number | undefined;
    let delayMs = this.#pollMs;
    for (;;) {
      try {
        const value = await call();
        if (this.#lost) this.#tell({ state: 'back' });
        return value;
      } catch (error) {
        if (!isTransient(error)) throw error;
        since ??= Date.now();
        if (!this.#lost) this.#tell({ state: 'lost', error });
        if (Date.now() - since >= this.#reconnectMs) throw error;
        await sleep(delayMs);
        delayMs = Math.min(MAX_RETRY_MS, delayMs * 2);
      }
    }
  }

  #tell(change: ConnectionChange): void {
    this.#lost = change.state === 'lost';
    for (const listener of this.#connectionListeners) listener(change);
  }
}
