/**
 * An admin's word holds on every node: a grid paused, a device banned or a token revoked through
 * one coordinator takes effect on the tabs and requests of the others.
 */
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { api, waitFor } from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer } = useHarness();

async function twoNodes() {
  const databaseUrl = await postgres.freshDatabase();
  const config = { databaseUrl, nodeHeartbeatMs: 100 };
  return [await coordinator({ config }), await coordinator({ config })] as const;
}

describe('admin changes across nodes', () => {
  it("pauses and resumes a grid's tabs on another node", async () => {
    const [a, b] = await twoNodes();
    const { body: grid } = await api<{ code: string }>(a, 'POST', '/api/grids', { name: 'Lab 2' });
    const student = await volunteer(b, { grid: grid.code });

    expect((await api(a, 'POST', `/api/grids/${grid.code}/pause`, {})).status).toBe(200);
    await student.until(() => student.controls.at(-1)?.paused === true, 10_000, 'the pause on B');
    expect((await api(a, 'POST', `/api/grids/${grid.code}/resume`, {})).status).toBe(200);
    await student.until(() => student.controls.at(-1)?.paused === false, 10_000, 'the resume');
  });

  it("lists a grid's tabs on every node in its roster, read through any node", async () => {
    const [a, b] = await twoNodes();
    const { body: grid } = await api<{ code: string }>(a, 'POST', '/api/grids', { name: 'Lab 4' });
    const onA = await volunteer(a, { grid: grid.code, slots: 2 });
    const onB = await volunteer(b, { grid: grid.code, slots: 3 });
    const roster = await waitFor(
      async () => {
        const { body } = await api<{ devices: Array<{ volunteerId: string; cores: number }> }>(
          a,
          'GET',
          `/api/grids/${grid.code}`,
        );
        return body.devices.length === 2 ? body.devices : undefined;
      },
      10_000,
      "both nodes' tabs on A's roster",
    );
    const cores = new Map(roster.map((entry) => [entry.volunteerId, entry.cores]));
    expect(cores.get(onA.welcome?.volunteerId ?? '')).toBe(2);
    expect(cores.get(onB.welcome?.volunteerId ?? '')).toBe(3);
  });

  it('pauses one tab of a grid through a node the tab is not on', async () => {
    const [a, b] = await twoNodes();
    const { body: grid } = await api<{ code: string }>(a, 'POST', '/api/grids', { name: 'Lab 3' });
    const student = await volunteer(b, { grid: grid.code });
    const other = await volunteer(b, { grid: grid.code });
    // A finds B's tab once B has published its tabs (every heartbeat).
    const { status } = await waitForStatus(() =>
      api(a, 'POST', `/api/grids/${grid.code}/pause`, {
        volunteerId: student.welcome?.volunteerId,
      }),
    );
    expect(status).toBe(200);
    await student.until(() => student.controls.at(-1)?.paused === true, 10_000, 'the tab paused');
    expect(other.controls.some((control) => control.paused)).toBe(false);
  });

  it('closes a banned device’s tabs on another node and refuses them there', async () => {
    const [a, b] = await twoNodes();
    const tab = await volunteer(b, {});
    const deviceId = tab.deviceId;
    expect((await api(a, 'POST', `/api/devices/${deviceId}/ban`)).status).toBe(204);
    await tab.until(() => !tab.socket.connected, 10_000, 'the banned tab closed on B');
    await expect(volunteer(b, { deviceId })).rejects.toThrow(/hello refused/);
  });

  it('refuses on every node a token revoked on one', async () => {
    const [a, b] = await twoNodes();
    const { body: created } = await api<{ tokenId: string; token: string }>(
      a,
      'POST',
      '/api/tokens',
      { name: 'ta' },
    );
    const asTa = { url: b.url, token: created.token };
    // Made on A, it works on B once B has heard.
    expect((await waitForStatus(() => api(asTa, 'GET', '/api/jobs'))).status).toBe(200);
    expect((await api(a, 'DELETE', `/api/tokens/${created.tokenId}`)).status).toBe(204);
    expect((await waitForStatus(() => api(asTa, 'GET', '/api/jobs'), 401)).status).toBe(401);
  });
});

/** Retries a request until it answers `want`: another node hears of a change within moments. */
function waitForStatus<T extends { status: number }>(
  request: () => Promise<T>,
  want = 200,
): Promise<T> {
  return waitFor(
    async () => {
      const answer = await request();
      return answer.status === want ? answer : undefined;
    },
    10_000,
    `an answer ${want}`,
  );
}
