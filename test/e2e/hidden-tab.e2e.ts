import { describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const e2e = useE2E();

describe('a volunteer tab in the background', () => {
  it('keeps computing while another tab is in front', async () => {
    const server = await e2e.coordinator();
    const volunteer = await e2e.tab(server);
    // Another tab of the same window comes to the front: the volunteer tab is hidden.
    const front = await volunteer.browserContext().newPage();
    await front.goto(`${server.url}/admin`);
    await front.bringToFront();
    expect(await volunteer.evaluate('document.visibilityState')).toBe('hidden');

    const job = await e2e.submit(server, {
      map: '(x) => { const end = Date.now() + 5; while (Date.now() < end) {} return x + 1 }',
      inputs: { range: { start: 0, end: 300 } },
    });
    expect(await waitForJob(server, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 300,
    });
    expect((await resultLines(server, job.id)).map((line) => line['output'])).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    expect(await volunteer.evaluate('document.visibilityState')).toBe('hidden');
  });
});
