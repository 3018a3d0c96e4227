/**
 * What a tab that joins a grid learns and tells: the grid's name in the welcome, its nickname on
 * the grid's roster (hostile ones refused at the hello, naming the field), and who paused it.
 */
import { io, type Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { GridCreated, GridSummary } from '../../shared/job.ts';
import {
  NICKNAME_MAX_CHARS,
  PROTOCOL_VERSION,
  type Ack,
  type Control,
  type Welcome,
} from '../../shared/protocol.ts';
import { nest, ownObject } from '../support/hostile-json.ts';
import { useHarness } from '../support/harness.ts';
import { api, waitFor, type TestCoordinator } from '../support/start-coordinator.ts';

const { coordinator, defer } = useHarness();

let tabs = 0;

interface Tab {
  socket: Socket;
  controls: Control[];
}

async function open(url: string): Promise<Tab> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  defer(() => void socket.disconnect());
  const controls: Control[] = [];
  socket.on('volunteer:control', (control: Control) => controls.push(control));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, controls };
}

function hello(tab: Tab, fields: Record<string, unknown>): Promise<Ack<Welcome>> {
  tabs++;
  return tab.socket.timeout(5_000).emitWithAck('volunteer:hello', {
    protocolVersion: PROTOCOL_VERSION,
    deviceId: `device-${tabs}`,
    tabId: `tab-${tabs}`,
    slots: 1,
    ...fields,
  }) as Promise<Ack<Welcome>>;
}

async function createGrid(server: TestCoordinator, name: string): Promise<string> {
  const { body } = await api<GridCreated>(server, 'POST', '/api/grids', { name });
  return body.code;
}

async function roster(server: TestCoordinator, code: string): Promise<GridSummary['devices']> {
  return (await api<GridSummary>(server, 'GET', `/api/grids/${code}`)).body.devices;
}

describe("a grid tab's identity", () => {
  it("welcomes a tab that joined with a code with its grid's name, and none without one", async () => {
    const server = await coordinator();
    const code = await createGrid(server, 'Year 9 Physics');
    const joined = await hello(await open(server.url), { grid: code });
    expect(joined).toMatchObject({ ok: true, data: { gridName: 'Year 9 Physics' } });
    const publicTab = await hello(await open(server.url), {});
    expect(publicTab.ok && publicTab.data).not.toHaveProperty('gridName');
  });

  it("shows a tab's nickname on its grid's roster, trimmed, and keeps it once the tab is gone", async () => {
    const server = await coordinator();
    const code = await createGrid(server, 'Room 101');
    const tab = await open(server.url);
    expect((await hello(tab, { grid: code, nickname: '  Ada ✨ 👩‍🔬  ' })).ok).toBe(true);
    expect(await roster(server, code)).toMatchObject([{ nickname: 'Ada ✨ 👩‍🔬', state: 'idle' }]);
    tab.socket.disconnect();
    await waitFor(
      async () => ((await roster(server, code))[0]?.state === 'gone' ? true : undefined),
      5_000,
      'the tab to be gone',
    );
    expect(await roster(server, code)).toMatchObject([{ nickname: 'Ada ✨ 👩‍🔬', state: 'gone' }]);
  });

  it('refuses a hostile nickname at the hello, naming the field, and registers nothing', async () => {
    const server = await coordinator();
    const code = await createGrid(server, 'Room 101');
    const hostile: unknown[] = [
      'x'.repeat(NICKNAME_MAX_CHARS + 1),
      'x'.repeat(10_000),
      '',
      '   ',
      'Ada\u0000',
      'Ada\nTeacher: all tabs banned',
      'Ada\u0007',
      'Ada\u2028',
      'Ada\u202Eevil',
      'Ada\u2066x',
      'Ada\uFEFF',
      'Ada\uD800',
      42,
      null,
      true,
      ['Ada'],
      { toString: 'Ada' },
      ownObject([['__proto__', { polluted: true }]]),
      ownObject([['constructor', 'Ada']]),
      nest(50, 'object', 'Ada'),
      nest(50, 'array', 'Ada'),
    ];
    // A connection is closed after a few malformed messages (MAX_REFUSED_MESSAGES): one each.
    let tab = await open(server.url);
    for (const nickname of hostile) {
      tab.socket.disconnect();
      tab = await open(server.url);
      const answer = await hello(tab, { grid: code, nickname });
      expect(answer, JSON.stringify(nickname)?.slice(0, 80)).toMatchObject({
        ok: false,
        error: { code: 'invalid_input', field: 'nickname' },
      });
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(await roster(server, code)).toEqual([]);
    // The connection is unharmed: a plain nickname then registers on it.
    expect((await hello(tab, { grid: code, nickname: 'Ada' })).ok).toBe(true);
    expect(await roster(server, code)).toMatchObject([{ nickname: 'Ada' }]);
  });

  it('tells a paused tab whether its whole grid or only it was paused', async () => {
    const server = await coordinator();
    const code = await createGrid(server, 'Room 101');
    const tab = await open(server.url);
    const welcome = await hello(tab, { grid: code });
    if (!welcome.ok) throw new Error('welcome expected');
    const { volunteerId } = welcome.data;
    const next = async (count: number): Promise<Control | undefined> =>
      waitFor(
        () => (tab.controls.length >= count ? tab.controls[count - 1] : undefined),
        5_000,
        `control message ${count}`,
      );
    await api(server, 'POST', `/api/grids/${code}/pause`, { volunteerId });
    expect(await next(1)).toMatchObject({ paused: true, pausedBy: 'tab' });
    await api(server, 'POST', `/api/grids/${code}/resume`, { volunteerId });
    expect(await next(2)).toEqual({ paused: false });
    await api(server, 'POST', `/api/grids/${code}/pause`, {});
    expect(await next(3)).toMatchObject({ paused: true, pausedBy: 'grid' });

    // A tab that connects to a paused grid is told so at once.
    const late = await open(server.url);
    expect((await hello(late, { grid: code })).ok).toBe(true);
    await waitFor(() => late.controls[0], 5_000, 'the pause on connect');
    expect(late.controls[0]).toMatchObject({ paused: true, pausedBy: 'grid' });
  });
});
