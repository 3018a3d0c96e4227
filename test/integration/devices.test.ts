import { describe, expect, it } from 'vitest';
import { DeviceView } from '../../shared/devices.ts';
import { disconnected } from '../support/events.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, startCoordinator, waitForJob } from '../support/start-coordinator.ts';

const { defer } = useHarness();

describe('devices', () => {
  it('bans a device: its tab is closed, it is refused from then on (also after a restart), and unbanning lets it back', async () => {
    const first = await startCoordinator();
    defer(() => first.close());
    const bad = await SimTab.connect(first.url, { slots: 1, answer: 'silent' });
    defer(() => bad.close());
    // Device ids are issued by the coordinator: ban the one this tab was given.
    const badDevice = bad.deviceId;
    const job = (
      await api<{ id: string }>(first, 'POST', '/api/jobs', { map: '(x) => x', inputs: [1, 2] })
    ).body;
    await bad.until(() => bad.received.length > 0);

    expect((await api(first, 'POST', `/api/devices/${badDevice}/ban`)).status).toBe(204);
    await disconnected(bad.socket, 5_000, 'the banned tab to be closed');
    // In the shared shape the admin page reads.
    const devices = DeviceView.array().parse((await api(first, 'GET', '/api/devices')).body);
    expect(devices.find((device) => device.deviceId === badDevice)).toMatchObject({
      banned: true,
    });
    await expect(SimTab.connect(first.url, { deviceId: badDevice })).rejects.toThrow(/banned/);

    // Its tasks go to others.
    const good = await SimTab.connect(first.url, { slots: 2 });
    defer(() => good.close());
    expect(await waitForJob(first, job.id)).toMatchObject({ status: 'completed' });
    good.close();

    await first.stop();
    const second = await startCoordinator({ dataDir: first.dataDir });
    defer(() => second.close());
    await expect(SimTab.connect(second.url, { deviceId: badDevice })).rejects.toThrow(/banned/);
    expect((await api(second, 'POST', `/api/devices/${badDevice}/unban`)).status).toBe(204);
    const back = await SimTab.connect(second.url, { deviceId: badDevice });
    defer(() => back.close());
    expect((await api(second, 'POST', `/api/devices/${badDevice}/unban`)).status).toBe(404);
    expect((await api({ url: second.url, token: 'nope' }, 'GET', '/api/devices')).status).toBe(401);
  });
});
