/**
 * @module `node --import tsx bench/hostile-checkpoint.ts [--after-hello]`: how long a coordinator
 * (a child process on 127.0.0.1) takes to refuse a 15 MB `task:checkpoint` whose state is
 * 5,000,000 `{}`, sent as a raw frame before hello (or after it), and what it costs: when the
 * connection closed, when `/healthz` answered again, and the process's RSS before and after.
 */
import { startChildCoordinator } from '../test/support/child-coordinator.ts';
import { manyObjectsText } from '../test/support/hostile-json.ts';
import { RawSocket } from '../test/support/raw-socket.ts';

const AFTER_HELLO = process.argv.includes('--after-hello');
const OBJECTS = 5_000_000;

async function rssMb(server: { url: string; token: string }): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const match = /^browsergrid_process_resident_memory_bytes (\d+)/m.exec(await res.text());
  return Number(match?.[1]) / 2 ** 20;
}

/** Polls /healthz until it answers; resolves with when it did. */
async function healthyAt(url: string): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return performance.now();
    } catch {
      // Not answering yet (timed out): ask again.
    }
  }
}

const server = await startChildCoordinator();
try {
  const rssBefore = await rssMb(server);
  const socket = await RawSocket.connect(server.url);
  if (AFTER_HELLO) {
    await socket.call(
      'volunteer:hello',
      JSON.stringify({ protocolVersion: 1, deviceId: 'bench', tabId: 'bench', slots: 0 }),
    );
  }
  const frame = `42["task:checkpoint",{"leaseId":"l","jobId":"j","taskIndex":0,"checkpoint":{"item":0,"state":${manyObjectsText(OBJECTS)},"done":[]}}]`;
  let closedAt: number | undefined;
  void socket.closed.then(() => (closedAt = performance.now()));
  // Timed from when the whole frame is in the kernel: what follows is the coordinator's work.
  await socket.sendFlushed(frame);
  const sent = performance.now();
  const healthy = await healthyAt(server.url);
  const rssAfter = await rssMb(server);
  await Promise.race([socket.closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  socket.close();
  process.stdout.write(
    `a ${(frame.length / 2 ** 20).toFixed(1)} MB task:checkpoint of ${OBJECTS} {} ${AFTER_HELLO ? 'after' : 'before'} hello: ` +
      `connection ${closedAt === undefined ? 'not closed' : `closed after ${(closedAt - sent).toFixed(0)} ms`}, ` +
      `/healthz answered after ${(healthy - sent).toFixed(0)} ms, ` +
      `RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB; coordinator ${server.exit() ?? 'still up'}\n`,
  );
} finally {
  await server.stop();
}
