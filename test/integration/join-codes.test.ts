import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { GridCreated } from '../../shared/job.ts';
import { PROTOCOL_VERSION, type Ack } from '../../shared/protocol.ts';
import { useHarness } from '../support/harness.ts';
import { api, waitFor, type TestCoordinator } from '../support/start-coordinator.ts';

const { coordinator, defer } = useHarness();

let tabs = 0;

async function open(url: string, localAddress = '127.0.0.1'): Promise<Socket> {
  const options = { transports: ['websocket'], reconnection: false, forceNew: true, localAddress };
  const socket = io(url, options);
  defer(() => void socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function hello(socket: Socket, grid: string): Promise<Ack<unknown>> {
  tabs++;
  return socket.timeout(5_000).emitWithAck('volunteer:hello', {
    protocolVersion: PROTOCOL_VERSION,
    deviceId: `device-${tabs}`,
    tabId: `tab-${tabs}`,
    slots: 1,
    grid,
  }) as Promise<Ack<unknown>>;
}

/** A new connection's hello, then the connection closed. */
async function helloOnce(url: string, grid: string, localAddress?: string): Promise<Ack<unknown>> {
  const socket = await open(url, localAddress);
  try {
    return await hello(socket, grid);
  } finally {
    socket.disconnect();
  }
}

function disconnected(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    if (socket.disconnected) resolve('already');
    else socket.once('disconnect', resolve);
  });
}

async function createGrid(server: TestCoordinator): Promise<string> {
  const { body } = await api<GridCreated>(server, 'POST', '/api/grids', { name: 'Room 101' });
  return body.code;
}

/** The real code with its last character changed: the nearest miss there is. */
function nearMiss(code: string): string {
  return code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A');
}

describe('grid join codes', () => {
  it('answers every wrong code alike, in plain words, and closes a connection that keeps trying', async () => {
    const server = await coordinator();
    const code = await createGrid(server);
    const socket = await open(server.url);
    const closed = disconnected(socket);
    const answers = [
      await hello(socket, nearMiss(code)),
      await hello(socket, 'ZZZZZZ'),
      await hello(socket, 'constructor'),
    ];
    for (const answer of answers) {
      expect(answer).toEqual({
        ok: false,
        error: {
          code: 'not_found',
          message: 'No grid has this join code. Check the code or the link with your teacher.',
        },
      });
    }
    expect(await closed).toBe('io server disconnect');
  });

  it('looks up no more than a few codes for a burst on one connection', async () => {
    const server = await coordinator();
    const code = await createGrid(server);
    const socket = await open(server.url);
    const closed = disconnected(socket);
    const answers = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => hello(socket, i === 49 ? code : `WRONG${i}`)),
    );
    await closed;
    const answered = answers.flatMap((answer) =>
      answer.status === 'fulfilled' ? [answer.value] : [],
    );
    expect(
      answered.filter((answer) => !answer.ok && answer.error.code === 'not_found'),
    ).toHaveLength(3);
    // Past its attempts, even the right code is refused unread on this connection.
    expect(answered.some((answer) => answer.ok)).toBe(false);
  });

  it('refuses even the right code from an address past its window of misses, not from another, and admits it once the window has passed', async () => {
    const windowMs = 4_000;
    const server = await coordinator({
      config: { helloMissesPerAddress: 5, helloMissWindowMs: windowMs },
    });
    const code = await createGrid(server);
    const missedAt = performance.now();
    for (let i = 0; i < 5; i++) {
      expect(await helloOnce(server.url, `WRONG${i}`)).toMatchObject({
        error: { code: 'not_found' },
      });
    }
    expect(await helloOnce(server.url, code)).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', message: expect.stringMatching(/^Too many wrong join codes/) },
    });
    expect(await helloOnce(server.url, code, '127.0.0.2')).toMatchObject({ ok: true });

    await waitFor(
      async () => ((await helloOnce(server.url, code)).ok ? true : undefined),
      15_000,
      'the right code admitted after the window',
    );
    expect(performance.now() - missedAt).toBeGreaterThanOrEqual(windowMs - 100);
  });
});
