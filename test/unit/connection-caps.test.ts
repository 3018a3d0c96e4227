import { createServer } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { capConnections } from '../../server/http/connection-caps.ts';
import { createRootLog } from '../../server/log.ts';

/** An unconnected socket that reports `address` as its peer, as an accepted one would. */
function socketFrom(address: string): Socket {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: address });
  return socket;
}

describe('capConnections', () => {
  // Tests connect from 127.0.0.1 only, so the IPv6 grouping is shown on sockets handed to the
  // server's 'connection' event as Node hands an accepted one.
  it('counts the addresses of one IPv6 /64 as one address, and other /64s apart', () => {
    const server = createServer();
    capConnections(server, { maxConnections: 0, maxPerAddress: 2 }, createRootLog('silent'));
    const sockets = ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3'].map(socketFrom);
    const other = socketFrom('2001:db8:1:3::1');
    for (const socket of [...sockets, other]) server.emit('connection', socket);
    expect(sockets.map((socket) => socket.destroyed)).toEqual([false, false, true]);
    expect(other.destroyed).toBe(false);
    for (const socket of [...sockets, other]) socket.destroy();
  });
});
