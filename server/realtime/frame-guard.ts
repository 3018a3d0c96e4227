/**
 * @module The first check on every socket.io message, on the raw engine.io frame before
 * socket.io parses it: who is speaking, then size and shape. A connection that has not said hello
 * (nor authenticated as an admin) may send only small frames, since a hello is small; any frame
 * whose brackets nest too deep or would make too many objects is refused. Nothing can be
 * answered on a frame that was never parsed, so a refused frame closes its connection.
 *
 * Two refusals are about socket.io's own state rather than size. A connection asks for each
 * namespace once: socket.io records a namespace socket only a tick after its middleware, so every
 * `40` decoded from one read (or one polling payload) would make a namespace socket of its own.
 * And the protocol has no binary: a binary frame, or a BINARY_EVENT/BINARY_ACK header, would have
 * socket.io-parser hold each attachment until the last, which need never come.
 */
import type { Socket as EngineConnection } from 'engine.io';
import type { Server } from 'socket.io';
import {
  MAX_ENVELOPE_DEPTH,
  MAX_JSON_DEPTH,
  MAX_JSON_NODES,
  MAX_UNREGISTERED_MESSAGE_BYTES,
} from '../../shared/limits.ts';
import type { Log } from '../log.ts';
import { frameShapeIssue, type FrameBounds } from './frame-scan.ts';
import { packetKind, PacketType } from './packet-kind.ts';

/** Namespaces a connection may ask for: `/` and `/admin`. */
export const MAX_CONNECTS_PER_CONNECTION = 2;

const FRAME_BOUNDS: FrameBounds = {
  maxDepth: MAX_JSON_DEPTH + MAX_ENVELOPE_DEPTH,
  maxContainers: MAX_JSON_NODES,
};

/** Connections that said hello or authenticated as an admin: their frames may be large. */
const trusted = new WeakSet<object>();

/** Lets `conn` send frames up to the socket message limit (after a hello or an admin handshake). */
export function trustConnection(conn: object): void {
  trusted.add(conn);
}

export function guardFrames(io: Server, log: Log): void {
  io.engine.on('connection', (conn: EngineConnection) => {
    conn.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message') return;
      const issue =
        protocolIssue(packet.data, asked(conn)) ?? frameIssue(packet.data, trusted.has(conn));
      if (issue === undefined) return;
      log.warn(
        { address: conn.remoteAddress, issue },
        '[realtime]: frame refused before parsing; connection closed',
      );
      // engine.io reads `packet.type` after emitting 'packet': a noop is never handed to
      // socket.io's parser, even on a transport whose close is not immediate (polling).
      // https://github.com/socketio/socket.io/blob/engine.io%406.6.12/packages/engine.io/lib/socket.ts (onPacket)
      packet.type = 'noop';
      conn.close(true);
    });
  });
}

/** Namespaces each connection has asked for, kept until the connection is collected. */
const askedFor = new WeakMap<object, Set<string>>();

function asked(conn: object): Set<string> {
  let namespaces = askedFor.get(conn);
  if (namespaces === undefined) {
    namespaces = new Set();
    askedFor.set(conn, namespaces);
  }
  return namespaces;
}

function protocolIssue(data: unknown, namespaces: Set<string>): string | undefined {
  if (typeof data !== 'string') return 'a binary frame (the protocol has none)';
  const { type, namespace } = packetKind(data);
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    return `a binary packet (type ${type}; the protocol has none)`;
  }
  if (type !== PacketType.CONNECT) return undefined;
  if (namespaces.has(namespace)) return `a second connect to ${namespace.slice(0, 64)}`;
  if (namespaces.size >= MAX_CONNECTS_PER_CONNECTION) {
    return `more than ${MAX_CONNECTS_PER_CONNECTION} namespace connects`;
  }
  namespaces.add(namespace);
  return undefined;
}

function frameIssue(data: unknown, isTrusted: boolean): string | undefined {
  const size = typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.length : 0;
  if (!isTrusted && size > MAX_UNREGISTERED_MESSAGE_BYTES) {
    return `a frame of ${size} ${typeof data === 'string' ? 'characters' : 'bytes'} before volunteer:hello (at most ${MAX_UNREGISTERED_MESSAGE_BYTES}, MAX_UNREGISTERED_MESSAGE_BYTES)`;
  }
  return typeof data === 'string' ? frameShapeIssue(data, FRAME_BOUNDS) : undefined;
}
