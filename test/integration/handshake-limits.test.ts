/**
 * engine.io makes a session for every handshake before socket.io sees it, and the per-address cap
 * only refused at the namespace connect: 30,000 polling handshakes from one address, none asking
 * for a namespace, took the heap from 20 to 221 MB. Past a few refusals in flight a handshake is
 * now refused before its session exists, and sessions that never ask are closed after
 * CONNECT_TIMEOUT_MS rather than socket.io's 45 s.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { CONNECT_TIMEOUT_MS, REFUSALS_IN_FLIGHT } from '../../server/realtime/limits.ts';
import { useHarness } from '../support/harness.ts';
import { openRawWebSocket } from '../support/raw-websocket.ts';
import { startCoordinator } from '../support/start-coordinator.ts';

const { defer } = useHarness();

function handshake(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/socket.io/?EIO=4&transport=polling`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('handshake timed out')));
  });
}

describe('handshake limits', () => {
  it('refuses polling handshakes from one address past its cap and a few refusals in flight, before a session exists', async () => {
    const server = await startCoordinator({ config: { maxConnectionsPerAddress: 3 } });
    defer(() => server.close());
    const replies = [];
    for (let i = 0; i < 60; i++) replies.push(await handshake(server.url));
    const opened = replies.filter((r) => r.body.startsWith('0{')).length;
    expect(opened).toBe(3 + REFUSALS_IN_FLIGHT);
    const refused = replies.filter((r) => r.status === 403);
    expect(refused).toHaveLength(60 - opened);
    expect(refused[0]?.body).toMatch(/\[realtime\]: too many connections from 127\.0\.0\.1/);
  }, 60_000);

  it('closes a connection that never asks for a namespace after the connect timeout', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const ws = await openRawWebSocket(server.url);
    defer(() => void ws.socket.destroy());
    const start = Date.now();
    await Promise.race([
      ws.closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('still open')), CONNECT_TIMEOUT_MS + 5_000),
      ),
    ]);
    expect(Date.now() - start).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 1_000);
  }, 30_000);
});
