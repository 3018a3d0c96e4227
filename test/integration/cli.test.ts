import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import {
  api,
  startCoordinator,
  waitForJob,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../server/bin.mjs', import.meta.url));
const { defer } = useHarness();

async function cli(server: TestCoordinator, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [BIN, ...args, '--url', server.url, '--token', server.token],
    {
      timeout: 20_000,
    },
  );
  return stdout;
}

describe('browsergrid CLI against a real coordinator', () => {
  it('submits from a map file, shows status, prints results in order, manages grids and cancels', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-cli-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const mapFile = path.join(dir, 'cube.js');
    // Simulated tabs evaluate function expressions (real tabs take ES modules too).
    writeFileSync(mapFile, '(x) => x * x * x');

    const gridLine = await cli(server, 'grids', '--create', 'Room 7');
    const [code] = gridLine.trim().split(/\s+/);
    expect(gridLine).toMatch(new RegExp(`^${code}\\s+Room 7\\s+http://`));
    const sim = await SimTab.connect(server.url, { slots: 2, grid: code });
    defer(() => sim.close());

    const created = JSON.parse(
      await cli(
        server,
        'submit',
        '--map',
        mapFile,
        '--range',
        '0:5',
        '--name',
        'cubes',
        '--grid',
        code as string,
      ),
    ) as {
      id: string;
      tasks: number;
    };
    expect(created.tasks).toBe(5);
    await waitForJob(server, created.id);
    expect(await cli(server, 'status', created.id)).toMatch(
      /completed\s+5\/5 tasks done, 0 failed/,
    );
    const lines = (await cli(server, 'results', created.id))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([0, 1, 8, 27, 64].map((output, index) => ({ index, output })));
    expect(await cli(server, 'grids', code as string)).toMatch(/Room 7\s+1 tabs[\s\S]*idle/);

    sim.close();
    const pending = JSON.parse(
      await cli(server, 'submit', '--map', mapFile, '--range', '0:3', '--grid', code as string),
    ) as { id: string };
    // Without --name, the job is named after its map file.
    const { body: listed } = await api<{ name?: string }>(server, 'GET', `/api/jobs/${pending.id}`);
    expect(listed.name).toBe('cube.js');
    expect(await cli(server, 'cancel', pending.id)).toMatch(/cancelled/);
  });

  it('reads CSV and NDJSON inputs, waits with progress, and writes the results to a file', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const sim = await SimTab.connect(server.url, { slots: 2 });
    defer(() => sim.close());
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-cli-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const mapFile = path.join(dir, 'area.js');
    writeFileSync(mapFile, '(row) => Number(row.w) * Number(row.h)');
    const csv = path.join(dir, 'rooms.csv');
    writeFileSync(csv, 'name,w,h\nhall,3,4\nlab,5,6\n');
    const out = path.join(dir, 'areas.ndjson');
    const { stderr } = await run(
      process.execPath,
      [
        BIN,
        'submit',
        '--map',
        mapFile,
        '--inputs',
        csv,
        '--out',
        out,
        '--url',
        server.url,
        '--token',
        server.token,
      ],
      { timeout: 20_000 },
    );
    expect(stderr).toMatch(/2\/2 tasks/);
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      { index: 0, output: 12 },
      { index: 1, output: 30 },
    ]);

    const ndjson = path.join(dir, 'values.ndjson');
    writeFileSync(ndjson, '{"w":1,"h":2}\n\n{"w":2,"h":2}\n');
    const created = JSON.parse(
      await cli(server, 'submit', '--map', mapFile, '--inputs', ndjson, '--wait'),
    ) as { id: string };
    expect(await cli(server, 'results', created.id)).toBe(
      '{"index":0,"output":2}\n{"index":1,"output":4}\n',
    );

    const bad = path.join(dir, 'bad.ndjson');
    writeFileSync(bad, '{"w":1}\nnope\n');
    await expect(cli(server, 'submit', '--map', mapFile, '--inputs', bad)).rejects.toMatchObject({
      stderr: expect.stringMatching(/bad\.ndjson: \[uploads\]: line 2 is not JSON/),
    });
  });

  it('says what to fix when the input is wrong, and exits non-zero', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-cli-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const broken = path.join(dir, 'broken.js');
    writeFileSync(broken, '(x) => x *');
    await expect(cli(server, 'submit', '--map', broken, '--range', '0:5')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/400.*map does not compile/),
    });
    await expect(cli(server, 'submit', '--map', broken)).rejects.toMatchObject({
      stderr: expect.stringMatching(/--inputs <file> or --range/),
    });
    // The upload made for a refused job does not stay behind.
    const values = path.join(dir, 'values.ndjson');
    writeFileSync(values, '1\n2\n');
    await expect(cli(server, 'submit', '--map', broken, '--inputs', values)).rejects.toMatchObject({
      stderr: expect.stringMatching(/uploaded 2 items[\s\S]*map does not compile/),
    });
    expect((await api(server, 'GET', '/api/uploads')).body).toEqual([]);
    await expect(
      run(process.execPath, [BIN, 'status', '--url', server.url, '--token', 'wrong-token'], {
        timeout: 20_000,
      }),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/refused the admin token from --token/),
    });
  });
});
