/**
 * @module The admin page as a teacher meets it, in Chromium: it fits a phone and a projector,
 * failed jobs stand out with their errors, jobs tell their times and page, the timeline pages
 * through every task, tabs have readable names, and one can log out. Set
 * `BROWSERGRID_SCREENSHOTS=<dir>` to save the page at both widths.
 */
import path from 'node:path';
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import type { GridCreated } from '../../shared/job.ts';
import { useE2E } from '../support/e2e.ts';
import { SimTab, type SimTabOptions } from '../support/sim-tab.ts';
import { api, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const e2e = useE2E();
const { coordinator } = e2e;

const WIDTHS = [390, 1280] as const;

async function openAdmin(server: TestCoordinator, width = 1280): Promise<Page> {
  const admin = await e2e.browser().newTab('about:blank');
  e2e.defer(() => admin.browserContext().close());
  await admin.setViewport({ width, height: 900 });
  await admin.goto(`${server.url}/admin`);
  return admin;
}

async function logIn(admin: Page, server: TestCoordinator): Promise<void> {
  await admin.type('#token', server.token);
  await admin.click('#token-form button');
  await admin.waitForSelector('#jobs-card:not([hidden])');
}

async function simTab(server: TestCoordinator, options: SimTabOptions = {}): Promise<SimTab> {
  const tab = await SimTab.connect(server.url, options);
  e2e.defer(() => tab.close());
  return tab;
}

/** A completed job and a failed one (items 3 and 7 throw), both finished. */
async function completedAndFailed(server: TestCoordinator): Promise<{ ok: string; bad: string }> {
  await simTab(server, { slots: 2 });
  const ok = await e2e.submit(server, {
    name: 'squares',
    map: '(x) => x * x',
    inputs: { range: { start: 0, end: 20 } },
  });
  await waitForJob(server, ok.id, ['completed']);
  const bad = await e2e.submit(server, {
    map: `(x) => { if (x === 3 || x === 7) throw new Error('cannot take ' + x); return x; }`,
    inputs: { range: { start: 0, end: 10 } },
    maxAttempts: 1,
  });
  await waitForJob(server, bad.id, ['failed']);
  return { ok: ok.id, bad: bad.id };
}

/** Whatever is wider than the window, and every visible control not wholly inside it. */
function overflow(admin: Page): Promise<{ scrollWidth: number; width: number; outside: string[] }> {
  return admin.evaluate(() => {
    const width = window.innerWidth;
    const outside: string[] = [];
    for (const node of Array.from(
      document.querySelectorAll<HTMLElement>('button, input, select, textarea, a, progress'),
    )) {
      const rect = node.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      if (rect.left < 0 || rect.right > width + 0.5) {
        outside.push(
          `${node.tagName.toLowerCase()}.${node.className} "${(node.textContent ?? '').trim().slice(0, 30)}" ${Math.round(rect.left)}–${Math.round(rect.right)}`,
        );
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, outside };
  });
}

describe('admin page in Chromium: the front door', () => {
  it('fits a 390 px phone and a 1280 px screen, logged out and in: nothing wider than the screen, every control inside it', async () => {
    const server = await coordinator();
    const { body: grid } = await api<GridCreated>(server, 'POST', '/api/grids', {
      name: 'Room 101',
    });
    await e2e.tab(server, `autostart=1&cores=1&grid=${grid.code}`);
    await completedAndFailed(server);
    const shots = process.env['BROWSERGRID_SCREENSHOTS'];

    // One page, resized: the login first, then the page logged in, at each width.
    const admin = await openAdmin(server, WIDTHS[0]);
    for (const width of WIDTHS) {
      await admin.setViewport({ width, height: 900 });
      await admin.evaluate(() => localStorage.clear());
      await admin.reload();
      await admin.waitForSelector('#login:not([hidden]) #token-form button');
      expect(await overflow(admin), `login at ${width} px`).toEqual({
        scrollWidth: width,
        width,
        outside: [],
      });
      await logIn(admin, server);
      await admin.waitForSelector(`#grids .grid-list tr[data-code="${grid.code}"] button.show`);
      await admin.click(`#grids .grid-list tr[data-code="${grid.code}"] button.show`);
      await admin.waitForSelector('#grids .roster tbody tr');
      await admin.waitForSelector('#jobs .job-errors li.job-error');
      await admin.waitForSelector('#devices tbody tr');
      expect(await overflow(admin), `logged in at ${width} px`).toEqual({
        scrollWidth: width,
        width,
        outside: [],
      });
      await admin.click('#jobs tr.job[data-status="completed"] button.timeline');
      await admin.waitForSelector('#timeline:not([hidden]) .timeline-bar');
      expect(await overflow(admin), `timeline at ${width} px`).toEqual({
        scrollWidth: width,
        width,
        outside: [],
      });
      await admin.click('#timeline button.close');
      if (shots) {
        await admin.waitForSelector('#throughput canvas');
        // A phone shows the jobs as one sees them scrolled there; a screen shows the whole page.
        await admin.evaluate((narrow) => {
          if (narrow) document.getElementById('jobs-card')?.scrollIntoView();
          else window.scrollTo(0, 0);
        }, width < 400);
        await admin.screenshot({
          path: path.join(shots, `admin-${width}.png`) as `${string}.png`,
          fullPage: width > 400,
        });
      }
    }
  });

  it("marks a failed job, lists its first errors beneath it, and tells each job's created time and duration", async () => {
    const server = await coordinator();
    const { ok, bad } = await completedAndFailed(server);
    const admin = await openAdmin(server);
    await logIn(admin, server);

    const failedRow = `#jobs tr[data-job-id="${bad}"]`;
    await admin.waitForSelector(`${failedRow}[data-status="failed"] .job-status.failed`);
    await admin.waitForSelector(`#jobs tr[data-errors-for="${bad}"] li.job-error`);
    const errors = await admin.$$eval(`#jobs tr[data-errors-for="${bad}"] li.job-error`, (items) =>
      items.map((item) => item.textContent ?? ''),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^item 3 .*cannot take 3/),
      expect.stringMatching(/^item 7 .*cannot take 7/),
    ]);
    // Both its failed tasks are listed: no "…and N more".
    expect(
      await admin.$eval(
        `#jobs tr[data-errors-for="${bad}"] .job-errors-more`,
        (node) => (node as HTMLElement).hidden,
      ),
    ).toBe(true);
    // Server tags such as `[task]:` mean nothing to a teacher.
    expect(errors.join('\n')).not.toMatch(/\[\w+\]:/);
    // The failed job's row is the one that stands out; the completed one has no error row.
    expect(await admin.$(`#jobs tr[data-errors-for="${ok}"]:not([hidden])`)).toBeNull();
    const background = (selector: string) =>
      admin.$eval(`${selector} td`, (td) => getComputedStyle(td).backgroundColor);
    expect(await background(failedRow)).not.toBe(await background(`#jobs tr[data-job-id="${ok}"]`));

    // A job failing more tasks than are listed says how many more there are.
    const worse = await e2e.submit(server, {
      name: 'all fail',
      map: `(x) => { throw new Error('no ' + x) }`,
      inputs: [0, 1, 2, 3, 4],
      maxAttempts: 1,
    });
    await waitForJob(server, worse.id, ['failed']);
    const worseErrors = `#jobs tr[data-errors-for="${worse.id}"]`;
    await admin.waitForSelector(`${worseErrors} .job-errors-more:not([hidden])`);
    expect(await admin.$$eval(`${worseErrors} li.job-error`, (items) => items.length)).toBe(3);
    expect(await admin.$eval(`${worseErrors} .job-errors-more`, (node) => node.textContent)).toBe(
      '…and 2 more failed tasks: see the results download',
    );

    // Sent without a name: shown by its id's head, not as "untitled".
    expect(await admin.$eval(`${failedRow} .job-name`, (node) => node.textContent)).toBe(
      `Job ${bad.slice(0, 8)}`,
    );
    for (const jobId of [ok, bad]) {
      const time = await admin.$eval(`#jobs tr[data-job-id="${jobId}"]`, (tr) => ({
        created: tr.querySelector('.job-created')?.textContent ?? '',
        duration: tr.querySelector('.job-duration')?.textContent ?? '',
      }));
      expect(time.created).toMatch(/^\d{1,2}:\d{2}/);
      expect(time.duration).toMatch(/^took (\d+ ms|[\d.]+ s)$/);
    }
  });

  it('pages through jobs ten at a time, filters them by status, and says when a filter finds none', async () => {
    const server = await coordinator();
    for (let i = 0; i < 12; i++) {
      await e2e.submit(server, { name: `job ${i}`, map: '(x) => x', inputs: [i] });
    }
    const admin = await openAdmin(server);
    await logIn(admin, server);
    const shown = () =>
      admin.$$eval('#jobs tr.job', (rows) =>
        rows.map((row) => row.querySelector('.job-name')?.textContent ?? ''),
      );
    await admin.waitForFunction(() => document.querySelectorAll('#jobs tr.job').length === 10);
    expect(await shown()).toEqual(Array.from({ length: 10 }, (_, i) => `job ${11 - i}`));
    expect(await admin.$eval('.job-range', (node) => node.textContent)).toBe('1–10 of 12');
    await admin.click('.job-older');
    expect(await shown()).toEqual(['job 1', 'job 0']);
    expect(await admin.$eval('.job-range', (node) => node.textContent)).toBe('11–12 of 12');
    expect(await admin.$eval('.job-older', (node) => (node as HTMLButtonElement).disabled)).toBe(
      true,
    );
    await admin.click('.job-newer');
    expect(await shown()).toHaveLength(10);

    await admin.select('.job-filter', 'failed');
    expect(await shown()).toEqual([]);
    expect(await admin.$eval('.jobs-empty', (node) => (node as HTMLElement).hidden)).toBe(false);
    expect(await admin.$eval('.jobs-empty', (node) => node.textContent)).toBe('No failed jobs.');
    await admin.select('.job-filter', 'active');
    expect(await shown()).toHaveLength(10);
  });

  it('shows empty states on a fresh coordinator, and logs out: the token is forgotten and the login shown again', async () => {
    const server = await coordinator();
    const admin = await openAdmin(server);
    await logIn(admin, server);
    await admin.waitForSelector('#admin-bar:not([hidden]) #logout');
    const visibleText = (selector: string) =>
      admin.$eval(selector, (node) => ((node as HTMLElement).hidden ? '' : node.textContent));
    expect(await visibleText('.jobs-empty')).toMatch(/^No jobs yet/);
    await admin.waitForFunction(
      () => !(document.querySelector('.grid-list-empty') as HTMLElement).hidden,
    );
    expect(await visibleText('.grid-list-empty')).toMatch(/No grids yet/);
    await admin.waitForFunction(
      () => !(document.querySelector('.devices-empty') as HTMLElement).hidden,
    );
    expect(await visibleText('.devices-empty')).toMatch(/No browser has joined yet/);

    await Promise.all([admin.waitForNavigation(), admin.click('#logout')]);
    await admin.waitForSelector('#login:not([hidden]) #token');
    expect(await admin.evaluate(() => localStorage.getItem('browsergrid.adminToken'))).toBeNull();
    expect(await admin.$eval('#admin-bar', (node) => (node as HTMLElement).hidden)).toBe(true);
    expect(await admin.$eval('#jobs-card', (node) => (node as HTMLElement).hidden)).toBe(true);
    // A reload stays logged out.
    await admin.reload();
    await admin.waitForSelector('#login:not([hidden])');
    expect(await admin.$eval('#submit', (node) => (node as HTMLElement).hidden)).toBe(true);
  });

  it('pages the task timeline through every task, and draws copies still waiting in a queue apart from running ones', async () => {
    const server = await coordinator();
    const worker = await simTab(server, { slots: 8 });
    const big = await e2e.submit(server, {
      name: 'many tasks',
      map: '(x) => x',
      inputs: { range: { start: 0, end: 450 } },
    });
    await waitForJob(server, big.id, ['completed']);
    const admin = await openAdmin(server);
    await logIn(admin, server);
    const tasksShown = () =>
      admin.$$eval('#timeline .timeline-bar', (nodes) =>
        nodes.map((node) => Number((node as HTMLElement).dataset['task'])),
      );
    await admin.click(`#jobs tr[data-job-id="${big.id}"] button.timeline`);
    await admin.waitForSelector('#timeline .timeline-pager:not([hidden])');
    expect(await admin.$eval('.timeline-range', (node) => node.textContent)).toBe(
      'tasks 0–199 of 450',
    );
    expect(Math.max(...(await tasksShown()))).toBe(199);
    await admin.click('.timeline-later');
    await admin.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLElement>('#timeline .timeline-bar')).some(
        (node) => Number(node.dataset['task']) >= 200,
      ),
    );
    await admin.click('.timeline-later');
    await admin.waitForFunction(
      () => document.querySelector('.timeline-range')?.textContent === 'tasks 400–449 of 450',
    );
    await admin.waitForFunction(
      () => document.querySelectorAll('#timeline .timeline-bar').length === 50,
    );
    expect((await tasksShown()).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => 400 + i),
    );
    expect(
      await admin.$eval('.timeline-later', (node) => (node as HTMLButtonElement).disabled),
    ).toBe(true);

    // A tab holding two copies it has not started (it never reports a start): both wait.
    worker.close();
    await simTab(server, { slots: 2, answer: 'silent' });
    const held = await e2e.submit(server, { name: 'held', map: '(x) => x', inputs: [1, 2] });
    await admin.waitForSelector(`#jobs tr[data-job-id="${held.id}"]`);
    await admin.click(`#jobs tr[data-job-id="${held.id}"] button.timeline`);
    await admin.waitForFunction(
      () => document.querySelectorAll('#timeline .timeline-bar.queued').length === 2,
      { timeout: 10_000 },
    );
    const run = await admin.$$eval('#timeline .timeline-bar .timeline-run', (nodes) =>
      nodes.map((node) => (node as HTMLElement).hidden),
    );
    expect(run).toEqual([true, true]);
    expect(await admin.$eval('#timeline .timeline-summary', (node) => node.textContent)).toMatch(
      /0 running, 2 waiting in a tab's queue/,
    );
  });

  it("names each tab in a grid's roster by number, browser and join time instead of its id", async () => {
    const server = await coordinator();
    const { body: grid } = await api<GridCreated>(server, 'POST', '/api/grids', {
      name: 'Room 7',
    });
    await e2e.tab(server, `autostart=1&cores=1&grid=${grid.code}`);
    await e2e.tab(server, `autostart=1&cores=1&grid=${grid.code}`);
    const admin = await openAdmin(server);
    await logIn(admin, server);
    await admin.waitForSelector(`#grids .grid-list tr[data-code="${grid.code}"] button.show`);
    await admin.click(`#grids .grid-list tr[data-code="${grid.code}"] button.show`);
    await admin.waitForFunction(
      () => document.querySelectorAll('#grids .roster tbody tr').length === 2,
    );
    const names = await admin.$$eval('#grids .roster tbody tr .tab-name', (nodes) =>
      nodes.map((node) => node.textContent ?? '').sort(),
    );
    expect(names).toEqual([
      expect.stringMatching(/^Tab 1 · HeadlessChrome · joined \d{1,2}:\d{2}/),
      expect.stringMatching(/^Tab 2 · HeadlessChrome · joined \d{1,2}:\d{2}/),
    ]);
  });
});
