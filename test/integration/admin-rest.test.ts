/**
 * @module What the admin page reads over REST beyond a job's summary: why a job failed
 * (`/errors`, bounded) and when each copy of a task waited and ran (`/tasks`).
 */
import { describe, expect, it } from 'vitest';
import { JobErrors, MAX_JOB_ERROR_CHARS } from '../../shared/job-errors.ts';
import { TaskTimelinePage } from '../../shared/timeline.ts';
import { useHarness } from '../support/harness.ts';
import { api, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit } = useHarness();

describe('admin REST reads', () => {
  it("lists a failed job's first item errors in input order, bounded in count and length", async () => {
    const server = await coordinator();
    await volunteer(server, { slots: 2 });
    const job = await submit(server, {
      // Items 3, 5, 7 and 9 throw; item 5's message is far longer than any page shows.
      map: `(x) => { if (x % 2 === 1 && x > 2) throw new Error(x === 5 ? 'y'.repeat(3000) : 'odd ' + x); return x; }`,
      inputs: { range: { start: 0, end: 10 } },
      chunkSize: 2,
      maxAttempts: 1,
    });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'failed', failed: 4 });

    const { status, body } = await api(server, 'GET', `/api/jobs/${job.id}/errors?limit=3`);
    expect(status).toBe(200);
    const errors = JobErrors.parse(body);
    expect(errors.failedTasks).toBe(4);
    expect(errors.errors.map((line) => [line.taskIndex, line.index])).toEqual([
      [1, 3],
      [2, 5],
      [3, 7],
    ]);
    expect(errors.errors[0]?.error).toMatch(/odd 3/);
    expect(errors.errors[1]?.error).toHaveLength(MAX_JOB_ERROR_CHARS);
    expect(errors.errors[1]?.error.endsWith('…')).toBe(true);

    const all = JobErrors.parse((await api(server, 'GET', `/api/jobs/${job.id}/errors`)).body);
    expect(all.errors.map((line) => line.index)).toEqual([3, 5, 7, 9]);
  });

  it('answers a completed job with no errors, and refuses a bad limit naming it', async () => {
    const server = await coordinator();
    await volunteer(server, { slots: 2 });
    const job = await submit(server, { map: '(x) => x', inputs: [1, 2] });
    await waitForJob(server, job.id, ['completed']);
    expect((await api(server, 'GET', `/api/jobs/${job.id}/errors`)).body).toEqual({
      jobId: job.id,
      failedTasks: 0,
      errors: [],
    });
    for (const limit of ['abc', '0', '21', '1.5', '-1', '1e9']) {
      const { status, body } = await api<{ error: { field?: string; message: string } }>(
        server,
        'GET',
        `/api/jobs/${job.id}/errors?limit=${limit}`,
      );
      expect(status, limit).toBe(400);
      expect(body.error.field, limit).toBe('limit');
    }
    // A repeated key arrives as an array.
    for (const query of ['limit=1&limit=2', 'limit=&limit=3']) {
      expect((await api(server, 'GET', `/api/jobs/${job.id}/errors?${query}`)).status, query).toBe(
        400,
      );
    }
    expect((await api(server, 'GET', '/api/jobs/no-such-job/errors')).status).toBe(404);
    expect(
      (
        await api(server, 'GET', `/api/jobs/${job.id}/errors`, undefined, {
          Authorization: 'Bearer wrong',
        })
      ).status,
    ).toBe(401);
  });

  it('pages the job list newest first: ?limit= at a time, ?before= the last id seen', async () => {
    const server = await coordinator();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await submit(server, { name: `job ${i}`, map: '(x) => x', inputs: [i] })).id);
    }
    const newestFirst = [...ids].reverse();
    const page = async (query: string): Promise<string[]> => {
      const { status, body } = await api<Array<{ id: string }>>(server, 'GET', `/api/jobs${query}`);
      expect(status, query).toBe(200);
      return body.map((job) => job.id);
    };
    expect(await page('')).toEqual(newestFirst);
    expect(await page('?limit=2')).toEqual(newestFirst.slice(0, 2));
    expect(await page(`?limit=2&before=${newestFirst[1]}`)).toEqual(newestFirst.slice(2, 4));
    expect(await page(`?limit=2&before=${newestFirst[3]}`)).toEqual(newestFirst.slice(4));
    expect(await page(`?before=${newestFirst[4]}`)).toEqual([]);
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?limit=x', 'limit'],
      ['?limit=1&limit=2', 'limit'],
      ['?before=no-such-job', 'before'],
      ['?before=../etc', 'before'],
      ['?before=a&before=b', 'before'],
    ]) {
      const { status, body } = await api<{ error: { field?: string } }>(
        server,
        'GET',
        `/api/jobs${query}`,
      );
      expect(status, query).toBe(400);
      expect(body.error.field, query).toBe(field);
    }
  });

  it("tells a copy's wait in its tab's queue from its run, though it ended before reporting a start", async () => {
    const server = await coordinator();
    // Holds three copies and runs one at a time, never reporting a start: only its results say
    // how long each ran.
    await volunteer(server, { slots: 3, concurrency: 1, taskMs: 150 });
    const job = await submit(server, { map: '(x) => x', inputs: [1, 2, 3], speculation: false });
    await waitForJob(server, job.id, ['completed']);
    const page = TaskTimelinePage.parse(
      (await api(server, 'GET', `/api/jobs/${job.id}/tasks`)).body,
    );
    const copies = page.timeline.flatMap((task) => task.copies);
    expect(copies).toHaveLength(3);
    for (const copy of copies) {
      expect(copy.startedAt).toBeDefined();
      const ranMs = (copy.endedAt ?? 0) - (copy.startedAt ?? 0);
      expect(ranMs).toBeGreaterThanOrEqual(0);
      expect(ranMs).toBeLessThanOrEqual(150);
    }
    // The copies run one after another, so the last one waited about two runs before starting.
    const waitedMs = Math.max(...copies.map((copy) => (copy.startedAt ?? 0) - copy.dispatchedAt));
    expect(waitedMs).toBeGreaterThanOrEqual(200);
  });
});
