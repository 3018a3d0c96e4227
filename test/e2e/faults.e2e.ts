import type { WebWorker } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import type { TaskTimeline } from '../../shared/timeline.ts';
import { useE2E } from '../support/e2e.ts';
import { nextEvent } from '../support/events.ts';
import {
  api,
  resultLines,
  waitFor,
  waitForJob,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const { coordinator, tab, submit } = useE2E();

async function timeline(server: TestCoordinator, jobId: string): Promise<TaskTimeline[]> {
  return (await api<{ timeline: TaskTimeline[] }>(server, 'GET', `/api/jobs/${jobId}/tasks`)).body
    .timeline;
}

/**
 * Twenty 100 ms steps, checkpointing after each; returns where it started, which shows whether
 * it resumed from a checkpoint.
 */
const STEPPER = `(x, ctx) => {
  const saved = ctx.restore();
  const from = saved ? saved.step : 0;
  let acc = saved ? saved.acc : 0;
  for (let step = from; step < 20; step++) {
    const end = Date.now() + 100;
    while (Date.now() < end) {}
    acc += x;
    ctx.checkpoint({ step: step + 1, acc });
    ctx.progress((step + 1) / 20);
  }
  return { acc, from };
}`;

/** Waits until the coordinator has seen a running copy of the job get at least `fraction` done. */
async function reachedFraction(
  server: TestCoordinator,
  jobId: string,
  fraction: number,
): Promise<void> {
  await waitFor(
    async () => {
      const rows = await timeline(server, jobId);
      const best = Math.max(
        0,
        ...rows.flatMap((row) => row.copies.map((copy) => copy.fraction ?? 0)),
      );
      return best >= fraction ? true : undefined;
    },
    20_000,
    `progress >= ${fraction}`,
  );
}

describe('faults in Chromium', () => {
  it('a tab reloaded mid-task resumes from its checkpoint', async () => {
    const server = await coordinator();
    const page = await tab(server);
    const job = await submit(server, { map: STEPPER, inputs: [2], timeoutMs: 5_000 });
    await reachedFraction(server, job.id, 0.3);
    await page.reload();
    const summary = await waitForJob(server, job.id, undefined, 30_000);
    expect(summary).toMatchObject({ status: 'completed', done: 1 });
    const [line] = await resultLines(server, job.id);
    const output = line?.['output'] as { acc: number; from: number };
    expect(output.acc).toBe(40);
    expect(output.from).toBeGreaterThanOrEqual(5);
    // The copy cut short by the reload and the one that finished are both on the timeline.
    const [row] = await timeline(server, job.id);
    expect(row?.copies.map((copy) => copy.end)).toEqual(['dropped', 'result']);
  });

  it('a task whose tab closed resumes on another tab from the checkpoint the coordinator kept', async () => {
    const server = await coordinator();
    const first = await tab(server);
    const job = await submit(server, { map: STEPPER, inputs: [3], timeoutMs: 5_000 });
    await reachedFraction(server, job.id, 0.3);
    // Checkpoints reach the coordinator throttled; wait for one before closing.
    await waitFor(
      async () => ((await server.store.checkpoints(job.id)).length > 0 ? true : undefined),
      10_000,
      'a checkpoint on the coordinator',
    );
    await first.browserContext().close();
    await tab(server);
    const summary = await waitForJob(server, job.id, undefined, 30_000);
    expect(summary).toMatchObject({ status: 'completed', done: 1 });
    const [line] = await resultLines(server, job.id);
    const output = line?.['output'] as { acc: number; from: number };
    expect(output.acc).toBe(60);
    expect(output.from).toBeGreaterThanOrEqual(3);
  });

  it('backs up the task of a straggling tab on another tab, and the backup wins', async () => {
    const server = await coordinator();
    const straggler = await tab(server);
    await tab(server);
    // Freeze the straggler's Web Worker in the debugger: its copies never finish.
    const worker =
      straggler.workers()[0] ??
      (await nextEvent<[WebWorker]>(straggler, 'workercreated', 10_000, 'the straggler worker'))[0];
    await worker.client.send('Debugger.enable');
    await worker.client.send('Debugger.pause');
    const job = await submit(server, {
      map: '(x) => { const end = Date.now() + 200; while (Date.now() < end) {} return x * 10 }',
      inputs: [0, 1, 2, 3, 4, 5, 6, 7],
      timeoutMs: 60_000,
    });
    const summary = await waitForJob(server, job.id, undefined, 30_000);
    expect(summary).toMatchObject({ status: 'completed', done: 8, failed: 0 });
    expect((await resultLines(server, job.id)).map((line) => line['output'])).toEqual([
      0, 10, 20, 30, 40, 50, 60, 70,
    ]);
    const copies = (await timeline(server, job.id)).flatMap((row) => row.copies);
    const backups = copies.filter((copy) => copy.kind === 'backup');
    expect(backups.length).toBeGreaterThan(0);
    expect(backups.some((copy) => copy.won)).toBe(true);
    // The straggler's copies were stopped once the backups committed.
    expect(copies.filter((copy) => copy.end === 'superseded').length).toBeGreaterThan(0);
  });
});
