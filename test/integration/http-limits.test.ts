import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import { useHarness } from '../support/harness.ts';

const { coordinator, volunteer, defer } = useHarness();

const BODY_BYTES = 64 * 1024 * 1024;

interface RawHttp {
  socket: net.Socket;
  /** Everything the server sent so far. */
  text(): string;
  /** Resolves with the server's bytes once they contain `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  closed: Promise<void>;
}

function connect(url: string, localAddress = '127.0.0.1'): Promise<RawHttp> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port), localAddress });
  defer(() => void socket.destroy());
  let received = '';
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    for (const wake of waiters) wake();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const raw: RawHttp = {
    socket,
    text: () => received,
    closed,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(received);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; got ${received.slice(0, 80)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });
}

function postHead(path: string, bytes: number, token?: string): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${bytes}\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`
  );
}

/** Rejects if `promise` has not settled within `timeoutMs`. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs),
    ),
  ]);
}

async function healthzMs(url: string): Promise<number> {
  const startedAt = performance.now();
  const res = await fetch(`${url}/healthz`);
  await res.text();
  expect(res.status).toBe(200);
  return performance.now() - startedAt;
}

describe('HTTP limits', () => {
  it('refuses an unauthenticated 64 MB body with 401 before reading it, and /healthz stays responsive', async () => {
    const server = await coordinator();
    const raw = await connect(server.url);
    // 8 MB of `[{},{},…` sent of a declared 64 MB: the rest never comes.
    raw.socket.write(postHead('/api/jobs', BODY_BYTES));
    raw.socket.write(`[${'{},'.repeat((8 * 1024 * 1024) / 3)}`);
    const answer = await raw.waitFor(/\r\n\r\n.*\}\}/s, 5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/Connection: close/i);
    expect(answer).toMatch(/"code":"unauthorized"/);
    // The server hangs up instead of draining the 56 MB still announced.
    await within(raw.closed, 5_000, 'connection closed after the 401');
    for (let i = 0; i < 5; i++) expect(await healthzMs(server.url)).toBeLessThan(1_000);
  });

  it('parses bodies only on routes that take them: a body to a route without one is not read', async () => {
    const server = await coordinator();
    const raw = await connect(server.url);
    raw.socket.write(postHead('/api/devices/d1/unban', BODY_BYTES, server.token));
    raw.socket.write(`[${'{},'.repeat(1024)}`);
    // Answered (the device is not banned) without waiting for the 64 MB the head announces.
    expect(await raw.waitFor(/\r\n\r\n/, 5_000)).toMatch(/^HTTP\/1\.1 [24]\d\d /);
  });

  it('cuts a request whose body stalls after the idle timeout, and leaves WebSockets alone', async () => {
    const server = await coordinator({ config: { httpIdleTimeoutMs: 300 } });
    const tab = await volunteer(server);
    const raw = await connect(server.url);
    raw.socket.write(postHead('/api/jobs', 1_000, server.token));
    raw.socket.write('{"map":"(x) => x","inputs":[1,2');
    const startedAt = performance.now();
    await within(raw.closed, 5_000, 'stalled request cut');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(250);
    // The tab's WebSocket, idle for as long, is still served.
    expect(
      await tab.socket.timeout(5_000).emitWithAck('volunteer:hello', {
        protocolVersion: PROTOCOL_VERSION,
        deviceId: 'again',
        tabId: 'again',
        slots: 1,
      }),
    ).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('cuts a client that trickles its headers past the header timeout', async () => {
    const server = await coordinator({ config: { headersTimeoutMs: 300 } });
    const raw = await connect(server.url);
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // A byte at a time keeps the connection from going idle, never finishing the head.
    const trickle = setInterval(() => raw.socket.write('X'), 50);
    defer(() => clearInterval(trickle));
    await within(raw.closed, 5_000, 'trickling client cut');
    expect(raw.text()).toMatch(/^(HTTP\/1\.1 408 |$)/);
  });

  it('refuses an HTTP connection over the cap and admits one when a place frees', async () => {
    const server = await coordinator({ config: { maxHttpConnections: 3 } });
    const held: RawHttp[] = [];
    for (let i = 0; i < 3; i++) {
      const raw = await connect(server.url);
      raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await raw.waitFor(/^HTTP\/1\.1 200 /, 5_000);
      held.push(raw);
    }
    const over = await connect(server.url);
    over.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await within(over.closed, 5_000, 'connection over the cap closed');
    expect(over.text()).toBe('');

    held[0]!.socket.destroy();
    await held[0]!.closed;
    const admitted = await within(
      (async () => {
        for (;;) {
          const raw = await connect(server.url);
          raw.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          const answered = await Promise.race([
            raw.waitFor(/^HTTP\/1\.1 200 /, 5_000).then(() => true),
            raw.closed.then(() => false),
          ]);
          if (answered) return raw;
        }
      })(),
      5_000,
      'a connection admitted after one closed',
    );
    expect(admitted.text()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('refuses connections from one address past its cap, and not from another', async () => {
    // 2 tabs, so 2 + 100 connections in all from one address.
    const server = await coordinator({ config: { maxConnectionsPerAddress: 2 } });
    const unfinishedHead = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    for (let i = 0; i < 102; i++) (await connect(server.url)).socket.write(unfinishedHead);
    const over = await connect(server.url);
    over.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await within(over.closed, 5_000, 'connection over the address cap closed');
    expect(over.text()).toBe('');

    const other = await connect(server.url, '127.0.0.2');
    other.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await other.waitFor(/^HTTP\/1\.1 200 /, 5_000);
  });
});
