/**
 * @module Socket-level limits: a token bucket per connection for inbound events, and a cap on
 * concurrent engine.io connections per remote address. A limited request-like event is answered with a
 * `rate_limited` error ack and dropped; a connection far over its rate is closed.
 *
 * An address over its cap still gets an engine.io session, so its tab can be told why at its
 * namespace connect; but only a few such sessions at a time: past them, a handshake is refused in
 * engine.io's allowRequest, before any session exists (30,000 polling handshakes from one address
 * had taken the heap from 20 to 221 MB).
 */
import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'socket.io';
import type { ClientAddress } from '../http/client-address.ts';
import { throttledWarn, type Log } from '../log.ts';
import { AddressCounts, type Closable } from './address-counts.ts';
import { addressKey } from './address-key.ts';

export interface SocketLimits {
  /** Sustained inbound events per second per connection. */
  eventsPerSecond: number;
  /** Events a connection may send at once above the sustained rate. */
  burst: number;
  /** Concurrent connections per remote address; 0 turns the cap off (labs behind one NAT). */
  maxConnectionsPerAddress: number;
  /** The client's address behind trusted proxies; the TCP peer's unless told. */
  clientAddress?: ClientAddress;
}

/** Refusals in a row, past the burst, after which a connection is closed. */
const CLOSE_AFTER_REFUSALS = 1_000;

/** Sessions over its cap an address may hold at once while they are refused with a message. */
export const REFUSALS_IN_FLIGHT = 10;

/**
 * How long a session may take to ask for a namespace. A client asks on the open packet, one
 * round trip; socket.io's default, 45 s, let every session that never asks (a bare polling
 * handshake) hold its place, and its memory, that long.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

export function applySocketLimits(io: Server, limits: SocketLimits, log: Log): void {
  const perAddress = new AddressCounts();
  const refusing = new AddressCounts();
  const overLimit = new WeakSet<object>();
  io.connectTimeout(CONNECT_TIMEOUT_MS);

  const warnRefused = throttledWarn(log);
  const clientAddress: ClientAddress =
    limits.clientAddress ?? ((remoteAddress) => remoteAddress ?? 'unknown');
  // engine.io asks this only for handshakes (requests without a sid), before the session exists.
  io.engine.opts.allowRequest = (req: IncomingMessage, allow) => {
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    const full =
      limits.maxConnectionsPerAddress > 0 &&
      perAddress.of(address) >= limits.maxConnectionsPerAddress &&
      refusing.of(address) >= REFUSALS_IN_FLIGHT;
    if (!full) {
      allow(null, true);
      return;
    }
    const key = addressKey(address);
    warnRefused(
      { address: key },
      '[realtime]: handshakes refused, too many connections from one address',
    );
    allow(
      `[realtime]: too many connections from ${key} (limit ${limits.maxConnectionsPerAddress}, BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS)`,
      false,
    );
  };

  // Counted per engine.io connection and released on its 'close', which fires however the
  // connection ends. A namespace socket's 'disconnect' does not: a connection cut while its
  // namespace connect is still in the middleware (`40` and a garbage frame in one TCP segment)
  // never emits it, and counting there leaked a place per such connection until a restart.
  io.engine.prependListener('connection', (conn: EngineConnection) => {
    // Set once, first: every rule after this one (socket.handshake.address, built from it at the
    // namespace connect: device ids, join codes, distinct addresses) sees the client's address.
    conn.remoteAddress = clientAddress(conn.remoteAddress, conn.request.headers['x-forwarded-for']);
    const address = conn.remoteAddress;
    if (
      limits.maxConnectionsPerAddress > 0 &&
      perAddress.of(address) >= limits.maxConnectionsPerAddress
    ) {
      // Not counted among its tabs; refused with a message at its namespace connect, below,
      // and closed. One that never asks for a namespace is closed by the connectTimeout.
      overLimit.add(conn);
      refusing.holdUntilClose(address, conn);
      return;
    }
    perAddress.holdUntilClose(address, conn);
  });

  io.use((socket, next) => {
    if (!overLimit.has(socket.conn)) {
      next();
      return;
    }
    const address = addressKey(socket.handshake.address);
    log.warn({ address }, '[realtime]: connection refused, too many from one address');
    next(
      new Error(
        `[realtime]: too many connections from ${address} (limit ${limits.maxConnectionsPerAddress}, BROWSERGRID_MAX_CONNECTIONS_PER_ADDRESS)`,
      ),
    );
    // The refusal is written on the next tick; the engine sends it before it closes.
    setTimeout(() => socket.conn.close(), 0);
  });

  io.on('connection', (socket) => limitEvents(socket, limits, log));
}

/** The part of an engine.io socket used here. */
interface EngineConnection extends Closable {
  remoteAddress: string;
  request: IncomingMessage;
}

function limitEvents(socket: Socket, limits: SocketLimits, log: Log): void {
  let tokens = limits.burst;
  let refilledAt = performance.now();
  let refusals = 0;
  socket.use((packet, next) => {
    const now = performance.now();
    tokens = Math.min(limits.burst, tokens + ((now - refilledAt) / 1000) * limits.eventsPerSecond);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      refusals = 0;
      next();
      return;
    }
    const ack = packet[packet.length - 1];
    if (typeof ack === 'function') {
      (ack as (res: unknown) => void)({
        ok: false,
        error: {
          code: 'rate_limited',
          message: `[realtime]: more than ${limits.eventsPerSecond} events/s; slow down`,
        },
      });
    }
    if (++refusals === CLOSE_AFTER_REFUSALS) {
      log.warn({ socketId: socket.id }, '[realtime]: connection closed, far over its event rate');
      socket.disconnect(true);
    }
  });
}
