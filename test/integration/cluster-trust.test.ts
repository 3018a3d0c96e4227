/**
 * Adaptive trust holds across nodes and restarts: a device caught disagreeing on one node loses
 * its trust on every node at once, every node lists every device of the cluster, and trust
 * earned before a restart is still there after it.
 */
import { describe, expect, it } from 'vitest';
import { DeviceView } from '../../shared/devices.ts';
import { useHarness } from '../support/harness.ts';
import { usePostgres } from '../support/postgres.ts';
import { api, waitFor, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const postgres = usePostgres();
const { coordinator, volunteer, submit } = useHarness();

/** One agreeing result makes a device trusted, and a trusted device is never spot-checked. */
const scheduler = { trust: { streakToTrust: 1, spotCheckRate: 0 } };

const adaptive = (inputs: number[]) => ({
  map: '(x) => x * 2',
  inputs,
  redundancy: 2,
  adaptiveTrust: true,
  speculation: false,
});

async function devices(server: TestCoordinator): Promise<Map<string, DeviceView>> {
  const { status, body } = await api(server, 'GET', '/api/devices');
  expect(status).toBe(200);
  return new Map(
    DeviceView.array()
      .parse(body)
      .map((device) => [device.deviceId, device]),
  );
}

describe('adaptive trust across nodes', () => {
  it('distrusts on every node at once a device caught disagreeing on one, and lists it on every node with its tabs there', async () => {
    const databaseUrl = await postgres.freshDatabase();
    const options = { config: { databaseUrl, nodeHeartbeatMs: 100 }, scheduler };
    const a = await coordinator(options);
    const b = await coordinator(options);

    // The device earns its trust on B.
    const device = await volunteer(b, { slots: 1 });
    const peer = await volunteer(b, { slots: 1 });
    const earned = await submit(b, adaptive([1]));
    expect(await waitForJob(b, earned.id)).toMatchObject({ status: 'completed', done: 1 });
    expect((await devices(b)).get(device.deviceId)).toMatchObject({ trusted: true, streak: 1 });

    // A node claims a job's tasks for any of its tabs: B has none while A takes the next job.
    device.close();
    peer.close();
    await waitFor(() => (b.coordinator.engine.volunteerCount === 0 ? true : undefined));
    const first = await volunteer(a, { slots: 1 });
    const caught = await submit(a, adaptive([2]));
    await first.until(() => first.received.length === 1, 10_000, 'the first copy on A');
    // The device is back on B, which still counts it trusted.
    const onB = await volunteer(b, { slots: 1, deviceId: device.deviceId });

    // On A the same device lies and is outvoted.
    const liar = await volunteer(a, {
      slots: 1,
      deviceId: device.deviceId,
      answer: { output: 666 },
    });
    await liar.until(() => liar.received.length === 1, 10_000, "the liar's copy on A");
    const honest = await volunteer(a, { slots: 1 });
    expect(await waitForJob(a, caught.id)).toMatchObject({ status: 'completed', done: 1 });

    // B lists it as A judged it, with its tabs on both nodes, and A's other tabs too.
    const listed = await waitFor(
      async () => {
        const all = await devices(b);
        const found = all.get(device.deviceId);
        return found?.disagreements === 1 &&
          found.tabs === 2 &&
          all.get(honest.deviceId)?.tabs === 1
          ? found
          : undefined;
      },
      10_000,
      "B's list of the cluster's devices",
    );
    expect(listed).toMatchObject({ trusted: false, streak: 0, banned: false });
    expect((await devices(a)).get(device.deviceId)).toMatchObject(listed);

    // B's next task for it needs a second, agreeing result: B no longer lets it commit alone.
    // (A's tabs leave first, so that B claims it.)
    for (const tab of [first, liar, honest]) tab.close();
    await waitFor(() => (a.coordinator.engine.volunteerCount === 0 ? true : undefined));
    const next = await submit(b, adaptive([5]));
    await onB.until(
      () => onB.received.some((task) => task.jobId === next.id),
      10_000,
      'the next task on B',
    );
    const checker = await volunteer(b, { slots: 1 });
    await checker.until(
      () => checker.received.some((task) => task.jobId === next.id),
      10_000,
      'a second copy of the task, for full redundancy',
    );
    expect(await waitForJob(b, next.id)).toMatchObject({ status: 'completed', done: 1 });
  });
});

describe('adaptive trust across restarts', () => {
  it('keeps the trust a device earned before a restart, listed and acted on after it', async () => {
    const before = await coordinator({ scheduler });
    const device = await volunteer(before, { slots: 1 });
    const peer = await volunteer(before, { slots: 1 });
    const earned = await submit(before, adaptive([1]));
    expect(await waitForJob(before, earned.id)).toMatchObject({ status: 'completed', done: 1 });
    device.close();
    peer.close();
    await before.stop();

    const after = await coordinator({ dataDir: before.dataDir, scheduler });
    expect((await devices(after)).get(device.deviceId)).toMatchObject({
      trusted: true,
      streak: 1,
      tabs: 0,
    });
    const back = await volunteer(after, { slots: 1, deviceId: device.deviceId });
    await waitFor(
      async () => ((await devices(after)).get(device.deviceId)?.tabs === 1 ? true : undefined),
      10_000,
      'the device back',
    );
    // Trusted, it commits alone: no other tab is connected.
    const alone = await submit(after, adaptive([3]));
    expect(await waitForJob(after, alone.id, ['completed'], 10_000)).toMatchObject({ done: 1 });
    expect(back.received.map((task) => task.jobId)).toEqual([alone.id]);
  });
});
