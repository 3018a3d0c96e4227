/**
 * @module A WebSocket client built on node:net, for tests that must control what goes into each
 * TCP write: the upgrade handshake is done by hand, frames are masked and concatenated by the
 * test, so it can send what socket.io-client never would (several frames in one segment, garbage).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface RawWebSocket {
  socket: net.Socket;
  /** The engine.io open packet (`0{"sid":…}`), the first frame the server sent. */
  open: string;
  /** What the server sent after the open packet, frame headers and all (server frames are not
   * masked, so text payloads read as they are). */
  received(): string;
  /** Resolves when the server sends a close frame or closes the TCP connection (a server waits
   * for the client's close frame before it ends TCP, and this client never sends one). */
  closed: Promise<void>;
}

/** One masked client frame (RFC 6455 §5.2); opcode 1 is text. */
export function frame(payload: string | Buffer, opcode = 1): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length > 0xffff) throw new Error('frame(): payloads over 64 KiB are not supported');
  const mask = randomBytes(4);
  const length =
    data.length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | data.length])
      : Buffer.from([0x80 | opcode, 0x80 | 126, data.length >> 8, data.length & 0xff]);
  const masked = Buffer.from(data);
  for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i % 4]!;
  return Buffer.concat([length, mask, masked]);
}

/** Opens `/socket.io/?EIO=4&transport=websocket` and reads the open packet. */
export function openRawWebSocket(
  url: string,
  options: { localAddress?: string; timeoutMs?: number } = {},
): Promise<RawWebSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: hostname,
      port: Number(port),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    let sawClose = (): void => undefined;
    const closed = new Promise<void>((done) => {
      sawClose = done;
      socket.once('close', () => done());
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('raw websocket: no open packet in time'));
    }, options.timeoutMs ?? 5_000);
    let received = Buffer.alloc(0);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      socket.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      );
    });
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      if (!received.subarray(0, 12).toString().includes('101')) {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new Error(`raw websocket: upgrade refused: ${received.toString().split('\r\n')[0]}`),
        );
        return;
      }
      const frames = received.subarray(headerEnd + 4);
      if (frames.length < 2) return;
      const length = frames[1]! & 0x7f;
      const [start, size] = length === 126 ? [4, frames.readUInt16BE(2)] : [2, length];
      if (frames.length < start + size) return;
      clearTimeout(timer);
      socket.off('data', onData);
      watchForClose(frames.subarray(start + size));
      socket.on('data', (chunk: Buffer) => watchForClose(chunk));
      resolve({
        socket,
        open: frames.subarray(start, start + size).toString(),
        received: () => after,
        closed,
      });
    };
    // Server frames are small here, so a close frame starts a chunk or follows one in it.
    let after = '';
    const watchForClose = (chunk: Buffer): void => {
      after += chunk.toString('latin1');
      for (let at = 0; at + 1 < chunk.length;) {
        if ((chunk[at]! & 0x0f) === 0x8) {
          sawClose();
          return;
        }
        const length = chunk[at + 1]! & 0x7f;
        at += length === 126 ? 4 + chunk.readUInt16BE(at + 2) : 2 + length;
      }
    };
    socket.on('data', onData);
  });
}
