/** @module The admin page's Grids section in Chromium: create, join code and QR, live roster, pause and resume, the job form's grid. */
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import type { GridCreated, GridSummary, JobSummary, RosterEntry } from '../../shared/job.ts';
import type { TaskTimelinePage } from '../../shared/timeline.ts';
import { useE2E } from '../support/e2e.ts';
import { api, waitFor, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const e2e = useE2E();
const { coordinator } = e2e;

const SLOW = '(x) => { const end = Date.now() + 300; while (Date.now() < end) {} return x }';

async function adminPage(server: TestCoordinator): Promise<Page> {
  const admin = await e2e.browser().newTab(`${server.url}/admin`);
  e2e.defer(() => admin.browserContext().close());
  await admin.type('#token', server.token);
  await admin.click('#token-form button');
  await admin.waitForSelector('#grids:not([hidden])');
  return admin;
}

async function device(
  server: TestCoordinator,
  code: string,
  volunteerId: string,
): Promise<RosterEntry | undefined> {
  const { body } = await api<GridSummary>(server, 'GET', `/api/grids/${code}`);
  return body.devices.find((entry) => entry.volunteerId === volunteerId);
}

describe('grids on the admin page', () => {
  it('creates a grid with a code and QR, shows its tabs live, and pauses and resumes one', async () => {
    const server = await coordinator();
    const admin = await adminPage(server);

    await admin.type('#grid-form input[name="name"]', 'Room 101');
    await admin.click('#grid-form button');
    await admin.waitForSelector('#grids .grid-detail:not([hidden]) .grid-qr:not([hidden])');
    const code = await admin.$eval('#grids .grid-code', (el) => el.textContent ?? '');
    const { body: list } = await api<GridSummary[]>(server, 'GET', '/api/grids');
    expect(list.map(({ code, name }) => ({ code, name }))).toEqual([{ code, name: 'Room 101' }]);
    expect(await admin.$eval('#grids .grid-link', (el) => (el as HTMLAnchorElement).href)).toBe(
      list[0]?.joinUrl,
    );
    expect(await admin.$eval('#grids .grid-qr', (el) => (el as HTMLImageElement).src)).toMatch(
      /^data:image\/png;base64,/,
    );
    await admin.waitForSelector(`#grids .grid-list tr.selected[data-code="${code}"]`);

    const tabs = [
      await e2e.tab(server, `autostart=1&cores=1&grid=${code}`),
      await e2e.tab(server, `autostart=1&cores=1&grid=${code}`),
    ];
    const [pausedId, otherId] = await Promise.all(
      tabs.map((tab) => tab.evaluate(() => sessionStorage.getItem('browsergrid.tabId') ?? '')),
    );
    const [pausedTab] = tabs;
    if (!pausedId || !otherId || !pausedTab) throw new Error('two tabs expected');
    await admin.waitForFunction(
      () => document.querySelectorAll('#grids .roster tbody tr').length === 2,
      { timeout: 10_000 },
    );
    await admin.waitForSelector(`#grids .grid-list tr[data-code="${code}"][data-live="2"]`);

    const job = await e2e.submit(server, {
      name: 'slow',
      map: SLOW,
      inputs: { range: { start: 0, end: 20 } },
      grid: code,
    });
    const row = `#grids .roster tr[data-volunteer-id="${pausedId}"]`;
    await admin.waitForSelector(`${row}[data-state="working"]`, { timeout: 10_000 });
    // Marks the button: a row rebuilt by a refresh would lose the mark.
    await admin.$eval(`${row} button.toggle`, (el) => ((el as HTMLElement).dataset['mark'] = '1'));
    expect(await admin.$eval(`${row} button.toggle`, (el) => el.textContent)).toBe('Pause');

    await admin.click(`${row} button.toggle`);
    await pausedTab.waitForSelector('#connection[data-paused="true"]', { timeout: 2_000 });
    const pausedSeenAt = Date.now();
    await admin.waitForSelector(`${row}[data-state="paused"]`, { timeout: 2_000 });
    const handedBack = await waitFor(
      async () => {
        const entry = await device(server, code, pausedId);
        return entry?.state === 'paused' && entry.holding === 0 ? entry : undefined;
      },
      2_000,
      'the paused tab to hold nothing',
    );
    expect(handedBack.pausedByAdmin).toBe(true);
    expect(await admin.$eval(`${row} button.toggle`, (el) => el.textContent)).toBe('Resume');

    expect(await waitForJob(server, job.id)).toMatchObject({ status: 'completed', done: 20 });
    expect((await device(server, code, pausedId))?.tasksDone).toBe(handedBack.tasksDone);
    const { body: timeline } = await api<TaskTimelinePage>(
      server,
      'GET',
      `/api/jobs/${job.id}/tasks?from=0&limit=100`,
    );
    const copies = timeline.timeline.flatMap((task) => task.copies);
    const wonAfter = copies.filter((copy) => copy.won && copy.dispatchedAt > pausedSeenAt);
    expect(wonAfter.length).toBeGreaterThan(0);
    expect(new Set(wonAfter.map((copy) => copy.volunteerId))).toEqual(new Set([otherId]));
    expect(
      copies.filter((copy) => copy.volunteerId === pausedId && copy.dispatchedAt > pausedSeenAt),
    ).toEqual([]);

    await admin.click(`${row} button.toggle`);
    await admin.waitForSelector(`${row}:not([data-state="paused"])`, { timeout: 3_000 });
    await pausedTab.waitForSelector('#connection[data-paused="false"]', { timeout: 2_000 });
    expect(await admin.$eval(`${row} button.toggle`, (el) => el.textContent)).toBe('Pause');
    expect(
      await admin.$eval(`${row} button.toggle`, (el) => (el as HTMLElement).dataset['mark']),
    ).toBe('1');
  });

  it('sends the grid chosen in the job form, and says why a grid cannot be created', async () => {
    const server = await coordinator();
    const { body: grid } = await api<GridCreated>(server, 'POST', '/api/grids', { name: 'Lab 2' });
    const admin = await adminPage(server);

    await admin.type('#grid-form input[name="name"]', '   ');
    await admin.click('#grid-form button');
    await admin.waitForSelector('#grids .grid-create-error:not([hidden])');
    expect((await api<GridSummary[]>(server, 'GET', '/api/grids')).body).toHaveLength(1);

    await admin.waitForSelector(`#job-grid option[value="${grid.code}"]`);
    await admin.select('#job-grid', grid.code);
    await admin.$eval(
      '#job-form input[name="name"]',
      (el) => ((el as HTMLInputElement).value = 'for the lab'),
    );
    await admin.$eval(
      '#job-form textarea[name="inputs"]',
      (el) => ((el as HTMLTextAreaElement).value = '[1, 2, 3]'),
    );
    await admin.click('#job-form button[type="submit"]');
    const jobId = await (
      await admin.waitForSelector('#jobs tr[data-job-id]', { timeout: 10_000 })
    )?.evaluate((el) => (el as HTMLElement).dataset['jobId'] ?? '');
    expect(jobId).toBeTruthy();
    const { body } = await api<JobSummary>(server, 'GET', `/api/jobs/${jobId}`);
    expect(body).toMatchObject({ name: 'for the lab', grid: grid.code });
    expect(await admin.$eval('#jobs tr', (el) => el.textContent)).toContain(`grid ${grid.code}`);
  });
});
