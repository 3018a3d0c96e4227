/** @module The admin page's REST client: typed by the shared schemas, errors carry the server's message. */
import { ErrorResponse } from '../../shared/errors.ts';
import type { JobCreated, JobSpecInput, JobSummary } from '../../shared/job.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class AdminApi {
  constructor(private readonly token: string) {}

  submit(spec: JobSpecInput): Promise<JobCreated> {
    return this.#json('POST', '/api/jobs', spec);
  }

  list(): Promise<JobSummary[]> {
    return this.#json('GET', '/api/jobs');
  }

  cancel(jobId: string): Promise<JobSummary> {
    return this.#json('DELETE', `/api/jobs/${encodeURIComponent(jobId)}`);
  }

  async results(jobId: string): Promise<Blob> {
    return (await this.#request('GET', `/api/jobs/${encodeURIComponent(jobId)}/results`)).blob();
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.#request(method, path, body)).json()) as T;
  }

  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.ok) return res;
    const parsed = ErrorResponse.safeParse(await res.json().catch(() => undefined));
    if (parsed.success)
      throw new ApiError(parsed.data.error.message, res.status, parsed.data.error.field);
    throw new ApiError(`${method} ${path} failed with HTTP ${res.status}`, res.status);
  }
}
