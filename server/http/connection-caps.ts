/**
 * @module Caps on open TCP connections (HTTP and WebSocket alike): one for the whole server, so
 * connections cannot exhaust memory or descriptors, and one per remote address, so a single
 * address cannot take every place under the first. A connection over a cap is closed on accept.
 * An address is counted as every per-address rule counts it (addressKey: an IPv6 /64 is one).
 */
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { throttledWarn, type Log } from '../log.ts';
import { AddressCounts } from '../realtime/address-counts.ts';

export interface ConnectionCaps {
  /** Open connections in all; 0 for no cap. */
  maxConnections: number;
  /** Open connections from one address; 0 for no cap. */
  maxPerAddress: number;
  /** Addresses the per-address cap does not apply to: trusted reverse proxies, whose clients
   * are counted one by one later, once their X-Forwarded-For is read. */
  exempt?: readonly string[];
}

/**
 * Connections an address may hold beyond its tabs' WebSockets: page loads (a browser opens up
 * to 6 per host), REST clients, and refused tabs whose connections are closing.
 */
export const CONNECTIONS_BEYOND_TABS = 100;

export function capConnections(httpServer: HttpServer, caps: ConnectionCaps, log: Log): void {
  const warn = throttledWarn(log);
  const noteRefusal = (why: string, address: string | undefined): void =>
    warn({ address, ...caps }, `[http]: connections refused, ${why}`);

  // Node closes a connection past maxConnections before 'connection'; 'drop' tells of it.
  if (caps.maxConnections > 0) httpServer.maxConnections = caps.maxConnections;
  httpServer.on('drop', (data?: { remoteAddress?: string }) =>
    noteRefusal('the server is at BROWSERGRID_MAX_HTTP_CONNECTIONS', data?.remoteAddress),
  );

  if (caps.maxPerAddress <= 0) return;
  const perAddress = new AddressCounts();
  const exempt = new Set((caps.exempt ?? []).flatMap((address) => [address, `::ffff:${address}`]));
  // After Node's own listener, which sets the socket up: destroyed here, before its first read,
  // it is cleaned up by the same path as any closed connection.
  httpServer.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    if (exempt.has(address)) return;
    if (perAddress.of(address) >= caps.maxPerAddress) {
      noteRefusal('too many from one address (BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS)', address);
      socket.destroy();
      return;
    }
    // 'close' fires once however a socket ends, upgraded to a WebSocket or not.
    perAddress.holdUntilClose(address, socket);
  });
}
