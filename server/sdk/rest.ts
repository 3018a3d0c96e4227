/** @module The SDK's one door to the coordinator's REST API: bearer token, JSON or streamed bodies. */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ErrorResponse } from '../../shared/errors.ts';
import { BrowsergridError, unreachable } from './errors.ts';

/** `url` as a base for API paths; anything but an http(s) URL is refused before any call. */
function baseUrlOf(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new BrowsergridError(
      `[sdk]: ${JSON.stringify(url)} is not a coordinator URL (expected one like http://localhost:8080)`,
      { status: 0, code: 'invalid_url' },
    );
  }
  return parsed;
}

export class Rest {
  /** The coordinator's URL as given, for messages. */
  readonly url: string;
  readonly #base: URL;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.url = url;
    this.#base = baseUrlOf(url);
    this.#token = token;
  }

  /**
   * Sends one call; a refusal becomes a BrowsergridError carrying the server's code and field, and
   * a coordinator that cannot be reached one with code `unreachable` naming the URL and the cause.
   */
  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await this.#send(method, path, body).catch((error: unknown) => {
      throw unreachable(this.url, error, method, path);
    });
    if (res.ok) return res;
    const parsed = ErrorResponse.safeParse(await res.json().catch(() => undefined));
    if (parsed.success) {
      const { message, code, field } = parsed.data.error;
      throw new BrowsergridError(message, {
        status: res.status,
        code,
        ...(field !== undefined ? { field } : {}),
        method,
        path,
      });
    }
    throw new BrowsergridError(`[sdk]: ${method} ${path} failed with HTTP ${res.status}`, {
      status: res.status,
      method,
      path,
    });
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    // The body can break off after the status line: a coordinator that stopped mid-answer.
    return (await res.json().catch((error: unknown) => {
      throw unreachable(this.url, error, method, path);
    })) as T;
  }

  #send(method: string, path: string, body: unknown): Promise<Response> {
    const streamed = body instanceof Readable;
    return fetch(new URL(path, this.#base), {
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
  }

  /** A GET whose body is read as bytes, as they arrive. */
  async stream(path: string): Promise<Readable> {
    const res = await this.request('GET', path);
    return res.body ? Readable.fromWeb(res.body as NodeReadableStream) : Readable.from([]);
  }

  /** A GET's non-empty lines, read as they arrive; a body that breaks off is `unreachable`. */
  async *lines(path: string): AsyncIterable<string> {
    const input = await this.stream(path);
    try {
      const lines = createInterface({ input, crlfDelay: Infinity });
      // readline does not pass on its input's errors: the broken body would look like its end.
      const broken = new Promise<never>((_, reject) => input.once('error', reject));
      broken.catch(() => undefined);
      const iterator = lines[Symbol.asyncIterator]();
      for (;;) {
        const next = await Promise.race([iterator.next(), broken]).catch((error: unknown) => {
          throw unreachable(this.url, error, 'GET', path);
        });
        if (next.done) break;
        if (next.value.length > 0) yield next.value;
      }
    } finally {
      // A reader that stops early must not leave the response open (and the server writing).
      input.destroy();
    }
  }
}
