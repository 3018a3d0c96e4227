/**
 * The protocol has no binary. A registered tab that declared a binary event with 10 attachments
 * and sent 9 had socket.io-parser keep every buffer until the 10th, which never came: binary
 * frames are not events, so the rate limit never saw them, and the frame guard only bounded each
 * frame's size. 4 tabs held 540 MiB.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol.ts';
import { startChildCoordinator, type ChildCoordinator } from '../support/child-coordinator.ts';
import { RawSocket } from '../support/raw-socket.ts';

let server: ChildCoordinator;
beforeAll(async () => {
  server = await startChildCoordinator();
}, 60_000);
afterAll(async () => {
  await server.stop();
}, 30_000);

async function rssMb(): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const text = await res.text();
  const m = /^browsergrid_process_resident_memory_bytes (\d+)/m.exec(text);
  return Number(m?.[1]) / 2 ** 20;
}

async function registered(tabId: string): Promise<RawSocket> {
  const socket = await RawSocket.connect(server.url);
  const hello = JSON.stringify({
    protocolVersion: PROTOCOL_VERSION,
    deviceId: 'bin',
    tabId,
    slots: 0,
  });
  expect(await socket.call('volunteer:hello', hello)).toMatchObject({ ok: true });
  return socket;
}

it('a tab cannot make the coordinator hold buffers of a binary event that never completes', async () => {
  const before = await rssMb();
  const sockets: RawSocket[] = [];
  const chunk = Buffer.alloc(15 * 2 ** 20, 7); // under the 16 MiB message limit
  try {
    for (let s = 0; s < 4; s++) {
      const socket = await registered(`att-${s}`);
      sockets.push(socket);
      socket.send('4510-["task:progress",{"_placeholder":true,"num":0}]');
      for (let i = 0; i < 9 && socket.isOpen; i++)
        await socket.sendFlushed(chunk).catch(() => undefined);
    }
    await Promise.all(sockets.map((s) => s.closed));
    // 4 tabs x 9 x 15 MiB = 540 MiB would be held while the connections stay open.
    expect((await rssMb()) - before).toBeLessThan(200);
  } finally {
    for (const s of sockets) s.close();
  }
}, 60_000);

it('a binary frame or a binary packet header closes the connection, in any namespace', async () => {
  const cases: Array<string | Buffer> = [
    Buffer.from([1, 2, 3]),
    '451-["task:progress",{"_placeholder":true,"num":0}]',
    '451-/admin,["jobs:list",{"_placeholder":true,"num":0}]',
    '461-1[{"_placeholder":true,"num":0}]',
    '461-/admin,1[{"_placeholder":true,"num":0}]',
  ];
  for (const [index, frame] of cases.entries()) {
    const socket = await registered(`bin-${index}`);
    socket.send(frame);
    await socket.closed;
  }
}, 30_000);
