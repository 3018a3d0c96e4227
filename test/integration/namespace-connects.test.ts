/**
 * Many namespace connects in one read: socket.io records a connection's namespace socket only a
 * tick after the namespace middleware, so every `40` decoded from one TCP read (64 KiB holds
 * 8,192 of them) or one polling payload would make a namespace socket of its own, ~10 KB each.
 * Eight such connections, well under the per-address cap, stalled `/healthz` for seconds and,
 * under a 512 MB heap, exhausted it.
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChildCoordinator, type ChildCoordinator } from '../support/child-coordinator.ts';
import { frame, openRawWebSocket, type RawWebSocket } from '../support/raw-websocket.ts';

let server: ChildCoordinator;
beforeAll(async () => {
  server = await startChildCoordinator({}, ['--max-old-space-size=512']);
}, 60_000);
afterAll(async () => {
  await server.stop();
}, 30_000);

function healthzMs(): Promise<number> {
  const start = Date.now();
  return new Promise((resolve) => {
    const req = http.get(`${server.url}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(Date.now() - start));
    });
    req.on('error', () => resolve(Infinity));
    req.setTimeout(20_000, () => req.destroy());
  });
}

/** One polling request to the coordinator's engine.io endpoint; resolves with status and body. */
function polling(
  method: 'GET' | 'POST',
  query: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: `/socket.io/?EIO=4&transport=polling${query}`,
        agent: false,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('polling request timed out')));
    req.end(body);
  });
}

it('one connection gets one namespace socket, however many connects one read holds', async () => {
  const burst = Buffer.concat(Array.from({ length: 8192 }, () => frame('40')));
  const conns: RawWebSocket[] = [];
  let worst = 0;
  try {
    for (let c = 0; c < 8 && server.exit() === undefined; c++) {
      const ws = await openRawWebSocket(server.url, { timeoutMs: 30_000 }).catch(() => undefined);
      if (!ws) break;
      ws.socket.on('error', () => undefined);
      ws.socket.write(burst);
      conns.push(ws);
      await ws.closed;
      worst = Math.max(worst, await healthzMs());
    }
    const acks = conns.map((ws) => (ws.received().match(/40\{"sid"/g) ?? []).length);
    expect(server.exit(), server.output().slice(-2000)).toBeUndefined();
    expect(conns).toHaveLength(8);
    expect(Math.max(...acks)).toBeLessThanOrEqual(1);
    expect(worst).toBeLessThan(2_000);
  } finally {
    for (const ws of conns) ws.socket.destroy();
  }
}, 120_000);

it('a polling connection whose payload holds many connects is closed, with at most one namespace socket', async () => {
  const open = await polling('GET', '');
  const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
  const payload = Array.from({ length: 8192 }, () => '40').join('\x1e');
  expect((await polling('POST', `&sid=${sid}`, payload)).status).toBe(200);
  // What the session has to say: at most one connect answer and the close, or, once closed,
  // nothing at all (an unknown sid).
  const reply = await polling('GET', `&sid=${sid}`);
  expect((reply.body.match(/40\{"sid"/g) ?? []).length).toBeLessThanOrEqual(1);
  const after = await polling('GET', `&sid=${sid}`);
  expect(after.status).toBe(400);
  expect(server.exit(), server.output().slice(-2000)).toBeUndefined();
}, 60_000);

it('a connection that asks for a namespace twice, or for a third, is closed', async () => {
  for (const frames of [
    ['40', '40'],
    ['40/admin,', '40/admin,'],
    ['40', '40/admin,', '40/x,'],
  ]) {
    const ws = await openRawWebSocket(server.url);
    ws.socket.on('error', () => undefined);
    ws.socket.write(Buffer.concat(frames.map((f) => frame(f))));
    await ws.closed;
    ws.socket.destroy();
  }
}, 30_000);
