/** @module The SDK's one door to the coordinator's REST API: bearer token, JSON or streamed bodies. */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ErrorResponse } from '../../shared/errors.ts';
import { BrowsergridError } from './errors.ts';

export class Rest {
  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  /** Sends one call; a refusal becomes a BrowsergridError carrying the server's code and field. */
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
    return (await (await this.request(method, path, body)).json()) as T;
  }

  /** A GET whose body is read as bytes, as they arrive. */
  async stream(path: string): Promise<Readable> {
    const res = await this.request('GET', path);
    return res.body ? Readable.fromWeb(res.body as NodeReadableStream) : Readable.from([]);
  }

  /** A GET's non-empty lines, read as they arrive. */
  async *lines(path: string): AsyncIterable<string> {
    const input = await this.stream(path);
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (line.length > 0) yield line;
      }
    } finally {
      // A reader that stops early must not leave the response open (and the server writing).
      input.destroy();
    }
  }
}
