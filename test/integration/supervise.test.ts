import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nextEvent } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { TEST_TOKEN } from '../support/start-coordinator.ts';

const BIN = fileURLToPath(new URL('../../server/bin.mjs', import.meta.url));
const { defer } = useHarness();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function healthy(url: string): Promise<true | undefined> {
  try {
    return (await fetch(`${url}/healthz`)).ok ? true : undefined;
  } catch {
    return undefined;
  }
}

describe('browsergrid start --supervise', () => {
  it('starts the coordinator again after it dies, and stops it on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-supervise-'));
    defer(() => rmSync(dataDir, { recursive: true, force: true }));
    const staticDir = path.join(dataDir, 'pages');
    mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
    writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const supervisor = spawn(process.execPath, [BIN, 'start', '--supervise'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: path.join(dataDir, 'data'),
        BROWSERGRID_STATIC_DIR: staticDir,
        BROWSERGRID_ADMIN_TOKEN: TEST_TOKEN,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', resolve));
    const children: number[] = [];
    let output = '';
    supervisor.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const match of chunk.toString().matchAll(/"childPid":(\d+)/g))
        children.push(Number(match[1]));
    });
    supervisor.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // The coordinator inherits the supervisor's stdout: its log says when it listens.
    const lines = createInterface({ input: supervisor.stdout });
    const listening = (what: string) =>
      nextEvent<[string]>(lines, 'line', 30_000, what, (line) =>
        line.includes('[main]: coordinator listening'),
      );
    const first = listening('the coordinator to listen');
    defer(async () => {
      for (const pid of children) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
      await exited;
    });

    await first.catch((error: Error) => {
      throw new Error(`${error.message}; output: ${output}`);
    });
    expect(await healthy(url)).toBe(true);
    expect(children).toHaveLength(1);
    const restarted = listening('the restarted coordinator to listen');
    process.kill(children[0]!, 'SIGKILL');

    await restarted;
    expect(children).toHaveLength(2);
    expect(await healthy(url)).toBe(true);
    expect(output).toMatch(/coordinator exited unasked; restarting it/);

    supervisor.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(isAlive(children[1]!)).toBe(false);
    expect(await healthy(url)).toBeUndefined();
  });
});
