/**
 * @module 6. Connections: how many registered tabs one coordinator process holds connected and
 * heartbeating, and its memory per tab against a bare socket.io server holding as many. Clients
 * live in child processes, each on its own 127.0.0.x source address, so neither the load
 * generator's descriptors nor one address's ephemeral ports are what runs out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnsClientOptions } from './conns-client.ts';
import {
  SMOKE,
  coordinatorProcess,
  nextChildMessage,
  report,
  serverProcess,
  steadyRss,
  withRaisedFdLimit,
  type ServerProcess,
} from './support.ts';

/**
 * Every process here may hold at most 20,000 descriptors (a hard limit the container does not
 * let us raise), and the coordinator needs a few for its store, listener and stdio.
 */
const CLIENTS = SMOKE ? 200 : 19_900;
const CLIENT_PROCESSES = SMOKE ? 1 : 4;
/** Longer than socket.io's ping interval plus timeout (25 s + 20 s): a missed heartbeat drops. */
const HOLD_MS = SMOKE ? 0 : 50_000;

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
  const { server, cleanup } = await coordinatorProcess({
    BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS: '0',
  });
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
async function hold(
  server: ServerProcess,
  mode: 'grid' | 'bare',
  addressBase: number,
): Promise<Held> {
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
    await Promise.all(clients.map((child) => nextChildMessage(child, 'ready', 600_000)));
    const after = await steadyRss(server.child.pid as number);
    if (HOLD_MS > 0) await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    const connectedAfterHold = await server.connected?.();
    let dropped = 0;
    for (const child of clients) {
      const stopped = nextChildMessage<{ dropped: number }>(child, 'stopped', 60_000);
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

/** A conns-client.ts process holding `options.clients` connections, its descriptor limit raised. */
export function clientProcess(options: ConnsClientOptions): ChildProcess {
  const entry = fileURLToPath(new URL('./conns-client.ts', import.meta.url));
  return spawn(...withRaisedFdLimit(['--import', 'tsx', entry]), {
    env: { ...process.env, BROWSERGRID_CONNS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
