import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Ack } from '../../shared/protocol.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import { frame, openRawWebSocket } from '../support/raw-websocket.ts';
import { api, startCoordinator, waitForJob } from '../support/start-coordinator.ts';

const { defer } = useHarness();

function open(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  defer(() => void socket.disconnect());
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('socket limits', () => {
  it('caps connections per address, and frees the place when one closes', async () => {
    const server = await startCoordinator({ config: { maxConnectionsPerAddress: 2 } });
    defer(() => server.close());
    const first = await open(server.url);
    await open(server.url);
    await expect(open(server.url)).rejects.toThrow(/too many connections from .* \(limit 2/);
    first.disconnect();
    await expect(
      (async () => {
        for (let attempt = 0; attempt < 50; attempt++) {
          try {
            return await open(server.url);
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
        throw new Error('never readmitted');
      })(),
    ).resolves.toBeDefined();
  });

  it('releases the place of a connection cut before its namespace connect completed', async () => {
    const server = await startCoordinator({ config: { maxConnectionsPerAddress: 5 } });
    defer(() => server.close());
    // The namespace connect (`40`) and a frame the engine cannot parse, in one TCP write: the
    // engine closes the connection while the namespace middleware is still running.
    for (let attempt = 0; attempt < 30; attempt++) {
      const raw = await openRawWebSocket(server.url);
      expect(raw.open).toMatch(/^0\{"sid"/);
      raw.socket.write(Buffer.concat([frame('40'), frame('x')]));
      await raw.closed;
      raw.socket.destroy();
    }
    await expect(open(server.url)).resolves.toBeDefined();
  });

  it('tells a connection over the address cap why, then closes it', async () => {
    const server = await startCoordinator({ config: { maxConnectionsPerAddress: 1 } });
    defer(() => server.close());
    await open(server.url);
    const raw = await openRawWebSocket(server.url);
    raw.socket.write(frame('40'));
    await Promise.race([
      raw.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), 5_000)),
    ]);
    raw.socket.destroy();
    expect(raw.received()).toMatch(/44\{"message":"\[realtime\]: too many connections from /);
  });

  it('closes a connection that never says hello, and keeps the tab that did', async () => {
    const server = await startCoordinator({ config: { helloTimeoutMs: 300 } });
    defer(() => server.close());
    const tab = await SimTab.connect(server.url, { slots: 1 });
    defer(() => tab.close());
    const silent = await open(server.url);
    const reason = await new Promise<string>((resolve) => silent.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
    // The tab connected first, so its own deadline has passed too.
    expect(tab.socket.connected).toBe(true);
  });

  it('answers events past the rate with rate_limited and keeps serving well-behaved tabs', async () => {
    const server = await startCoordinator({ config: { eventsPerSecond: 20, eventBurst: 10 } });
    defer(() => server.close());
    const flood = await open(server.url);
    const replies = (await Promise.all(
      Array.from({ length: 40 }, () =>
        flood.timeout(5_000).emitWithAck('volunteer:capacity', { slots: 1 }),
      ),
    )) as Array<Ack<unknown>>;
    const limited = replies.filter((reply) => !reply.ok && reply.error.code === 'rate_limited');
    expect(limited.length).toBeGreaterThanOrEqual(25);
    expect(limited[0]).toMatchObject({ error: { message: expect.stringMatching(/events\/s/) } });

    const sim = await SimTab.connect(server.url, { slots: 2 });
    defer(() => sim.close());
    const { body } = await api<{ id: string }>(server, 'POST', '/api/jobs', {
      map: '(x) => x',
      inputs: [1, 2, 3],
    });
    expect(await waitForJob(server, body.id)).toMatchObject({ status: 'completed' });
    expect(
      await flood.timeout(5_000).emitWithAck('volunteer:hello', {
        protocolVersion: PROTOCOL_VERSION,
        deviceId: 'late',
        tabId: 'late',
        slots: 0,
      }),
    ).toBeDefined();
  });
});
