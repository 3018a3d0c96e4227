/**
 * Tabs behind a reverse proxy: with BROWSERGRID_TRUSTED_PROXIES naming it, every per-address
 * rule counts a tab by its X-Forwarded-For address; without, or from anyone else, the header is
 * ignored; and a hostile header counts as the proxy itself, never as a fresh address.
 */
import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';

const { coordinator, defer } = useHarness();

/** A socket.io connection as nginx would make it for a browser at `forwardedFor`. */
function open(url: string, forwardedFor: string): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { 'X-Forwarded-For': forwardedFor },
  });
  defer(() => void socket.disconnect());
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('trusted proxies', () => {
  it('counts tabs behind a trusted proxy by their forwarded address, and lets the proxy hold more than one address may', async () => {
    const server = await coordinator({
      config: { maxConnectionsPerAddress: 2, trustedProxies: ['127.0.0.1'] },
    });
    await open(server.url, '198.51.100.1');
    await open(server.url, '198.51.100.1');
    await expect(open(server.url, '198.51.100.1')).rejects.toThrow(
      /too many connections from 198\.51\.100\.1 \(limit 2/,
    );
    await open(server.url, '198.51.100.2');
    // Past the TCP cap of one address (2 tabs + 100 other connections): the proxy is exempt,
    // its clients are counted one by one.
    const many = Array.from({ length: 110 }, (_, i) =>
      open(server.url, `203.0.113.${i + 1}, 127.0.0.1`),
    );
    await expect(Promise.all(many)).resolves.toHaveLength(110);
  });

  it('ignores X-Forwarded-For from a client that is no trusted proxy', async () => {
    const server = await coordinator({ config: { maxConnectionsPerAddress: 2 } });
    await open(server.url, '198.51.100.1');
    await open(server.url, '198.51.100.2');
    await expect(open(server.url, '198.51.100.3')).rejects.toThrow(
      /too many connections from 127\.0\.0\.1 \(limit 2/,
    );
  });

  it.each([
    ['__proto__', '__proto__'],
    ['constructor, prototype', 'constructor, prototype'],
    ['not an address', 'not-an-address'],
    ['an address with a port', '198.51.100.1:80'],
    ['400 hops (over 1 KiB)', Array(400).fill('198.51.100.1').join(', ')],
    ['empty', ''],
  ])('counts a tab whose X-Forwarded-For is %s as the proxy itself', async (_what, header) => {
    const server = await coordinator({
      config: { maxConnectionsPerAddress: 2, trustedProxies: ['127.0.0.1'] },
    });
    await open(server.url, header);
    await open(server.url, `${header}x`);
    await expect(open(server.url, header)).rejects.toThrow(
      /too many connections from 127\.0\.0\.1 \(limit 2/,
    );
  });
});
