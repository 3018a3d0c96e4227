/**
 * Uploads: NDJSON and CSV streamed to `POST /api/uploads`, then run as a job's inputs. Bad input
 * is refused with the line to fix and leaves nothing behind.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { connect } from '../../server/sdk/index.ts';
import type { UploadSummary } from '../../shared/job.ts';
import { useHarness } from '../support/harness.ts';
import {
  api,
  resultLines,
  startCoordinator,
  waitForJob,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit, defer } = useHarness();

function upload(
  server: TestCoordinator,
  body: string,
  contentType = 'application/x-ndjson',
): Promise<{
  status: number;
  body: UploadSummary & { error?: { message: string; field?: string } };
}> {
  return api(server, 'POST', '/api/uploads', body, { 'Content-Type': contentType });
}

describe('uploads', () => {
  it('runs a job over NDJSON streamed in, results in input order', async () => {
    const server = await coordinator();
    await volunteer(server, { slots: 2 });
    const lines = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ n: i }));
    // Blank lines and CRLF endings are tolerated, as editors write them.
    const created = await upload(
      server,
      `${lines.slice(0, 10).join('\r\n')}\n\n${lines.slice(10).join('\n')}\n`,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ format: 'ndjson', items: 5_000 });

    const job = await submit(server, {
      map: '(x) => x.n * 2',
      inputs: { upload: created.body.id },
      chunkSize: 64,
    });
    expect(job).toMatchObject({ items: 5_000, tasks: Math.ceil(5_000 / 64) });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed' });
    const results = await resultLines(server, job.id);
    expect(results).toHaveLength(5_000);
    results.forEach((line, i) => expect(line).toEqual({ index: i, output: i * 2 }));

    const listed = await api<UploadSummary[]>(server, 'GET', '/api/uploads');
    expect(listed.body.map((u) => u.id)).toEqual([created.body.id]);
  });

  it('turns CSV rows into objects keyed by the header', async () => {
    const server = await coordinator();
    await volunteer(server);
    const created = await upload(server, 'city,temp\nOslo, 3\n"Rio, RJ",31\n', 'text/csv');
    expect(created.body).toMatchObject({ format: 'csv', items: 2 });
    const job = await submit(server, {
      map: '(row) => `${row.city}: ${Number(row.temp) + 1}`',
      inputs: { upload: created.body.id },
    });
    await waitForJob(server, job.id);
    expect(await resultLines(server, job.id)).toEqual([
      { index: 0, output: 'Oslo: 4' },
      { index: 1, output: 'Rio, RJ: 32' },
    ]);
  });

  it('refuses bad input with what to fix, and keeps nothing of it', async () => {
    const server = await coordinator({ config: { maxUploadBytes: 4_096 } });
    const badLine = await upload(server, '1\n2\n{"a": \n4\n');
    expect(badLine.status).toBe(400);
    expect(badLine.body.error?.message).toMatch(/line 3 is not JSON/);

    const badCsv = await upload(server, 'a,b\n1,2\n3,4,5\n', 'text/csv');
    expect(badCsv.status).toBe(400);
    expect(badCsv.body.error?.message).toMatch(/CSV/);

    const tooLarge = await upload(server, `${'"x"\n'.repeat(2_000)}`);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error?.message).toMatch(/BROWSERGRID_MAX_UPLOAD_BYTES/);

    const noType = await upload(server, '1\n', 'text/plain');
    expect(noType.status).toBe(400);
    expect(noType.body.error?.field).toBe('Content-Type');

    expect((await api(server, 'GET', '/api/uploads')).body).toEqual([]);
    const db = new Database(path.join(server.dataDir, 'browsergrid.db'), { readonly: true });
    defer(() => void db.close());
    expect(db.prepare('SELECT COUNT(*) AS n FROM upload_items').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM uploads').get()).toEqual({ n: 0 });

    const missing = await api<{ error: { field: string } }>(server, 'POST', '/api/jobs', {
      map: '(x) => x',
      inputs: { upload: `u-${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}` },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('inputs.upload');
  });

  it('refuses an item over 1 MiB, in either format, before it fills memory', async () => {
    const server = await coordinator();
    const long = 'x'.repeat(1_100_000);
    const line = await upload(server, `1\n"${long}"\n3\n`);
    expect(line.status).toBe(413);
    expect(line.body.error?.message).toMatch(/line 2 is over 1048576 bytes/);
    const row = await upload(server, `a\n1\n${long}\n`, 'text/csv');
    expect(row.status).toBe(413);
    expect(row.body.error?.message).toMatch(/CSV row is over 1048576 bytes/);
    expect((await api(server, 'GET', '/api/uploads')).body).toEqual([]);
  });

  it("answers a refused upload's sender with the reason while it is still sending", async () => {
    const server = await coordinator();
    const grid = connect(server.url, { token: server.token });
    // The bad line comes first; megabytes follow it, still in flight when the answer is sent.
    const body = (head: string, row: string) =>
      Readable.from(
        (function* () {
          yield head;
          for (let i = 0; i < 2_000; i++) yield row.repeat(100);
        })(),
      );
    await expect(grid.upload(body('nope\n', '{"n":1}\n'))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/line 1 is not JSON/),
    });
    await expect(
      grid.upload(body('a,b\n1,2,3\n', '4,5\n'), { format: 'csv' }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/CSV/) });
    expect(await grid.uploads()).toEqual([]);
  });

  it('streams the body whatever its Content-Type, and refuses tasks too big to carry', async () => {
    const server = await coordinator();
    const created = await api<UploadSummary>(
      server,
      'POST',
      '/api/uploads?format=ndjson',
      '1\n2\n',
      {
        'Content-Type': 'application/json',
      },
    );
    expect(created.body).toMatchObject({ items: 2 });

    const big = await upload(server, `"${'x'.repeat(100_000)}"\n`.repeat(100));
    const refused = await api<{ error: { field: string; message: string } }>(
      server,
      'POST',
      '/api/jobs',
      {
        map: '(x) => x.length',
        inputs: { upload: big.body.id },
        chunkSize: 100,
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ field: 'chunkSize' });
    expect(refused.body.error.message).toMatch(/use chunkSize 83 or less/);
  });

  it('keeps an upload while a job reads it, and deletes it after', async () => {
    const server = await coordinator();
    const created = await upload(server, '1\n2\n3\n');
    const job = await submit(server, { map: '(x) => x', inputs: { upload: created.body.id } });
    const route = `/api/uploads/${created.body.id}`;
    const refused = await api<{ error: { message: string } }>(server, 'DELETE', route);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(job.id);

    await volunteer(server);
    await waitForJob(server, job.id);
    expect((await api(server, 'DELETE', route)).status).toBe(204);
    expect((await api(server, 'GET', route)).status).toBe(404);
    // The job's results outlive its inputs.
    expect(await resultLines(server, job.id)).toHaveLength(3);
  });

  it('resumes an uploaded job after a restart, reading its inputs from the store', async () => {
    const first = await startCoordinator();
    defer(() => first.close());
    const created = await upload(first, Array.from({ length: 50 }, (_, i) => `${i}`).join('\n'));
    const job = await submit(first, { map: '(x) => x + 100', inputs: { upload: created.body.id } });
    // An upload a stop cut short: nothing can name it, so the next start deletes it.
    const store = first.store;
    const cut = `u-${'2'.repeat(8)}-2222-2222-2222-${'2'.repeat(12)}`;
    await store.createUpload({ uploadId: cut, format: 'ndjson', createdAt: 1 });
    await store.appendUpload(cut, ['1', '2']);
    await first.stop();

    const second = await coordinator({ dataDir: first.dataDir });
    await volunteer(second);
    expect(await waitForJob(second, job.id)).toMatchObject({ status: 'completed' });
    const results = await resultLines(second, job.id);
    expect(results.map((line) => line['output'])).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 100),
    );
    expect(await second.store.getUpload(cut)).toBeUndefined();
    expect((await second.store.listUploads()).map((u) => u.uploadId)).toEqual([created.body.id]);
  });
});
