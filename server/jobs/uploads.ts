/**
 * @module Uploads: an NDJSON or CSV body streamed into the store a batch of items at a time, so
 * an input file of any size never sits whole in memory. An upload that fails half way (bad line,
 * too large, the client went away) is deleted: it changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv } from 'csv-parse';
import type { JobInputs, UploadFormat } from '../../shared/job.ts';
import { formatJsonPath, jsonShapeIssue } from '../../shared/json-bounds.ts';
import { MAX_TASK_INPUT_BYTES } from '../../shared/limits.ts';
import { CoordinatorError } from '../errors.ts';
import { inlineInputs } from './inline-inputs.ts';
import type { InputSource } from '../store/input-source.ts';
import type { JobStore, StoredUpload } from '../store/store.ts';

export interface UploadLimits {
  /** Bytes of the body as sent. */
  maxBytes: number;
  /** Bytes of one line or CSV row. */
  maxItemBytes: number;
  maxItems: number;
}

/** Items written to the store per transaction: large enough to amortize it, small in memory. */
const BATCH_ITEMS = 2_000;
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Reads `body` as `format` into a new upload; resolves once every item is stored. `body` is read
 * with backpressure (the next chunk is pulled only after the last batch was written).
 */
export async function receiveUpload(
  store: JobStore,
  format: UploadFormat,
  body: AsyncIterable<Buffer | string>,
  limits: UploadLimits,
  now: number,
): Promise<StoredUpload> {
  const uploadId = `u-${randomUUID()}`;
  await store.createUpload({ uploadId, format, createdAt: now });
  try {
    const sized = limitBytes(body, limits.maxBytes);
    const items = format === 'csv' ? csvItems(sized, limits) : ndjsonItems(sized, limits);
    let batch: string[] = [];
    let batchBytes = 0;
    let count = 0;
    for await (const text of items) {
      if (++count > limits.maxItems) {
        throw new CoordinatorError(
          'payload_too_large',
          `[uploads]: more than ${limits.maxItems} items; split the input into several jobs`,
        );
      }
      batch.push(text);
      batchBytes += text.length;
      if (batch.length >= BATCH_ITEMS || batchBytes >= BATCH_BYTES) {
        await store.appendUpload(uploadId, batch);
        batch = [];
        batchBytes = 0;
      }
    }
    await store.appendUpload(uploadId, batch);
    return await store.completeUpload(uploadId);
  } catch (error) {
    await store.deleteUpload(uploadId);
    throw error;
  }
}

/** A job's inputs as the scheduler reads them: inline ones from the spec, an upload from the store. */
export async function resolveInputs(store: JobStore, inputs: JobInputs): Promise<InputSource> {
  if (Array.isArray(inputs) || !('upload' in inputs)) return inlineInputs(inputs);
  const upload = await store.getUpload(inputs.upload);
  if (!upload?.complete) {
    throw new CoordinatorError(
      'invalid_input',
      `[jobs]: no upload ${inputs.upload}; stream the inputs to POST /api/uploads first`,
      { field: 'inputs.upload' },
    );
  }
  return store.uploadInputs(upload);
}

/** Refuses a chunk size whose tasks would carry more input than one task may. */
export function checkTaskSize(chunkSize: number, itemBytes: number): void {
  if (chunkSize * itemBytes <= MAX_TASK_INPUT_BYTES) return;
  const fits = Math.max(1, Math.floor(MAX_TASK_INPUT_BYTES / Math.max(1, itemBytes)));
  throw new CoordinatorError(
    'invalid_input',
    `[jobs]: ${chunkSize} items of about ${Math.round(itemBytes)} bytes make a task of ${Math.round((chunkSize * itemBytes) / 1024)} KiB, over the ${MAX_TASK_INPUT_BYTES / 1024} KiB one task may carry; use chunkSize ${fits} or less`,
    { field: 'chunkSize' },
  );
}

/** Deletes uploads a stop cut short (or whose deletion it cut short): nothing can name them. */
export async function sweepIncompleteUploads(store: JobStore): Promise<number> {
  let swept = 0;
  for (const upload of await store.listUploads()) {
    if (!upload.complete && (await store.deleteUpload(upload.uploadId))) swept++;
  }
  return swept;
}

/** Deletes an upload that no queued or running job reads. */
export async function deleteUpload(store: JobStore, uploadId: string): Promise<void> {
  const reader = (await store.unfinishedJobs()).find(
    ({ spec }) =>
      !Array.isArray(spec.inputs) && 'upload' in spec.inputs && spec.inputs.upload === uploadId,
  );
  if (reader) {
    throw new CoordinatorError(
      'conflict',
      `[uploads]: job ${reader.jobId} is still reading upload ${uploadId}; cancel it or wait for it to finish`,
    );
  }
  if (!(await store.deleteUpload(uploadId))) {
    throw new CoordinatorError('not_found', `[uploads]: no upload ${uploadId}`);
  }
}

async function* limitBytes(
  body: AsyncIterable<Buffer | string>,
  maxBytes: number,
): AsyncIterable<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buffer.length;
    if (total > maxBytes) {
      throw new CoordinatorError(
        'payload_too_large',
        `[uploads]: the body is over ${maxBytes} bytes (BROWSERGRID_MAX_UPLOAD_BYTES)`,
      );
    }
    yield buffer;
  }
}

/** One JSON text per non-blank line, checked to parse; errors name the line. */
async function* ndjsonItems(
  body: AsyncIterable<Buffer>,
  limits: UploadLimits,
): AsyncIterable<string> {
  let line = 0;
  const item = (bytes: Buffer): string | undefined => {
    line++;
    if (bytes.length > limits.maxItemBytes) {
      throw new CoordinatorError(
        'payload_too_large',
        `[uploads]: line ${line} is over ${limits.maxItemBytes} bytes, the most one item may hold`,
      );
    }
    const text = bytes.toString('utf8').trim();
    if (text.length === 0) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CoordinatorError(
        'invalid_input',
        `[uploads]: line ${line} is not JSON (${(error as Error).message}); NDJSON needs one JSON value per line`,
        { field: `line ${line}` },
      );
    }
    refuseUnbounded(value, `line ${line}`);
    return text;
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    let from = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, newline);
      const text = item(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
      pending = [];
      pendingBytes = 0;
      if (text !== undefined) yield text;
      from = newline + 1;
    }
    if (from < chunk.length) {
      pending.push(chunk.subarray(from));
      pendingBytes += chunk.length - from;
      // A line with no end in sight is refused before it fills memory.
      if (pendingBytes > limits.maxItemBytes) item(Buffer.concat(pending));
    }
  }
  if (pending.length > 0) {
    const text = item(Buffer.concat(pending));
    if (text !== undefined) yield text;
  }
}

/** Refuses an item over the JSON bounds (depth, size, string and key lengths), naming it. */
function refuseUnbounded(value: unknown, where: string): void {
  const issue = jsonShapeIssue(value);
  if (issue) {
    throw new CoordinatorError(
      'invalid_input',
      `[uploads]: ${where}: ${formatJsonPath('item', issue.path)} ${issue.message}`,
      { field: where },
    );
  }
}

/** One JSON object per CSV row, keyed by the header row; values stay strings. */
async function* csvItems(body: AsyncIterable<Buffer>, limits: UploadLimits): AsyncIterable<string> {
  const parser = parseCsv({
    columns: true,
    skip_empty_lines: true,
    trim: true,
    max_record_size: limits.maxItemBytes,
  });
  // Errors on either side (a limit, a bad row) reach the loop below through the parser. Not
  // awaited: after a bad row, the source may be waiting on a client that sends nothing more.
  void pipeline(Readable.from(body), parser).catch(() => undefined);
  try {
    let row = 0;
    for await (const record of parser) {
      refuseUnbounded(record, `row ${++row}`);
      yield JSON.stringify(record);
    }
  } catch (error) {
    if (error instanceof CoordinatorError) throw error;
    if ((error as { code?: string }).code === 'CSV_MAX_RECORD_SIZE') {
      throw new CoordinatorError(
        'payload_too_large',
        `[uploads]: a CSV row is over ${limits.maxItemBytes} bytes, the most one item may hold (${(error as Error).message})`,
      );
    }
    throw new CoordinatorError('invalid_input', `[uploads]: CSV: ${(error as Error).message}`);
  } finally {
    parser.destroy();
  }
}
