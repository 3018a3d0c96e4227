/**
 * @module Socket-level limits: a token bucket per connection for inbound events, and a cap on
 * concurrent engine.io connections per remote address. A limited request-like event is answered with a
 * `rate_limited` error ack and dropped; a connection far over its rate is closed.
 */
import type { Server, Socket } from 'socket.io';
import type { Log } from '../log.ts';

export interface SocketLimits {
  /** Sustained inbound events per second per connection. */
  eventsPerSecond: number;
  /** Events a connection may send at once above the sustained rate. */
  burst: number;
  /** Concurrent connections per remote address; 0 turns the cap off (labs behind one NAT). */
  maxConnectionsPerAddress: number;
}

/** Refusals in a row, past the burst, after which a connection is closed. */
const CLOSE_AFTER_REFUSALS = 1_000;

export function applySocketLimits(io: Server, limits: SocketLimits, log: Log): void {
  const perAddress = new Map<string, number>();
  const overLimit = new WeakSet<object>();

  // Counted per engine.io connection and released on its 'close', which fires however the
  // connection ends. A namespace socket's 'disconnect' does not: a connection cut while its
  // namespace connect is still in the middleware (`40` and a garbage frame in one TCP segment)
  // never emits it, and counting there leaked a place per such connection until a restart.
  io.engine.prependListener('connection', (conn: EngineConnection) => {
    const address = conn.remoteAddress;
    const count = perAddress.get(address) ?? 0;
    if (limits.maxConnectionsPerAddress > 0 && count >= limits.maxConnectionsPerAddress) {
      // Not counted; refused with a message at its namespace connect, below, and closed. One
      // that never asks for a namespace is closed by socket.io's connectTimeout.
      overLimit.add(conn);
      return;
    }
    perAddress.set(address, count + 1);
    conn.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });

  io.use((socket, next) => {
    if (!overLimit.has(socket.conn)) {
      next();
      return;
    }
    const address = socket.handshake.address;
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
interface EngineConnection {
  remoteAddress: string;
  once(event: 'close', listener: () => void): unknown;
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
