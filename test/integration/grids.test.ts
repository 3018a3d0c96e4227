import { describe, expect, it } from 'vitest';
import { GridPauseResult, type GridCreated, type GridSummary } from '../../shared/job.ts';
import { useHarness } from '../support/harness.ts';
import { SimTab } from '../support/sim-tab.ts';
import {
  api,
  startCoordinator,
  waitFor,
  waitForJob,
  type TestCoordinator,
} from '../support/start-coordinator.ts';

const { coordinator, volunteer, submit } = useHarness();

async function createGrid(server: TestCoordinator, name: string): Promise<GridCreated> {
  const { status, body } = await api<GridCreated>(server, 'POST', '/api/grids', { name });
  expect(status).toBe(201);
  return body;
}

describe('grids', () => {
  it('creates a grid with a join code and link, lists it and shows its roster', async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'Room 101');
    expect(grid.code).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    expect(grid.joinUrl).toBe(`${server.url}/?grid=${grid.code}`);
    await volunteer(server, { grid: grid.code, slots: 3 });
    await volunteer(server, { slots: 1 }); // public: not on the roster
    const { body } = await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`);
    expect(body).toMatchObject({ code: grid.code, name: 'Room 101', paused: false });
    expect(body.devices).toHaveLength(1);
    expect(body.devices[0]).toMatchObject({ cores: 3, state: 'idle', tasksDone: 0 });
    const list = (await api<GridSummary[]>(server, 'GET', '/api/grids')).body;
    expect(list.map((entry) => entry.code)).toEqual([grid.code]);
  });

  it('refuses bad grid input: no name, unknown codes, jobs and tabs for grids that do not exist', async () => {
    const server = await coordinator();
    expect((await api(server, 'POST', '/api/grids', {})).body).toMatchObject({
      error: { code: 'invalid_input', field: 'name' },
    });
    expect((await api(server, 'GET', '/api/grids/NOSUCH')).status).toBe(404);
    const job = await api(server, 'POST', '/api/jobs', {
      map: '(x) => x',
      inputs: [1],
      grid: 'NOSUCH',
    });
    expect(job.status).toBe(400);
    expect(job.body).toMatchObject({ error: { field: 'grid' } });
    await expect(SimTab.connect(server.url, { grid: 'NOSUCH' })).rejects.toThrow(
      /No grid has this join code/,
    );
    expect(
      (await api({ url: server.url, token: 'nope' }, 'POST', '/api/grids', { name: 'x' })).status,
    ).toBe(401);
  });

  it('keeps grid jobs on the grid and public jobs off it', async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'lab');
    const student = await volunteer(server, { grid: grid.code, slots: 2 });
    const passerby = await volunteer(server, { slots: 2 });
    const classJob = await submit(server, {
      map: '(x) => x',
      inputs: [1, 2, 3, 4, 5, 6],
      grid: grid.code,
    });
    const publicJob = await submit(server, { map: '(x) => -x', inputs: [1, 2, 3, 4] });
    await waitForJob(server, classJob.id);
    await waitForJob(server, publicJob.id);
    expect(new Set(student.received.map((task) => task.jobId))).toEqual(new Set([classJob.id]));
    expect(new Set(passerby.received.map((task) => task.jobId))).toEqual(new Set([publicJob.id]));
  });

  it('pauses one tab: it is told at once, hands back what it holds, and gets nothing until resumed', async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'lab');
    const paused = await volunteer(server, { grid: grid.code, slots: 2, answer: 'silent' });
    const job = await submit(server, {
      map: '(x) => x * 3',
      inputs: [1, 2, 3, 4, 5, 6],
      grid: grid.code,
    });
    await paused.until(() => paused.received.length > 0);
    const held = paused.received.length;

    const res = await api<GridSummary>(server, 'POST', `/api/grids/${grid.code}/pause`, {
      volunteerId: paused.options.tabId,
    });
    expect(res.status).toBe(200);
    await paused.until(() => paused.controls.at(-1)?.paused === true, 2_000, 'the pause');
    expect(paused.released).toHaveLength(held);
    const roster = (await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body;
    expect(roster.devices[0]).toMatchObject({ state: 'paused', pausedByAdmin: true, holding: 0 });

    // Another tab finishes the job; the paused one receives nothing more.
    await volunteer(server, { grid: grid.code, slots: 2 });
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed', done: 6 });
    expect(paused.received).toHaveLength(held);

    await api(server, 'POST', `/api/grids/${grid.code}/resume`, {
      volunteerId: paused.options.tabId,
    });
    await paused.until(() => paused.controls.at(-1)?.paused === false, 2_000, 'the resume');
    const next = await submit(server, {
      map: '(x) => x',
      inputs: [1, 2, 3, 4, 5, 6, 7, 8],
      grid: grid.code,
    });
    await paused.until(
      () => paused.received.some((task) => task.jobId === next.id),
      5_000,
      'work after resume',
    );
  });

  it("ranks a grid's tabs by the CPU time of their committed results", async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'race');
    await volunteer(server, { grid: grid.code, slots: 1, tabId: 'slowcoach', taskMs: 30 });
    await volunteer(server, { grid: grid.code, slots: 3, tabId: 'keen', taskMs: 30 });
    const job = await submit(server, {
      map: '(x) => x',
      inputs: Array.from({ length: 40 }, (_, i) => i),
      grid: grid.code,
    });
    await waitForJob(server, job.id);
    const { devices } = (await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body;
    expect(devices.map((device) => device.volunteerId)).toEqual(['keen', 'slowcoach']);
    const [first, second] = devices;
    expect(first?.cpuSeconds).toBeGreaterThan(second?.cpuSeconds ?? Infinity);
    expect((first?.tasksDone ?? 0) + (second?.tasksDone ?? 0)).toBe(40);
    // The sim reports its delay as each task's run time.
    expect(first?.cpuSeconds).toBeCloseTo((first?.tasksDone ?? 0) * 0.03, 5);
  });

  it('pauses only tabs of the grid named in the path', async () => {
    const server = await coordinator();
    const mine = await createGrid(server, 'mine');
    const theirs = await createGrid(server, 'theirs');
    const other = await volunteer(server, { grid: theirs.code, slots: 1, tabId: 'their-kid' });
    const passerby = await volunteer(server, { slots: 1, tabId: 'public-tab' });
    for (const volunteerId of ['their-kid', 'public-tab', 'nobody']) {
      const res = await api(server, 'POST', `/api/grids/${mine.code}/pause`, { volunteerId });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found', field: 'volunteerId' } });
    }
    expect(other.controls).toEqual([]);
    expect(passerby.controls).toEqual([]);
  });

  it('pauses a whole grid, and a tab that reconnects stays paused', async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'lab');
    await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-1' });
    await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-2' });
    const res = await api(server, 'POST', `/api/grids/${grid.code}/pause`, {});
    // In the shared shape the admin page reads.
    expect(GridPauseResult.parse(res.body)).toMatchObject({ paused: true, changed: 2 });
    const back = await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-3' });
    await back.until(() => back.controls.at(-1)?.paused === true, 2_000, 'the pause on connect');
    const job = await submit(server, { map: '(x) => x', inputs: [1, 2], grid: grid.code });
    const roster = (await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body;
    expect(roster.devices.map((device) => device.state)).toEqual(['paused', 'paused', 'paused']);
    expect((await api(server, 'GET', `/api/jobs/${job.id}`)).body).toMatchObject({
      status: 'queued',
    });
    await api(server, 'POST', `/api/grids/${grid.code}/resume`, {});
    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed' });
  });

  it("says in each welcome whether the grid's admin has the tab paused, so a pause lifted while it was away ends", async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'lab');
    // A tab id comes back as itself once the coordinator saw its last connection close.
    const gone = () =>
      waitFor(
        async () => {
          const { body } = await api<Array<{ volunteerId: string }>>(server, 'GET', '/api/workers');
          return body.some((tab) => tab.volunteerId === 'kid-1') ? undefined : true;
        },
        5_000,
        'the tab to be gone',
      );
    const first = await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-1' });
    expect(first.welcome?.pausedBy).toBeUndefined();
    await api(server, 'POST', `/api/grids/${grid.code}/pause`, {});
    first.close();
    await gone();
    const paused = await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-1' });
    expect(paused.welcome?.pausedBy).toBe('grid');
    paused.close();
    await gone();
    // Resumed while the tab was away: its next welcome says no pause holds.
    await api(server, 'POST', `/api/grids/${grid.code}/resume`, {});
    const back = await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-1' });
    expect(back.welcome?.pausedBy).toBeUndefined();
    await api(server, 'POST', `/api/grids/${grid.code}/pause`, { volunteerId: 'kid-1' });
    back.close();
    await gone();
    const alone = await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-1' });
    expect(alone.welcome?.pausedBy).toBe('tab');
    // Paused alone, then away while the whole grid is paused and resumed: resumed with it.
    alone.close();
    await gone();
    await api(server, 'POST', `/api/grids/${grid.code}/pause`, {});
    await api(server, 'POST', `/api/grids/${grid.code}/resume`, {});
    const last = await volunteer(server, { grid: grid.code, slots: 1, tabId: 'kid-1' });
    expect(last.welcome?.pausedBy).toBeUndefined();
  });

  it('keeps a paused tab paused when it connects again before its old connection is seen closed', async () => {
    const server = await coordinator();
    const grid = await createGrid(server, 'lab');
    const old = await volunteer(server, {
      grid: grid.code,
      slots: 1,
      tabId: 'kid-4',
      answer: 'silent',
    });
    await api(server, 'POST', `/api/grids/${grid.code}/pause`, { volunteerId: 'kid-4' });
    await old.until(() => old.controls.at(-1)?.paused === true, 2_000, 'the pause');
    // The same tab id again while the first connection is still open (a network blip).
    const again = await volunteer(server, {
      grid: grid.code,
      slots: 1,
      tabId: 'kid-4',
      answer: 'silent',
    });
    expect(again.welcome?.volunteerId).toMatch(/^kid-4~/);
    expect(again.welcome?.pausedBy).toBe('tab');
    const roster = (await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body;
    expect(
      roster.devices.find((device) => device.volunteerId === again.welcome?.volunteerId),
    ).toMatchObject({ state: 'paused' });
  });

  it('keeps a paused grid paused across a coordinator restart', async () => {
    const first = await startCoordinator();
    const grid = (await api<GridCreated>(first, 'POST', '/api/grids', { name: 'lab' })).body;
    await api(first, 'POST', `/api/grids/${grid.code}/pause`, {});
    await first.stop();
    const second = await coordinator({ dataDir: first.dataDir });
    const kid = await volunteer(second, { grid: grid.code, slots: 1 });
    await kid.until(() => kid.controls.at(-1)?.paused === true, 2_000, 'the pause after a restart');
    expect((await api<GridSummary>(second, 'GET', `/api/grids/${grid.code}`)).body.paused).toBe(
      true,
    );
  });

  it('keeps one paused tab paused across a coordinator restart, until it is resumed', async () => {
    const first = await startCoordinator();
    const grid = (await api<GridCreated>(first, 'POST', '/api/grids', { name: 'lab' })).body;
    const kid = await SimTab.connect(first.url, { grid: grid.code, tabId: 'kid-7' });
    const other = await SimTab.connect(first.url, { grid: grid.code, tabId: 'kid-8' });
    const paused = await api(first, 'POST', `/api/grids/${grid.code}/pause`, {
      volunteerId: 'kid-7',
    });
    expect(paused.status).toBe(200);
    kid.close();
    other.close();
    await first.stop();

    // The same tabs come back (a reloaded tab keeps its id) to a restarted coordinator.
    const second = await coordinator({ dataDir: first.dataDir });
    const back = await volunteer(second, { grid: grid.code, tabId: 'kid-7', slots: 1 });
    const free = await volunteer(second, { grid: grid.code, tabId: 'kid-8', slots: 1 });
    await back.until(
      () => back.controls.at(-1)?.paused === true,
      2_000,
      'the pause after a restart',
    );
    const job = await submit(second, { map: '(x) => x', inputs: [1, 2, 3], grid: grid.code });
    expect(await waitForJob(second, job.id)).toMatchObject({ status: 'completed' });
    expect(back.received).toEqual([]);
    expect(free.received).toHaveLength(3);

    await api(second, 'POST', `/api/grids/${grid.code}/resume`, { volunteerId: 'kid-7' });
    await back.until(() => back.controls.at(-1)?.paused === false, 2_000, 'the resume');
    expect(await second.store.pausedTabs()).toEqual([]);
  });
});
