/** @module The admin page's REST client: typed by the shared schemas, errors carry the server's message. */
import type { DeviceView } from '../../shared/devices.ts';
import { ErrorResponse } from '../../shared/errors.ts';
import {
  UploadSummary,
  uploadFormatOf,
  type GridCreated,
  type GridPauseResult,
  type GridSummary,
  type JobCreated,
  type JobSpecInput,
  type JobSummary,
} from '../../shared/job.ts';
import type { JobErrors } from '../../shared/job-errors.ts';
import type { TaskTimelinePage } from '../../shared/timeline.ts';

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

  tasks(jobId: string, from = 0, limit = 200): Promise<TaskTimelinePage> {
    return this.#json(
      'GET',
      `/api/jobs/${encodeURIComponent(jobId)}/tasks?from=${from}&limit=${limit}`,
    );
  }

  /** The first errors of a job's failed tasks (at most `limit`). */
  errors(jobId: string, limit = 3): Promise<JobErrors> {
    return this.#json('GET', `/api/jobs/${encodeURIComponent(jobId)}/errors?limit=${limit}`);
  }

  devices(): Promise<DeviceView[]> {
    return this.#json('GET', '/api/devices');
  }

  async setBanned(deviceId: string, banned: boolean): Promise<void> {
    await this.#request(
      'POST',
      `/api/devices/${encodeURIComponent(deviceId)}/${banned ? 'ban' : 'unban'}`,
    );
  }

  /**
   * Streams a file to `POST /api/uploads` (the browser reads it from disk as it sends), reporting
   * bytes sent. XMLHttpRequest, because fetch reports no upload progress.
   */
  upload(file: File, onProgress?: (sent: number, total: number) => void): Promise<UploadSummary> {
    const format = uploadFormatOf(file);
    if (!format) {
      return Promise.reject(
        new ApiError(`${file.name}: choose an .ndjson, .jsonl or .csv file`, 400, 'inputsFile'),
      );
    }
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/uploads?format=${format}`);
      xhr.setRequestHeader('Authorization', `Bearer ${this.token}`);
      xhr.setRequestHeader('Content-Type', format === 'csv' ? 'text/csv' : 'application/x-ndjson');
      xhr.upload.onprogress = (event) => onProgress?.(event.loaded, event.total);
      xhr.onload = () => {
        let body: unknown;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = undefined;
        }
        const created = UploadSummary.safeParse(body);
        if (xhr.status === 201 && created.success) {
          resolve(created.data);
          return;
        }
        const parsed = ErrorResponse.safeParse(body);
        reject(
          parsed.success
            ? new ApiError(parsed.data.error.message, xhr.status, parsed.data.error.field)
            : new ApiError(`uploading ${file.name} failed with HTTP ${xhr.status}`, xhr.status),
        );
      };
      xhr.onerror = () =>
        reject(new ApiError(`uploading ${file.name} failed: the connection was lost`, 0));
      xhr.send(file);
    });
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.#request('DELETE', `/api/uploads/${encodeURIComponent(uploadId)}`);
  }

  createGrid(name: string): Promise<GridCreated> {
    return this.#json('POST', '/api/grids', { name });
  }

  grids(): Promise<GridSummary[]> {
    return this.#json('GET', '/api/grids');
  }

  grid(code: string): Promise<GridSummary> {
    return this.#json('GET', `/api/grids/${encodeURIComponent(code)}`);
  }

  /** The whole grid without `volunteerId`, else that one tab. */
  setPaused(code: string, paused: boolean, volunteerId?: string): Promise<GridPauseResult> {
    return this.#json(
      'POST',
      `/api/grids/${encodeURIComponent(code)}/${paused ? 'pause' : 'resume'}`,
      volunteerId === undefined ? {} : { volunteerId },
    );
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
