/**
 * A streamed upload larger than the coordinator's whole heap: a coordinator process started with
 * `--max-old-space-size=48` takes 100 MB of NDJSON, runs a job over it and streams the results
 * out. Had any layer held the file whole, V8 would have stopped the process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JobCreated, UploadSummary } from '../../shared/job.ts';
import { useHarness } from '../support/harness.ts';
import { waitFor, waitForJob } from '../support/start-coordinator.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'upload-heap-token-0123456789';
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
  const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-heap-'));
  // Stand-in pages, so the coordinator does not build the real ones (a build would not fit the heap).
  const staticDir = path.join(dataDir, 'pages');
  mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
  writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>');
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_MB}`,
      ...(process.env['TRACE_GC'] ? ['--trace-gc'] : []),
      'server/bin.mjs',
      'start',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: dataDir,
        BROWSERGRID_ADMIN_TOKEN: TOKEN,
        BROWSERGRID_STATIC_DIR: staticDir,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `code ${code}, signal ${signal}`));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  defer(async () => {
    if (exit === undefined) {
      child.kill('SIGTERM');
      await waitFor(() => (exit !== undefined ? true : undefined), 10_000, 'coordinator exit');
    }
    rmSync(dataDir, { recursive: true, force: true });
    // A coordinator that died under the test is the failure this file looks for.
    expect(exit, output.join('')).toMatch(/code 0|signal SIGTERM/);
  });
  let url: string | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    output.push(line);
    url ??= /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line)?.[1];
  });
  await waitFor(
    () => {
      if (exit !== undefined)
        throw new Error(`coordinator exited (${exit}):\n${output.join('\n')}`);
      return url;
    },
    30_000,
    'the coordinator to listen',
  );
  return { url: url as string, token: TOKEN };
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
