import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TaskTimeline } from '../../shared/timeline.ts';
import type { GridCreated, GridSummary } from '../../shared/job.ts';
import { shownNumber } from '../support/browser.ts';
import { useE2E } from '../support/e2e.ts';
import { api, resultLines, waitFor, waitForJob } from '../support/start-coordinator.ts';

const e2e = useE2E();
const BIN = fileURLToPath(new URL('../../server/bin.mjs', import.meta.url));

describe('browsergrid worker (a lab machine)', () => {
  it('runs headless tabs that join a grid and finish its job while a public tab gets none of it, and stops on SIGTERM', async () => {
    const server = await e2e.coordinator();
    const grid = (await api<GridCreated>(server, 'POST', '/api/grids', { name: 'Lab 3' })).body;
    const worker = spawn(
      process.execPath,
      [BIN, 'worker', '--url', server.url, '--grid', grid.code, '--tabs', '2', '--cores', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      worker.once('exit', (code) => resolve(code)),
    );
    e2e.defer(async () => {
      if (worker.exitCode === null) worker.kill('SIGKILL');
      await exited;
    });

    const publicTab = await e2e.tab(server);
    const roster = await waitFor(
      async () => {
        const { body } = await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`);
        return body.devices.filter((device) => device.state !== 'gone').length === 2
          ? body
          : undefined;
      },
      30_000,
      `two worker tabs in grid ${grid.code} (worker output: ${output})`,
    );
    expect(roster.devices.every((device) => device.browser.startsWith('HeadlessChrome'))).toBe(
      true,
    );

    const job = (
      await api<{ id: string }>(server, 'POST', '/api/jobs', {
        map: '(x) => { const end = Date.now() + 20; while (Date.now() < end) {} return x * x }',
        inputs: { range: { start: 0, end: 60 } },
        grid: grid.code,
      })
    ).body;
    expect(await waitForJob(server, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 60,
    });
    expect((await resultLines(server, job.id)).map((line) => line['output'])).toEqual(
      Array.from({ length: 60 }, (_, i) => i * i),
    );
    const gridTabs = new Set(roster.devices.map((device) => device.volunteerId));
    const { timeline } = (
      await api<{ timeline: TaskTimeline[] }>(server, 'GET', `/api/jobs/${job.id}/tasks?limit=100`)
    ).body;
    for (const copy of timeline.flatMap((row) => row.copies)) {
      expect(gridTabs.has(copy.volunteerId)).toBe(true);
    }
    expect(await shownNumber(publicTab, 'tasks-done')).toBe(0);

    worker.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 15_000)),
    ]);
    expect(code).toBe(0);
    expect(output).toMatch(/SIGTERM: closing 2 tab/);
    await waitFor(
      async () => {
        const { body } = await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`);
        return body.devices.every((device) => device.state === 'gone') ? true : undefined;
      },
      15_000,
      'the worker tabs to leave',
    );
  });
});
