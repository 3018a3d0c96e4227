import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit } = useHarness();

describe('one untrusted device', () => {
  it.each([
    { redundancy: 1, honest: 1 },
    { redundancy: 2, honest: 2 },
  ])(
    'cannot fail a job by answering every copy with an error (redundancy $redundancy, $honest honest tab(s))',
    async ({ redundancy, honest }) => {
      const server = await coordinator();
      // Connected first and with many slots, so it takes the first copies and asks first after.
      await volunteer(server, { slots: 8, failEvery: true });
      for (let i = 0; i < honest; i++) await volunteer(server, { slots: 1, taskDelayMs: 5 });
      const inputs = Array.from({ length: 20 }, (_, i) => i);
      const job = await submit(server, { map: '(x) => x * 3', inputs, redundancy });
      expect(await waitForJob(server, job.id, undefined, 20_000)).toMatchObject({
        status: 'completed',
        done: 20,
        failed: 0,
      });
      const lines = await resultLines(server, job.id);
      expect(lines.map((line) => line['output'])).toEqual(inputs.map((x) => x * 3));
    },
  );
});

describe('a device that holds copies and reports progress without answering', () => {
  it('cannot stall a job: backups go to the waiting honest tab and the job completes in bounded time', async () => {
    const server = await coordinator();
    const hoarder = { slots: 64, silent: true, progressEveryMs: 500, deviceId: 'hoarder' };
    await volunteer(server, hoarder);
    await volunteer(server, hoarder);
    await volunteer(server, hoarder);
    await volunteer(server, { slots: 2, taskDelayMs: 5 });
    const inputs = Array.from({ length: 40 }, (_, i) => i);
    const job = await submit(server, { map: '(x) => x + 1', inputs, timeoutMs: 2_000 });
    // Well under the default runtime cap (20 x 2 s): the backups, not the cap, finish it.
    expect(await waitForJob(server, job.id, undefined, 15_000)).toMatchObject({
      status: 'completed',
      done: 40,
    });
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'])).toEqual(inputs.map((x) => x + 1));
  });
});
