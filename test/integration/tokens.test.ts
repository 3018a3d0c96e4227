import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { api, startCoordinator } from '../support/start-coordinator.ts';

const { defer } = useHarness();

function openAdmin(url: string, token: string): Socket {
  const socket = io(`${url}/admin`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  defer(() => void socket.disconnect());
  return socket;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

describe('admin tokens', () => {
  it('creates named tokens that work, lists them without secrets, revokes them, and keeps them across a restart', async () => {
    const first = await startCoordinator();
    defer(() => first.close());
    const created = await api<{ tokenId: string; token: string; name: string }>(
      first,
      'POST',
      '/api/tokens',
      {
        name: 'teacher 2',
      },
    );
    expect(created.status).toBe(201);
    const second = { url: first.url, token: created.body.token };
    expect((await api(second, 'GET', '/api/jobs')).status).toBe(200);
    expect((await api(second, 'POST', '/api/jobs', { map: '(x) => x', inputs: [1] })).status).toBe(
      201,
    );

    const list = await api<Array<Record<string, unknown>>>(first, 'GET', '/api/tokens');
    expect(list.body).toEqual([
      { tokenId: created.body.tokenId, name: 'teacher 2', createdAt: expect.any(String) },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);

    await first.stop();
    const restarted = await startCoordinator({ dataDir: first.dataDir });
    defer(() => restarted.close());
    const again = { url: restarted.url, token: created.body.token };
    expect((await api(again, 'GET', '/api/jobs')).status).toBe(200);

    expect((await api(restarted, 'DELETE', `/api/tokens/${created.body.tokenId}`)).status).toBe(
      204,
    );
    expect((await api(again, 'GET', '/api/jobs')).status).toBe(401);
    expect((await api(restarted, 'DELETE', `/api/tokens/${created.body.tokenId}`)).status).toBe(
      404,
    );
    expect((await api(restarted, 'GET', '/api/jobs')).status).toBe(200); // the root token stays
    expect((await api(restarted, 'POST', '/api/tokens', { name: '' })).body).toMatchObject({
      error: { code: 'invalid_input', field: 'name' },
    });
  });
});

describe('admin sockets of a revoked token', () => {
  it('are closed when the token is revoked, refused when they reconnect, and others stay', async () => {
    const server = await startCoordinator();
    defer(() => server.close());
    const created = await api<{ tokenId: string; token: string }>(server, 'POST', '/api/tokens', {
      name: 'teacher 2',
    });
    const named = openAdmin(server.url, created.body.token);
    await connected(named);
    const root = openAdmin(server.url, server.token);
    await connected(root);
    expect(await named.timeout(5_000).emitWithAck('jobs:subscribe')).toMatchObject({ ok: true });

    const closed = new Promise<string>((resolve) => named.once('disconnect', resolve));
    expect((await api(server, 'DELETE', `/api/tokens/${created.body.tokenId}`)).status).toBe(204);
    expect(await closed).toBe('io server disconnect');

    await expect(connected(openAdmin(server.url, created.body.token))).rejects.toThrow(
      /valid admin token/,
    );
    expect(root.connected).toBe(true);
    expect(await root.timeout(5_000).emitWithAck('jobs:subscribe')).toMatchObject({ ok: true });
  });
});
