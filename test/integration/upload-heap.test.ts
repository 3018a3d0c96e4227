/**
 * A streamed upload larger than the coordinator's whole heap: a coordinator process started with
 * `--max-old-space-size=48` takes 100 MB of NDJSON, runs a job over it and streams the results
 * out. Had any layer held the file whole, V8 would have stopped the process.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JobCreated, UploadSummary } from '../../shared/job.ts';
import { useHarness } from '../support/harness.ts';
import { startChildCoordinator } from '../support/child-coordinator.ts';
import { waitForJob } from '../support/start-coordinator.ts';

const HEAP_MB = 48;
const ITEMS = 50_000;
const PAD = 'x'.repeat(2_000);

const { defer, volunteer } = useHarness();

/** ~100 MB of NDJSON, produced as it is read: the test holds none of it either. */
function ndjsonBody(): Readable {
  let next = 0;
  return new Readable({
    read() {
      let chunk = '';
      for (let i = 0; i < 256 && next < ITEMS; i++, next++) {
        chunk += `${JSON.stringify({ i: next, pad: PAD })}\n`;
      }
      this.push(chunk.length > 0 ? chunk : null);
    },
  });
}

async function startHeapLimitedCoordinator(): Promise<{ url: string; token: string }> {
  // Stand-in pages come with the child coordinator: a build would not fit the heap.
  const server = await startChildCoordinator({}, [
    `--max-old-space-size=${HEAP_MB}`,
    ...(process.env['TRACE_GC'] ? ['--trace-gc'] : []),
  ]);
  defer(async () => {
    const exit = await server.stop();
    // A coordinator that died under the test is the failure this file looks for.
    expect(exit, server.output()).toMatch(/code 0|signal SIGTERM/);
  });
  return server;
}

async function heapUsedBytes(server: { url: string; token: string }): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const match = /^browsergrid_nodejs_heap_size_used_bytes (\d+)/m.exec(await res.text());
  return Number(match?.[1]);
}

describe('a streamed upload larger than the heap', () => {
  it(`takes 100 MB into a ${HEAP_MB} MB heap, runs it and streams the results out`, async () => {
    const server = await startHeapLimitedCoordinator();
    const headers = { Authorization: `Bearer ${server.token}` };

    const res = await fetch(`${server.url}/api/uploads`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/x-ndjson' },
      body: Readable.toWeb(ndjsonBody()) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const upload = (await res.json()) as UploadSummary;
    expect(res.status, JSON.stringify(upload)).toBe(201);
    expect(upload.items).toBe(ITEMS);
    expect(upload.bytes).toBeGreaterThan(2 * HEAP_MB * 1024 * 1024);
    const heapAfterUpload = await heapUsedBytes(server);
    expect(heapAfterUpload).toBeLessThan(HEAP_MB * 1024 * 1024);

    const submitted = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        map: '(x) => x.i * 3 + x.pad.length',
        inputs: { upload: upload.id },
        chunkSize: 100,
      }),
    });
    const job = (await submitted.json()) as JobCreated;
    expect(submitted.status, JSON.stringify(job)).toBe(201);
    await volunteer(server, { slots: 4 });
    await volunteer(server, { slots: 4 });
    expect(await waitForJob(server, job.id, undefined, 120_000)).toMatchObject({
      status: 'completed',
    });

    // Streamed out, line by line, and checked as it arrives.
    const results = await fetch(`${server.url}/api/jobs/${job.id}/results`, { headers });
    let count = 0;
    const lines = createInterface({
      input: Readable.fromWeb(results.body as import('node:stream/web').ReadableStream),
    });
    for await (const line of lines) {
      const parsed = JSON.parse(line) as { index: number; output: number };
      if (parsed.index !== count || parsed.output !== count * 3 + PAD.length) {
        throw new Error(`result line ${count} is wrong: ${line}`);
      }
      count++;
    }
    expect(count).toBe(ITEMS);
    console.info(
      `[upload] ${(upload.bytes / 2 ** 20).toFixed(0)} MB uploaded into a ${HEAP_MB} MB heap; heap used after: ${(heapAfterUpload / 2 ** 20).toFixed(1)} MB`,
    );
  });
});
