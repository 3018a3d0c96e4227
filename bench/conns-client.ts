/**
 * @module A child process holding idle connections for the connections benchmark: `clients`
 * socket.io clients from one source address (`localAddress`), each a registered tab with no
 * slots (`grid`) or a bare connection (`bare`). Several such processes spread the clients over
 * source addresses and over per-process descriptor limits. Talks to its parent over IPC:
 * `ready` once all are connected, `stop` to close, answered with how many dropped meanwhile.
 */
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION } from '../shared/protocol.ts';

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

const options = JSON.parse(process.env['BROWSERGRID_CONNS'] ?? '{}') as ConnsClientOptions;
const sockets: Socket[] = [];
let drops = 0;

async function open(i: number): Promise<void> {
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
  socket.on('disconnect', () => drops++);
  sockets.push(socket);
  if (options.mode === 'grid') {
    const id = `${options.prefix}-${i}`;
    await socket.emitWithAck('volunteer:hello', {
      protocolVersion: PROTOCOL_VERSION,
      deviceId: id,
      tabId: id,
      slots: 0,
    });
  }
}

let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENT }, async () => {
    while (next < options.clients) await open(next++);
  }),
);
process.send?.({ type: 'ready', connected: sockets.length });
process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  const dropped = drops;
  for (const socket of sockets) socket.disconnect();
  process.send?.({ type: 'stopped', dropped }, () => process.exit(0));
});
