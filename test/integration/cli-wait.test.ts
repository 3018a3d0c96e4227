import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli-process.ts';
import { useHarness } from '../support/harness.ts';
import { api, startCoordinator, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit, defer } = useHarness();

/** Each CLI run starts Node and tsx: a second or more on a busy machine. */
const CLI_TEST_MS = 90_000;

function mapFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-cli-wait-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'plus.js');
  writeFileSync(file, '(x) => x + 1');
  return file;
}

describe('browsergrid submit --wait and browsergrid wait', () => {
  it(
    'follow a job across a coordinator restart and exit 0 once it completes',
    async () => {
      const first = await startCoordinator();
      const { port } = new URL(first.url);
      let second: Awaited<ReturnType<typeof startCoordinator>> | undefined;
      defer(async () => {
        await first.stop();
        await (second ?? first).close();
      });
      const cli = startCli([
        'submit',
        '--map',
        mapFile(),
        '--range',
        '0:4',
        '--wait',
        '--url',
        first.url,
        '--token',
        first.token,
      ]);
      defer(() => {
        if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      });
      const { id } = JSON.parse(await cli.until('stdout', /\n/, 30_000)) as { id: string };
      await first.stop();
      await cli.until('stderr', new RegExp(`cannot reach ${first.url}: .*retrying`), 20_000);

      second = await startCoordinator({ dataDir: first.dataDir, port: Number(port) });
      await volunteer(second, { slots: 2 });
      const run = await cli.ended;
      expect(run.stderr).toMatch(`${first.url} answers again; following job ${id.slice(0, 8)}`);
      expect(run.stderr).toMatch(/4\/4 tasks/);
      expect(run.code).toBe(0);
      expect((await api(second, 'GET', `/api/jobs/${id}`)).body).toMatchObject({
        status: 'completed',
      });
    },
    CLI_TEST_MS,
  );

  it(
    'say when no tab is connected, and on Ctrl-C that the job keeps running and how to follow it',
    async () => {
      const server = await coordinator();
      const grid = (await api<{ code: string }>(server, 'POST', '/api/grids', { name: 'Lab' }))
        .body;
      const remote = ['--url', server.url, '--token', server.token];
      const map = mapFile();
      const cli = startCli([
        'submit',
        '--map',
        map,
        '--range',
        '0:3',
        '--grid',
        grid.code,
        '--wait',
        ...remote,
      ]);
      defer(() => {
        if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      });
      const { id } = JSON.parse(await cli.until('stdout', /\n/, 30_000)) as { id: string };
      await cli.until('stderr', /no tab is connected/, 20_000);
      cli.child.kill('SIGINT');
      const interrupted = await cli.ended;
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toContain(
        `browsergrid: no tab is connected in grid ${grid.code}, so the job waits: open ${server.url}/?grid=${grid.code} in a browser, or run browsergrid worker --url ${server.url} --grid ${grid.code}`,
      );
      expect(interrupted.stderr).toContain(
        `browsergrid: job ${id} keeps running on ${server.url}; follow it again with: browsergrid wait ${id.slice(0, 8)}`,
      );
      expect((await api(server, 'GET', `/api/jobs/${id}`)).body).toMatchObject({
        status: 'queued',
      });

      // Following it again, as told: it ends once a tab of the grid runs it.
      const out = path.join(path.dirname(map), 'out.ndjson');
      const again = startCli(['wait', id.slice(0, 8), '--out', out, ...remote]);
      await again.until('stderr', /no tab is connected/, 20_000);
      await volunteer(server, { slots: 2, grid: grid.code });
      const run = await again.ended;
      expect(run.stderr).toMatch(/1 tab\(s\) connected|3\/3 tasks/);
      expect(run.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(
        '{"index":0,"output":1}\n{"index":1,"output":2}\n{"index":2,"output":3}\n',
      );
    },
    CLI_TEST_MS,
  );
  it(
    'start the progress at where the job stands, never at 0 % queued for a job already done',
    async () => {
      const server = await coordinator();
      await volunteer(server, { slots: 2 });
      const job = await submit(server, { map: '(x) => x + 1', inputs: [1, 2, 3] });
      await waitForJob(server, job.id);
      const run = await runCli([
        'wait',
        job.id.slice(0, 8),
        '--url',
        server.url,
        '--token',
        server.token,
      ]);
      expect(run.code).toBe(0);
      // Off a terminal each drawing of the bar is a line: every one says what the job is.
      const bars = run.stderr.split(/[\r\n]+/).filter((line) => line.includes('tasks |'));
      expect(bars.length).toBeGreaterThan(0);
      for (const bar of bars) expect(bar).toMatch(/100% \| 3\/3 tasks .*completed$/);
    },
    CLI_TEST_MS,
  );
});
