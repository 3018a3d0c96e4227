import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { api, startCoordinator } from '../support/start-coordinator.ts';

const { defer } = useHarness();

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
