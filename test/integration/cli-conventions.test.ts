import { readFileSync } from 'node:fs';
import type { GridCreated, GridSummary, JobCreated } from '../../shared/job.ts';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { collect, runCli, spawnCli } from '../support/cli-process.ts';
import { nextEvent } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { api, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit, defer } = useHarness();

/** Each CLI run starts Node and tsx: a second or more on a busy machine. */
const CLI_TEST_MS = 90_000;

describe('the CLI follows the conventions people know', () => {
  it('prints its version with --version', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it(
    'takes the coordinator from BROWSERGRID_URL in every command, worker included',
    async () => {
      const server = await coordinator();
      const env = { BROWSERGRID_URL: server.url, BROWSERGRID_ADMIN_TOKEN: server.token };
      const created = await runCli(['grids', '--create', 'Room 7'], { env });
      expect(created).toMatchObject({ code: 0, stderr: '' });
      expect(created.stdout).toMatch(/Room 7/);
      expect((await runCli(['grids'], { env })).stdout).toMatch(/Room 7/);

      // The worker names the page it opens before its browser starts; SIGTERM then stops it.
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const elsewhere = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
      await new Promise((resolve) => probe.close(resolve));
      const worker = spawnCli(['worker'], { env: { BROWSERGRID_URL: elsewhere } });
      const ended = collect(worker, 60_000, 'browsergrid worker');
      defer(() => {
        if (worker.exitCode === null) worker.kill('SIGKILL');
      });
      const [first] = await nextEvent<[string]>(
        createInterface({ input: worker.stdout }),
        'line',
        30_000,
        "the worker's first line",
      );
      expect(first).toContain(`opening 1 tab(s) on ${elsewhere}/?autostart=1`);
      worker.kill('SIGTERM');
      expect(await ended).toMatchObject({ code: 0, stderr: '' });
    },
    CLI_TEST_MS,
  );

  it(
    'takes any unique prefix of a job id, and says which jobs an ambiguous one matches',
    async () => {
      const server = await coordinator();
      const remote = ['--url', server.url, '--token', server.token];
      const [first, second] = await twoJobsSharingAFirstCharacter(server);
      const shortId = first.id.slice(0, 8);
      const status = await runCli(['status', shortId, ...remote]);
      expect(status).toMatchObject({ code: 0, stderr: '' });
      expect(status.stdout).toMatch(new RegExp(`^${first.id}\\s+queued`));
      expect(await runCli(['cancel', shortId, ...remote])).toMatchObject({
        code: 0,
        stdout: `${first.id} cancelled\n`,
      });

      const ambiguous = await runCli(['results', first.id.slice(0, 1), ...remote]);
      expect(ambiguous.code).toBe(1);
      expect(ambiguous.stderr).toMatch(
        new RegExp(`^browsergrid: "${first.id[0]}" matches \\d+ jobs: .*; give more of the id\\n$`),
      );
      expect(ambiguous.stderr).toContain(first.id);
      expect(ambiguous.stderr).toContain(second.id);
      expect(await runCli(['status', 'zz', ...remote])).toMatchObject({
        code: 1,
        stderr: `browsergrid: no job "zz" on ${server.url}\n`,
      });
    },
    CLI_TEST_MS,
  );

  it(
    'prints the REST JSON of jobs, grids, tokens and workers with --json',
    async () => {
      const server = await coordinator();
      const remote = ['--url', server.url, '--token', server.token];
      const grid = (await api<GridCreated>(server, 'POST', '/api/grids', { name: 'Room 7' })).body;
      await volunteer(server, { slots: 2, grid: grid.code });
      await api(server, 'POST', '/api/tokens', { name: 'assistant' });
      const job = await submit(server, { map: '(x) => x + 1', inputs: [1, 2], grid: grid.code });
      await waitForJob(server, job.id);
      for (const [args, route] of [
        [['jobs'], '/api/jobs'],
        [['status', job.id.slice(0, 8)], `/api/jobs/${job.id}`],
        [['grids'], '/api/grids'],
        [['grids', grid.code], `/api/grids/${grid.code}`],
        [['tokens'], '/api/tokens'],
        [['workers'], '/api/workers'],
      ] as const) {
        const run = await runCli([...args, '--json', ...remote]);
        expect(run, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
        // A tab's lastSeen moves with its heartbeats; everything else holds still once idle.
        const steady = (text: string): unknown =>
          JSON.parse(text, (key, value: unknown) => (key === 'lastSeen' ? undefined : value));
        const { body } = await api<string>(server, 'GET', route, undefined, {
          Accept: 'application/json',
        });
        expect(steady(run.stdout), args.join(' ')).toEqual(steady(JSON.stringify(body)));
      }
    },
    CLI_TEST_MS,
  );

  it(
    "pauses and resumes a grid's tabs, or one tab, and names a tab it does not know",
    async () => {
      const server = await coordinator();
      const remote = ['--url', server.url, '--token', server.token];
      const grid = (await api<GridCreated>(server, 'POST', '/api/grids', { name: 'Room 7' })).body;
      const first = await volunteer(server, { slots: 1, grid: grid.code });
      await volunteer(server, { slots: 1, grid: grid.code });
      const roster = async () =>
        (await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body;

      expect(await runCli(['grid', 'pause', grid.code, ...remote])).toMatchObject({
        code: 0,
        stdout: `${grid.code} paused: 2 tab(s) told\n`,
      });
      expect((await roster()).paused).toBe(true);
      await first.until(() => first.controls.some((control) => control.paused), 10_000, 'a pause');
      expect(await runCli(['grid', 'resume', grid.code, ...remote])).toMatchObject({
        code: 0,
        stdout: `${grid.code} resumed: 2 tab(s) told\n`,
      });
      expect((await roster()).paused).toBe(false);

      const tab = (await roster()).devices.find((device) => device.state !== 'gone')?.volunteerId;
      const one = await runCli(['grid', 'pause', grid.code, '--tab', String(tab), ...remote]);
      expect(one).toMatchObject({
        code: 0,
        stdout: `tab ${tab} of ${grid.code} paused: 1 tab(s) told\n`,
      });
      expect(
        (await roster()).devices.filter((device) => device.pausedByAdmin).map((d) => d.volunteerId),
      ).toEqual([tab]);

      const unknown = await runCli(['grid', 'resume', grid.code, '--tab', 'nobody', ...remote]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no live tab nobody in grid/);
    },
    CLI_TEST_MS,
  );

  it(
    'ends quietly with status 0 when its reader stops reading (results | head -1)',
    async () => {
      const server = await coordinator();
      await volunteer(server, { slots: 2 });
      // Far more than a pipe holds, so the CLI is still writing when the reader goes.
      const job = await submit(server, {
        map: "(x) => 'abcdefghij'.repeat(20) + x",
        inputs: { range: { start: 0, end: 20_000 } },
        chunkSize: 1000,
      });
      await waitForJob(server, job.id);
      const results = spawnCli(['results', job.id, '--url', server.url, '--token', server.token]);
      const ended = collect(results, 30_000, 'browsergrid results');
      await nextEvent(results.stdout, 'data', 20_000, 'the first results');
      results.stdout.destroy();
      expect(await ended).toMatchObject({ code: 0, signal: null, stderr: '' });
    },
    CLI_TEST_MS,
  );
});

/** Queued jobs (no tab is connected) until two of them share their id's first character. */
async function twoJobsSharingAFirstCharacter(
  server: TestCoordinator,
): Promise<[JobCreated, JobCreated]> {
  const byFirst = new Map<string, JobCreated>();
  // 17 ids over 16 hex digits: two must share one.
  for (let i = 0; i < 17; i++) {
    const job = await submit(server, { map: '(x) => x', inputs: [i], name: `job ${i}` });
    const earlier = byFirst.get(job.id.slice(0, 1));
    if (earlier) return [earlier, job];
    byFirst.set(job.id.slice(0, 1), job);
  }
  throw new Error('17 job ids with 17 first characters: not hex ids');
}
