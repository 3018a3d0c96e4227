import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-process.ts';
import { useHarness } from '../support/harness.ts';

/** Each CLI run starts Node and tsx: a second or more on a busy machine. */
const CLI_TEST_MS = 90_000;

const { coordinator, defer } = useHarness();

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-cli-errors-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One `browsergrid: …` line and nothing of a stack. */
function expectOneLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^browsergrid: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('the CLI says what went wrong in one line, and exits non-zero', () => {
  it(
    "names the coordinator's URL and the network's reason when it is down or its host does not resolve",
    async () => {
      const down = `http://127.0.0.1:${await closedPort()}`;
      const refused = await runCli(['status', '--url', down, '--token', 't']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`browsergrid: cannot reach ${down}: connect ECONNREFUSED`);
      expectOneLine(refused.stderr);

      const nowhere = await runCli([
        'status',
        '--url',
        'http://nohost.invalid:8080',
        '--token',
        't',
      ]);
      expect(nowhere.code).toBe(1);
      expect(nowhere.stderr).toMatch(
        /^browsergrid: cannot reach http:\/\/nohost\.invalid:8080: getaddrinfo E(NOTFOUND|AI_AGAIN) nohost\.invalid/,
      );
      expectOneLine(nowhere.stderr);

      const garbled = await runCli(['status', '--url', 'localhost8080', '--token', 't']);
      expect(garbled.code).toBe(1);
      expect(garbled.stderr).toBe(
        'browsergrid: --url must be an http(s) URL such as http://localhost:8080, got "localhost8080"\n',
      );
      const worker = await runCli(['worker'], { env: { BROWSERGRID_URL: 'ftp://lab' } });
      expect(worker).toMatchObject({
        code: 1,
        stderr:
          'browsergrid: --url must be an http(s) URL such as http://localhost:8080, got "ftp://lab"\n',
      });
    },
    CLI_TEST_MS,
  );

  it(
    'tells a refused token apart from no token found, naming where it looked',
    async () => {
      const server = await coordinator();
      const refused = await runCli(['status', '--url', server.url, '--token', 'wrong-token']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`^browsergrid: ${server.url} refused the admin token from --token`),
      );
      expectOneLine(refused.stderr);
      const fromEnv = await runCli(['status', '--url', server.url], {
        env: { BROWSERGRID_ADMIN_TOKEN: 'wrong-token' },
      });
      expect(fromEnv.stderr).toMatch(/refused the admin token from BROWSERGRID_ADMIN_TOKEN/);

      const dir = tempDir();
      const missing = await runCli(['status', '--url', server.url], { cwd: dir });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(
        `browsergrid: no admin token found; looked in --token, BROWSERGRID_ADMIN_TOKEN and ${path.join(dir, 'data', 'admin-token')} (give --token, or --data <the coordinator's data dir>)\n`,
      );

      const data = path.join(dir, 'elsewhere');
      mkdirSync(data);
      writeFileSync(path.join(data, 'admin-token'), 'stale-token\n');
      const stale = await runCli(['status', '--url', server.url, '--data', data]);
      expect(stale.stderr).toMatch(
        `refused the admin token from ${path.join(data, 'admin-token')}`,
      );
      writeFileSync(path.join(data, 'admin-token'), `${server.token}\n`);
      expect(await runCli(['status', '--url', server.url, '--data', data])).toMatchObject({
        code: 0,
        stderr: '',
      });
    },
    CLI_TEST_MS,
  );

  it(
    'names the option in its own error, and a missing map or inputs file in words',
    async () => {
      const server = await coordinator();
      const dir = tempDir();
      writeFileSync(path.join(dir, 'square.js'), '(x) => x * x');
      const remote = ['--url', server.url, '--token', server.token];
      const submit = (...args: string[]) => runCli(['submit', ...args, ...remote], { cwd: dir });

      const chunk = await submit('--map', 'square.js', '--range', '0:5', '--chunk-size', 'abc');
      expect(chunk.code).toBe(1);
      expect(chunk.stderr).toBe('browsergrid: --chunk-size must be a whole number, got "abc"\n');
      const trailing = await submit('--map', 'square.js', '--range', '0:5', '--timeout-ms', '10s');
      expect(trailing.stderr).toBe('browsergrid: --timeout-ms must be a whole number, got "10s"\n');
      const range = await submit('--map', 'square.js', '--range', '0:5x');
      expect(range.stderr).toBe(
        'browsergrid: --range must be start:end[:step] in whole numbers, got "0:5x"\n',
      );

      const noMap = await submit('--map', './x.js', '--range', '0:5');
      expect(noMap.code).toBe(1);
      expect(noMap.stderr).toBe('browsergrid: cannot read map file ./x.js: no such file\n');
      writeFileSync(
        path.join(dir, 'helped.js'),
        "import { square } from './helper.js';\nexport default (x) => square(x);\n",
      );
      const imports = await submit('--map', 'helped.js', '--range', '0:5');
      expect(imports.code).toBe(1);
      expect(imports.stderr).toMatch(
        /^browsergrid: POST \/api\/jobs failed \(400\): \[jobs\]: map must be one self-contained module: it imports another file \(from "\.\/helper\.js"\), and job code cannot load files; bundle it first: npx esbuild map\.js --bundle --format=esm/,
      );
      const noInputs = await submit('--map', 'square.js', '--inputs', 'rooms.csv');
      expect(noInputs.code).toBe(1);
      expect(noInputs.stderr).toBe(
        'browsergrid: cannot read inputs file rooms.csv: no such file\n',
      );
      expect((await runCli(['submit', '--map'])).stderr).toBe(
        "browsergrid: option '--map <file>' argument missing\n",
      );
      expect((await runCli(['worker', '--tabs', 'two'])).stderr).toBe(
        'browsergrid: --tabs must be a whole number, got "two"\n',
      );
    },
    CLI_TEST_MS,
  );
});
