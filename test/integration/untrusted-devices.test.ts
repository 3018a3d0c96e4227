import { describe, expect, it } from 'vitest';
import { disconnected } from '../support/events.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { api, resultLines, waitForJob } from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit } = useHarness();

describe('one untrusted device', () => {
  it.each([
    { redundancy: 1, honest: 1 },
    { redundancy: 2, honest: 2 },
  ])(
    'cannot fail a job by answering every copy with an error (redundancy $redundancy, $honest honest tab(s))',
    async ({ redundancy, honest }) => {
      const server = await coordinator();
      // Connected first and with many slots, so it takes the first copies and asks first after.
      await volunteer(server, { slots: 8, answer: 'failing' });
      for (let i = 0; i < honest; i++) await volunteer(server, { slots: 1, taskMs: 5 });
      const inputs = Array.from({ length: 20 }, (_, i) => i);
      const job = await submit(server, { map: '(x) => x * 3', inputs, redundancy });
      expect(await waitForJob(server, job.id, undefined, 20_000)).toMatchObject({
        status: 'completed',
        done: 20,
        failed: 0,
      });
      const lines = await resultLines(server, job.id);
      expect(lines.map((line) => line['output'])).toEqual(inputs.map((x) => x * 3));
    },
  );
});

describe('failing devices beside an honest tab', () => {
  it('cannot fail tasks an honest tab is running by taking end-game backups and failing them', async () => {
    const server = await coordinator();
    const honest = await volunteer(server, {
      slots: 1,
      taskMs: 5_000,
      localAddress: '127.0.0.8',
    });
    const job = await submit(server, { map: '(x) => x * 3', inputs: [1, 2] });
    await honest.until(() => honest.received.length === 2);
    // Joins once the honest tab holds everything: the job's end game offers it backups.
    await volunteer(server, { slots: 4, answer: 'failing', localAddress: '127.0.0.7' });
    expect(await waitForJob(server, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
      done: 2,
      failed: 0,
    });
  });

  it('cannot fail a job with three fresh device ids from one address', async () => {
    const server = await coordinator();
    // No issued id to present: each socket is issued a fresh one, all from one address.
    for (let i = 0; i < 3; i++)
      await volunteer(server, { slots: 8, answer: 'failing', localAddress: '127.0.0.7' });
    await volunteer(server, { slots: 1, taskMs: 5, localAddress: '127.0.0.8' });
    const inputs = Array.from({ length: 20 }, (_, i) => i);
    const job = await submit(server, { map: '(x) => x * 3', inputs });
    expect(await waitForJob(server, job.id, undefined, 20_000)).toMatchObject({
      status: 'completed',
      done: 20,
      failed: 0,
    });
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'])).toEqual(inputs.map((x) => x * 3));
  });
});

describe('an address that takes copies and drops its connection, over and over', () => {
  it.each([
    { redundancy: 1, honest: 1 },
    { redundancy: 2, honest: 2 },
  ])(
    'cannot fail tasks honest tabs at other addresses could run (redundancy $redundancy)',
    async ({ redundancy, honest }) => {
      const server = await coordinator();
      for (let i = 0; i < honest; i++) {
        await volunteer(server, { slots: 1, taskMs: 200, localAddress: `127.0.0.${8 + i}` });
      }
      const inputs = Array.from({ length: 20 }, (_, i) => i);
      const job = await submit(server, { map: '(x) => x * 3', inputs, redundancy });
      // One address, one fresh tab at a time: take as many copies as given, then vanish.
      const deadline = Date.now() + 15_000;
      for (let round = 0; round < 60 && Date.now() < deadline; round++) {
        const thief = await SimTab.connect(server.url, {
          slots: 64,
          answer: 'silent',
          localAddress: '127.0.0.7',
        });
        await thief.until(() => thief.received.length > 0, 1_000).catch(() => undefined);
        thief.close();
      }
      expect(await waitForJob(server, job.id, undefined, 20_000)).toMatchObject({
        status: 'completed',
        done: 20,
        failed: 0,
      });
    },
    60_000,
  );
});

describe('a device that holds copies and reports progress without answering', () => {
  it('cannot stall a job: backups go to the waiting honest tab and the job completes in bounded time', async () => {
    const server = await coordinator();
    const hoarder = { slots: 64, answer: 'silent' as const, progressEveryMs: 500 };
    // Three sockets of one device: the later ones present the id the first was issued.
    const first = await volunteer(server, hoarder);
    await volunteer(server, { ...hoarder, deviceId: first.deviceId });
    await volunteer(server, { ...hoarder, deviceId: first.deviceId });
    await volunteer(server, { slots: 2, taskMs: 5 });
    const inputs = Array.from({ length: 40 }, (_, i) => i);
    const job = await submit(server, { map: '(x) => x + 1', inputs, timeoutMs: 2_000 });
    // Well under the default runtime cap (20 x 2 s): the backups, not the cap, finish it.
    expect(await waitForJob(server, job.id, undefined, 15_000)).toMatchObject({
      status: 'completed',
      done: 40,
    });
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'])).toEqual(inputs.map((x) => x + 1));
  });
});

describe('device ids the coordinator issued (Sybil)', () => {
  it('replaces an unsigned or forged device id with an issued one, which then sticks', async () => {
    const server = await coordinator();
    const claimsA = await volunteer(server, { deviceId: 'A', slots: 0 });
    const claimsB = await volunteer(server, { deviceId: 'B', slots: 0 });
    expect(claimsA.deviceId).toMatch(/^d-[\w-]+\.[\w-]+$/);
    expect(claimsB.deviceId).toMatch(/^d-[\w-]+\.[\w-]+$/);
    expect(claimsA.deviceId).not.toBe(claimsB.deviceId);
    // A tab presenting its issued id keeps it; a tampered one gets a fresh id.
    const again = await volunteer(server, { deviceId: claimsA.deviceId, slots: 0 });
    expect(again.deviceId).toBe(claimsA.deviceId);
    const tampered = `${claimsA.deviceId.slice(0, -1)}${claimsA.deviceId.endsWith('A') ? 'B' : 'A'}`;
    const forger = await volunteer(server, { deviceId: tampered, slots: 0 });
    expect(forger.deviceId).not.toBe(tampered);
    expect(forger.deviceId).not.toBe(claimsA.deviceId);
  });

  it('past an address allowance gives each tab its own id, so banning one tab behind a school NAT leaves the others connected', async () => {
    const server = await coordinator({ config: { deviceIdsPerAddressPerHour: 2 } });
    const nat = '127.0.0.9';
    // The attacker spends the address's allowance, then opens the tab it misbehaves from.
    for (let i = 0; i < 2; i++) await volunteer(server, { slots: 0, localAddress: nat });
    const attacker = await volunteer(server, { slots: 1, localAddress: nat });
    // A student's browser opens the page for the first time.
    const student = await volunteer(server, { slots: 1, localAddress: nat });
    expect(student.deviceId).not.toBe(attacker.deviceId);
    expect((await api(server, 'POST', `/api/devices/${attacker.deviceId}/ban`)).status).toBe(204);
    await disconnected(attacker.socket, 5_000, 'the ban');
    // A round trip after the ban: a new tab from the address is let in, and the student stays.
    const another = await volunteer(server, { slots: 1, localAddress: nat });
    expect(another.socket.connected).toBe(true);
    expect(student.socket.connected).toBe(true);
  });

  it("refills an address's id allowance by the coordinator's clock", async () => {
    const clock = new FakeClock(Date.now());
    const server = await coordinator({ clock, config: { deviceIdsPerAddressPerHour: 1 } });
    const from = { slots: 0, localAddress: '127.0.0.10' };
    expect((await volunteer(server, from)).deviceId).toMatch(/^d-/);
    expect((await volunteer(server, from)).deviceId).toMatch(/^o-/);
    clock.advance(60 * 60_000);
    expect((await volunteer(server, from)).deviceId).toMatch(/^d-/);
  });

  it('with distinctAddresses, two forging devices behind one address cannot outvote honest tabs of two others', async () => {
    const server = await coordinator();
    // The Sybil pair: two sockets from 127.0.0.1 claiming devices A and B, first and greedy.
    for (const deviceId of ['A', 'B']) {
      await volunteer(server, {
        deviceId,
        slots: 8,
        answer: { output: 'FORGED' },
        localAddress: '127.0.0.1',
      });
    }
    await volunteer(server, { slots: 2, taskMs: 5, localAddress: '127.0.0.2' });
    await volunteer(server, { slots: 2, taskMs: 5, localAddress: '127.0.0.3' });
    const inputs = Array.from({ length: 10 }, (_, i) => i);
    const job = await submit(server, {
      map: '(x) => x * 2',
      inputs,
      redundancy: 2,
      distinctAddresses: true,
    });
    expect(await waitForJob(server, job.id, undefined, 20_000)).toMatchObject({
      status: 'completed',
      done: 10,
    });
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'])).toEqual(inputs.map((x) => x * 2));
  });

  it('with distinctAddresses, tabs behind one address alone never reach a quorum of 2', async () => {
    const server = await coordinator();
    const sameNat = { slots: 2, localAddress: '127.0.0.4' };
    const first = await volunteer(server, sameNat);
    const second = await volunteer(server, sameNat);
    const job = await submit(server, {
      map: '(x) => x',
      inputs: [1],
      redundancy: 2,
      distinctAddresses: true,
    });
    // One of them votes; the other, behind the same address, is given no copy.
    await SimTab.until([first, second], () => first.acked.size + second.acked.size === 1);
    expect(first.received.length + second.received.length).toBe(1);
    expect(await api(server, 'GET', `/api/jobs/${job.id}`)).toMatchObject({
      body: { status: 'running', done: 0 },
    });
    // Only a tab from another address brings the second vote.
    const other = await volunteer(server, { slots: 1, localAddress: '127.0.0.5' });
    await other.until(() => other.acked.size === 1);
    expect(await waitForJob(server, job.id, undefined, 10_000)).toMatchObject({
      status: 'completed',
    });
    expect(other.acked.size).toBe(1);
  });
});
