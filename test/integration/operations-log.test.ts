/**
 * The coordinator's log as an operator reads it: a real `browsergrid start` in a child process,
 * its stdout a pipe, so JSON lines. A job submitted, one completed, one failed and one cancelled
 * each get a line with their counts and duration; tabs joining and leaving are summed into info
 * lines; a refused admin token is a warning naming the address and path, never the token.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GridCreated, JobCreated } from '../../shared/job.ts';
import {
  startChildCoordinator,
  type ChildCoordinator,
  type LogEntry,
} from '../support/child-coordinator.ts';
import { runCli, startCli } from '../support/cli-process.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, waitForJob } from '../support/start-coordinator.ts';

const INFO = 30;
const WARN = 40;
const WAIT_MS = 15_000;

let server: ChildCoordinator;

beforeAll(async () => {
  server = await startChildCoordinator({ BROWSERGRID_TAB_LOG_INTERVAL_MS: '1000' });
}, 60_000);

afterAll(async () => {
  await server.stop();
}, 30_000);

async function submit(spec: Record<string, unknown>): Promise<JobCreated> {
  const { status, body } = await api<JobCreated>(server, 'POST', '/api/jobs', spec);
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

function jobEnd(jobId: string): Promise<LogEntry> {
  return server.logLine(
    (entry) => entry['jobId'] === jobId && typeof entry['durationMs'] === 'number',
    WAIT_MS,
    `the end of job ${jobId} in the log`,
  );
}

/** The tab lines from log line `since` on, until their `field` adds up to `total`. */
async function tabLinesUntil(
  field: 'joined' | 'left',
  total: number,
  since: number,
): Promise<LogEntry[]> {
  const lines: LogEntry[] = [];
  let sum = 0;
  // Called on each line in order, once: the sum runs over the lines as they come.
  await server.logLine(
    (e) => {
      if (e['level'] === INFO && typeof e[field] === 'number') {
        lines.push(e);
        sum += e[field];
      }
      return sum >= total;
    },
    WAIT_MS,
    `tab lines adding up to ${total} ${field}`,
    since,
  );
  return lines;
}

describe('the coordinator log', () => {
  it('writes a line for a job submitted and for each way a job ends, with counts and duration', async () => {
    const tab = await SimTab.connect(server.url, { slots: 2 });
    try {
      const good = await submit({ name: 'squares', map: '(x) => x * x', inputs: [1, 2, 3, 4] });
      expect(
        await server.logLine((e) => e['jobId'] === good.id, WAIT_MS, 'the submit line'),
      ).toMatchObject({
        level: INFO,
        msg: expect.stringMatching(/^\[jobs\]: job .* submitted by admin: 4 items in 4 tasks$/),
        name: 'squares',
        submittedBy: 'admin',
        items: 4,
        tasks: 4,
      });
      await waitForJob(server, good.id);
      expect(await jobEnd(good.id)).toMatchObject({
        level: INFO,
        status: 'completed',
        name: 'squares',
        items: 4,
        tasks: 4,
        done: 4,
        failed: 0,
        durationMs: expect.any(Number),
        msg: expect.stringMatching(
          /^\[engine\]: job .* completed in [\d.]+ s: 4\/4 tasks done, 0 failed$/,
        ),
      });

      const bad = await submit({
        map: '(x) => { if (x === 2) throw new Error("no twos"); return x; }',
        inputs: [1, 2, 3],
        maxAttempts: 1,
      });
      await waitForJob(server, bad.id);
      expect(await jobEnd(bad.id)).toMatchObject({
        level: WARN,
        status: 'failed',
        tasks: 3,
        done: 2,
        failed: 1,
      });
    } finally {
      tab.close();
    }

    // A grid with no tab in it: the job waits until it is cancelled.
    const grid = await api<GridCreated>(server, 'POST', '/api/grids', { name: 'Empty room' });
    const idle = await submit({ map: '(x) => x', inputs: [1, 2], grid: grid.body.code });
    expect((await api(server, 'DELETE', `/api/jobs/${idle.id}`)).status).toBe(200);
    expect(await jobEnd(idle.id)).toMatchObject({
      level: INFO,
      status: 'cancelled',
      tasks: 2,
      done: 0,
    });
  }, 60_000);

  it('sums tabs joining and leaving into info lines, with the count still connected', async () => {
    let since = server.logCount();
    const tabs: SimTab[] = [];
    for (let i = 0; i < 4; i++) tabs.push(await SimTab.connect(server.url));
    const joined = await tabLinesUntil('joined', 4, since);
    expect(joined.at(-1)).toMatchObject({ tabs: 4 });
    // Fewer lines than tabs: the joins of one interval share a line (the first after a quiet
    // spell comes at once; see test/unit/tab-activity.test.ts).
    expect(joined.length).toBeLessThan(4);
    since = server.logCount();
    for (const tab of tabs) tab.close();
    const left = await tabLinesUntil('left', 4, since);
    expect(left.at(-1)).toMatchObject({
      tabs: 0,
      msg: expect.stringMatching(/^\[realtime\]: \d+ tab\(s\) joined, \d+ left; 0 connected$/),
    });
  }, 30_000);

  it('warns of a refused admin token with the address and path, never the token', async () => {
    const wrong = 'wrong-token-that-must-not-be-logged';
    const res = await api({ url: server.url, token: wrong }, 'GET', '/api/jobs');
    expect(res.status).toBe(401);
    const line = await server.logLine(
      (e) => e['msg'] === '[auth]: admin token refused',
      WAIT_MS,
      'the refusal in the log',
    );
    expect(line).toMatchObject({
      level: WARN,
      method: 'GET',
      path: '/api/jobs',
      tokenPresented: true,
      address: expect.stringMatching(/127\.0\.0\.1/),
      refused: 1,
    });
    expect(server.output()).not.toContain(wrong);
  }, 30_000);

  it('writes readable lines when BROWSERGRID_LOG_FORMAT=pretty, and refuses a format it does not know', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-pretty-'));
    try {
      mkdirSync(path.join(dir, 'pages', 'volunteer'), { recursive: true });
      writeFileSync(path.join(dir, 'pages', 'volunteer', 'index.html'), '<!doctype html>');
      const env = {
        PORT: '0',
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: dir,
        BROWSERGRID_STATIC_DIR: path.join(dir, 'pages'),
        BROWSERGRID_ADMIN_TOKEN: 'pretty-format-token-0123456789',
      };
      const pretty = startCli(['start'], { env: { ...env, BROWSERGRID_LOG_FORMAT: 'pretty' } });
      const said = await pretty.until('stdout', /\n {4}url: "http:\/\/127\.0\.0\.1:\d+"/, 30_000);
      expect(said).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[main\]: coordinator listening$/m);
      expect(said).not.toContain('{"level"');
      pretty.child.kill('SIGTERM');
      expect((await pretty.ended).code).toBe(0);

      const wrong = await runCli(['start'], { env: { ...env, BROWSERGRID_LOG_FORMAT: 'yaml' } });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('BROWSERGRID_LOG_FORMAT must be auto, json or pretty');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
