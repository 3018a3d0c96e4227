/**
 * @module A child process holding idle connections for the connections benchmark: `clients`
 * socket.io clients from one source address (`localAddress`), each a registered simulated tab
 * with no slots (`grid`, test/support/sim-tab.ts) or a bare connection (`bare`). Several such processes spread the clients over
 * source addresses and over per-process descriptor limits. Talks to its parent over IPC:
 * `ready` once all are connected, `stop` to close, answered with how many dropped meanwhile.
 */
import { io } from 'socket.io-client';
import { SimTab } from '../test/support/sim-tab.ts';

export interface ConnsClientOptions {
  url: string;
  mode: 'grid' | 'bare';
  clients: number;
  localAddress: string;
  /** Id prefix, unique per process. */
  prefix: string;
}

/** Connections opened at once: a burst larger than the listen backlog only costs SYN retries. */
const CONCURRENT = 100;
/** Tries per client: on a machine loaded far past its cores a handshake can time out, and a real
 * tab would simply connect again; every retry is counted and reported. */
const ATTEMPTS = 3;
let retried = 0;

const options = JSON.parse(process.env['BROWSERGRID_CONNS'] ?? '{}') as ConnsClientOptions;
const clients: Array<{ close(): void; dropped(): number }> = [];

async function open(i: number): Promise<void> {
  if (options.mode === 'grid') {
    const id = `${options.prefix}-${i}`;
    const tab = await SimTab.connect(options.url, {
      deviceId: id,
      tabId: id,
      slots: 0,
      localAddress: options.localAddress,
      record: false,
    }).catch((error: unknown) => {
      throw new Error(`client ${i}: ${error instanceof Error ? error.message : String(error)}`);
    });
    clients.push({ close: () => tab.close(), dropped: () => tab.stats.disconnects });
    return;
  }
  const socket = io(options.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    localAddress: options.localAddress,
  } as Parameters<typeof io>[1]);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(new Error(`client ${i}: ${error.message}`)));
  });
  let drops = 0;
  socket.on('disconnect', () => drops++);
  clients.push({ close: () => socket.disconnect(), dropped: () => drops });
}

async function openWithRetries(i: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await open(i);
      return;
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      retried++;
    }
  }
}

let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENT }, async () => {
    while (next < options.clients) await openWithRetries(next++);
  }),
);
process.send?.({ type: 'ready', connected: clients.length, retried });
process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  const dropped = clients.reduce((sum, client) => sum + client.dropped(), 0);
  for (const client of clients) client.close();
  process.send?.({ type: 'stopped', dropped }, () => process.exit(0));
});
