/**
 * @module 6. Connections: how many registered tabs one coordinator process holds connected and
 * heartbeating, and its memory per tab against a bare socket.io server holding as many. Clients
 * live in child processes, each on its own 127.0.0.x source address, so neither the load
 * generator's descriptors nor one address's ephemeral ports are what runs out.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../test/support/start-coordinator.ts';
import type { ConnsClientOptions } from './conns-client.ts';
import { SMOKE, freePort, report, serverProcess, steadyRss } from './support.ts';

/**
 * Every process here may hold at most 20,000 descriptors (a hard limit the container does not
 * let us raise), and the coordinator needs a few for its store, listener and stdio.
 */
const CLIENTS = SMOKE ? 200 : 19_900;
const CLIENT_PROCESSES = SMOKE ? 1 : 4;
/** Longer than socket.io's ping interval plus timeout (25 s + 20 s): a missed heartbeat drops. */
const HOLD_MS = SMOKE ? 0 : 50_000;
const TOKEN = 'bench-admin-token-0123456789';

interface Server {
  child: ChildProcess;
  url: string;
  /** Tabs the server itself counts as connected, where it can say. */
  connected?: () => Promise<number>;
}

interface Held {
  bytesPerClient: number;
  connectedAfterHold?: number;
  dropped: number;
}

export async function benchConnections(): Promise<void> {
  const bare = await serverProcess(
    [
      '--input-type=module',
      '-e',
      `import { createServer } from 'node:http'; import { Server } from 'socket.io';
       const http = createServer(); const io = new Server(http, { serveClient: false });
       io.on('connection', (socket) => socket.on('ping', (n, ack) => ack(n)));
       http.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + http.address().port));`,
    ],
    {},
    (out) => out.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0],
  );
  const baseline = await hold(bare, 'bare', 10);
  const { server, cleanup } = await coordinatorProcess();
  try {
    const grid = await hold(server, 'grid', 20);
    report({
      bench: 'conns',
      metric: `RSS per connected tab, ${CLIENTS} tabs`,
      value: grid.bytesPerClient / 1024,
      baseline: baseline.bytesPerClient / 1024,
      ratio: grid.bytesPerClient / baseline.bytesPerClient,
      unit: 'KiB',
      note: `registered tabs (hello, no slots) from ${CLIENT_PROCESSES} client processes; ${grid.connectedAfterHold ?? '?'} still registered after ${HOLD_MS / 1000} s of heartbeats, ${grid.dropped} dropped (bare: ${baseline.dropped}); baseline: bare socket.io server, same clients`,
    });
  } finally {
    cleanup();
  }
}

/** Connects CLIENTS idle clients to `server`, holds them HOLD_MS, and measures the server. */
async function hold(server: Server, mode: 'grid' | 'bare', addressBase: number): Promise<Held> {
  const before = await steadyRss(server.child.pid as number);
  const perProcess = Math.ceil(CLIENTS / CLIENT_PROCESSES);
  const clients = Array.from({ length: CLIENT_PROCESSES }, (_, k) =>
    clientProcess({
      url: server.url,
      mode,
      clients: Math.min(perProcess, CLIENTS - k * perProcess),
      localAddress: `127.0.0.${addressBase + k}`,
      prefix: `${mode}-${k}`,
    }),
  );
  try {
    await Promise.all(clients.map((child) => nextMessage(child, 'ready', 600_000)));
    const after = await steadyRss(server.child.pid as number);
    if (HOLD_MS > 0) await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    const connectedAfterHold = await server.connected?.();
    let dropped = 0;
    for (const child of clients) {
      const stopped = nextMessage<{ dropped: number }>(child, 'stopped', 60_000);
      child.send({ type: 'stop' });
      dropped += (await stopped).dropped;
    }
    return {
      bytesPerClient: (after - before) / CLIENTS,
      dropped,
      ...(connectedAfterHold !== undefined ? { connectedAfterHold } : {}),
    };
  } finally {
    for (const child of clients) child.kill('SIGKILL');
    server.child.kill('SIGTERM');
  }
}

function clientProcess(options: ConnsClientOptions): ChildProcess {
  return fork(fileURLToPath(new URL('./conns-client.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BROWSERGRID_CONNS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`[bench]: no ${type} from client process ${child.pid} in ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`[bench]: client process ${child.pid} exited (${code}) before ${type}`));
    });
  });
}

/** A coordinator process with an empty data dir; it prints nothing at LOG_LEVEL=warn. */
async function coordinatorProcess(): Promise<{ server: Server; cleanup: () => void }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-bench-'));
  const staticDir = path.join(dataDir, 'pages');
  mkdirSync(path.join(staticDir, 'volunteer'), { recursive: true });
  writeFileSync(path.join(staticDir, 'volunteer', 'index.html'), '<!doctype html>');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../server/bin.mjs', import.meta.url)), 'start'],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        BROWSERGRID_DATA: dataDir,
        BROWSERGRID_STATIC_DIR: staticDir,
        BROWSERGRID_ADMIN_TOKEN: TOKEN,
        BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    'the coordinator',
  );
  const connected = async (): Promise<number> => {
    const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    return Number(/^browsergrid_workers_connected (\d+)/m.exec(await res.text())?.[1]);
  };
  return {
    server: { child, url, connected },
    cleanup: () => {
      child.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
