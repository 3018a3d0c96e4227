/**
 * The volunteer page as a student meets it, in real Chromium at a phone's 390 px and a
 * projector's 1280 px: layout, one press to agree and start, the state sentence, the grid's
 * name, the nickname on the roster, and errors in plain words. With
 * BROWSERGRID_SCREENSHOTS=1 the layout test also writes docs/volunteer-390.png and -1280.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import type { GridCreated, GridSummary } from '../../shared/job.ts';
import { useE2E } from '../support/e2e.ts';
import { api, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const e2e = useE2E();
const WIDTHS = [390, 1280] as const;
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

/** Busy-waits `ms` per item: tasks long enough to be seen running. */
const slow = (ms: number): string =>
  `(x) => { const end = Date.now() + ${ms}; while (Date.now() < end) {} return x }`;

async function createGrid(server: TestCoordinator, name: string): Promise<GridCreated> {
  const { status, body } = await api<GridCreated>(server, 'POST', '/api/grids', { name });
  expect(status).toBe(201);
  return body;
}

/** A page in its own browser context, closed after the test; not started. */
async function openPage(server: TestCoordinator, query = ''): Promise<Page> {
  const page = await e2e.browser().newTab(`${server.url}/${query}`);
  e2e.defer(() => page.browserContext().close());
  await page.waitForSelector('#toggle');
  return page;
}

const text = (page: Page, selector: string): Promise<string> =>
  page.$eval(selector, (el) => (el.textContent ?? '').trim());

async function waitForState(page: Page, state: string, timeoutMs = 15_000): Promise<void> {
  await page.waitForSelector(`#state[data-state="${state}"]`, { timeout: timeoutMs });
}

/** What is out of place on the page as laid out now; empty when the layout holds. */
function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth > width) {
      problems.push(`page is ${document.documentElement.scrollWidth} px wide in ${width} px`);
    }
    const visible = (el: Element): boolean => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const name = (el: Element): string =>
      el.id || el.textContent?.trim().slice(0, 30) || el.tagName;
    for (const control of document.querySelectorAll('button, input, select, label, a')) {
      if (!visible(control)) continue;
      const box = control.getBoundingClientRect();
      if (box.left < 0 || box.right > width) {
        problems.push(`${name(control)} spans ${box.left}..${box.right} of ${width} px`);
      }
      const card = control.closest('.card')?.getBoundingClientRect();
      if (card && (box.left < card.left || box.right > card.right)) {
        problems.push(
          `${name(control)} spans ${box.left}..${box.right}, its card ${card.left}..${card.right}`,
        );
      }
    }
    // Each label beside its value (same row, value to its right) or above it (same left edge).
    for (const dt of document.querySelectorAll('dl dt')) {
      const label = dt.textContent?.trim() ?? '';
      const dd = dt.nextElementSibling;
      if (label === '' || !visible(dt)) {
        problems.push(`a label "${label}" that is empty or hidden`);
        continue;
      }
      if (!dd || dd.tagName !== 'DD' || !visible(dd)) {
        problems.push(`"${label}" has no visible value after it`);
        continue;
      }
      const l = dt.getBoundingClientRect();
      const v = dd.getBoundingClientRect();
      const beside = v.left >= l.right - 1 && v.top < l.bottom && v.bottom > l.top;
      const above = v.top >= l.bottom - 1 && Math.abs(v.left - l.left) <= 1;
      if (!beside && !above) {
        problems.push(
          `"${label}" at ${l.left},${l.top} and its value "${dd.textContent}" at ${v.left},${v.top}`,
        );
      }
    }
    return problems;
  });
}

describe('the volunteer page', () => {
  it('lays out at 390 px and 1280 px: nothing wider than the screen, every control inside it and its card, every label beside or above its value', async () => {
    const server = await e2e.coordinator();
    const grid = await createGrid(server, 'Year 9 Physics, room 101');
    const page = await openPage(server, `?grid=${grid.code}&cores=2`);
    for (const width of WIDTHS) {
      await page.setViewport({ width, height: 900 });
      expect(await layoutProblems(page), `before starting at ${width} px`).toEqual([]);
    }
    await page.type('#nickname', 'Ada L.');
    await page.click('#toggle');
    await waitForState(page, 'waiting');
    await e2e.submit(server, {
      name: 'Monte Carlo estimate of pi',
      description: 'Throws random darts at a square and counts those inside the circle.',
      map: slow(300),
      inputs: { range: { start: 0, end: 200 } },
      grid: grid.code,
    });
    await waitForState(page, 'working');
    // The counters have moved off zero, as in a real session.
    await page.waitForFunction(
      () => Number(document.querySelector('#tasks-done')?.textContent) > 0,
      {
        timeout: 15_000,
      },
    );
    for (const width of WIDTHS) {
      await page.setViewport({ width, height: 900 });
      expect(await layoutProblems(page), `working at ${width} px`).toEqual([]);
      if (process.env['BROWSERGRID_SCREENSHOTS']) {
        mkdirSync(DOCS, { recursive: true });
        await page.screenshot({ path: path.join(DOCS, `volunteer-${width}.png`), fullPage: true });
      }
    }
  });

  it('agrees and starts with one press, remembers the consent after a reload, and forgets it when withdrawn', async () => {
    const server = await e2e.coordinator();
    const page = await openPage(server);
    expect(await page.$eval('#consent', (el) => (el as HTMLElement).hidden)).toBe(false);
    expect(await text(page, '#toggle')).toBe('Agree and start');
    // A public tab is on no roster, so it is not asked for a nickname.
    expect(await page.$eval('#nickname', (el) => el.getBoundingClientRect().width)).toBe(0);
    await page.click('#toggle');
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
    expect(await page.$eval('#consent', (el) => (el as HTMLElement).hidden)).toBe(true);

    await page.reload();
    await page.waitForSelector('#state[data-state="idle"]');
    expect(await text(page, '#toggle')).toBe('Start');
    await page.click('#toggle');
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });

    await page.click('#withdraw');
    await page.waitForSelector('#connection[data-state="stopped"]');
    expect(await text(page, '#toggle')).toBe('Agree and start');
    expect(await page.$eval('#consent', (el) => (el as HTMLElement).hidden)).toBe(false);
  });

  it('says it waits for work, then which job it works on and for whom, listing only current jobs', async () => {
    const server = await e2e.coordinator();
    const page = await e2e.tab(server);
    await waitForState(page, 'waiting');
    expect(await text(page, '#state-title')).toBe('Waiting for work');

    const first = await e2e.submit(server, { name: 'first', map: '(x) => x', inputs: [1, 2] });
    expect(await waitForJob(server, first.id)).toMatchObject({ status: 'completed' });
    await e2e.submit(server, {
      name: 'second',
      description: 'Slow squares',
      map: slow(200),
      inputs: { range: { start: 0, end: 10 } },
    });
    await page.waitForFunction(
      () => document.querySelector('#state-title')?.textContent === 'Working on second',
      { timeout: 15_000 },
    );
    expect(await text(page, '#state-detail')).toBe('for admin');
    expect(await text(page, '#about')).toBe('Slow squares');
    expect(await text(page, '#jobs')).toBe('second (for admin)');
    expect(await page.$eval('main', (el) => el.textContent)).not.toMatch(/\bfirst\b/);
    await waitForState(page, 'waiting', 30_000);
    expect(await text(page, '#jobs')).toBe('—');
  });

  it("shows the grid's name, puts the nickname on the roster, and says who paused the tab", async () => {
    const server = await e2e.coordinator();
    const grid = await createGrid(server, 'Room 101');
    const page = await openPage(server, `?grid=${grid.code}&cores=1`);
    await page.type('#nickname', 'Ada ✨');
    await page.click('#toggle');
    await waitForState(page, 'waiting');
    expect(await text(page, '#grid-name')).toBe('Room 101');
    const roster = async (): Promise<GridSummary> =>
      (await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body;
    const [entry] = (await roster()).devices;
    expect(entry).toMatchObject({ nickname: 'Ada ✨' });
    const volunteerId = entry?.volunteerId;

    const pause = (what: 'pause' | 'resume', body: object) =>
      api(server, 'POST', `/api/grids/${grid.code}/${what}`, body);
    await pause('pause', { volunteerId });
    await waitForState(page, 'paused');
    expect(await text(page, '#state-title')).toBe('Paused by the grid admin');
    expect(await text(page, '#state-detail')).toMatch(/paused this tab/);
    await pause('resume', { volunteerId });
    await waitForState(page, 'waiting');

    await pause('pause', {});
    await waitForState(page, 'paused');
    expect(await text(page, '#state-detail')).toMatch(/whole grid is paused/);
    await pause('resume', {});
    await waitForState(page, 'waiting');

    await page.click('#toggle');
    await waitForState(page, 'paused');
    expect(await text(page, '#state-title')).toBe('Paused by you');
    expect(await text(page, '#toggle')).toBe('Resume');
  });

  it('runs again after reconnecting when the grid was resumed while it was away', async () => {
    const first = await e2e.coordinator();
    const grid = await createGrid(first, 'Room 102');
    const page = await openPage(first, `?grid=${grid.code}&cores=1`);
    await page.click('#toggle');
    await waitForState(page, 'waiting');
    await api(first, 'POST', `/api/grids/${grid.code}/pause`, {});
    await waitForState(page, 'paused');
    const port = Number(new URL(first.url).port);
    await first.stop();
    // Resumed while the tab could not hear it (written where the coordinator keeps it).
    const db = new Database(path.join(first.dataDir, 'browsergrid.db'));
    db.prepare('UPDATE grids SET paused = 0 WHERE code = ?').run(grid.code);
    db.close();
    const second = await e2e.coordinator({ dataDir: first.dataDir, port });
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
    await waitForState(page, 'waiting');
    const job = await api<{ id: string }>(second, 'POST', '/api/jobs', {
      map: '(x) => x + 1',
      inputs: [1, 2],
      grid: grid.code,
    });
    expect(await waitForJob(second, job.body.id, undefined, 20_000)).toMatchObject({
      status: 'completed',
    });
  });

  it('refuses a nickname it cannot send, in plain words, and does not connect', async () => {
    const server = await e2e.coordinator();
    const grid = await createGrid(server, 'Room 101');
    const page = await openPage(server, `?grid=${grid.code}`);
    await page.$eval('#nickname', (el) => {
      (el as HTMLInputElement).value = 'Ada\u202Eevil';
    });
    await page.click('#toggle');
    await page.waitForSelector('#error:not([hidden])');
    expect(await text(page, '#error')).toMatch(/^That nickname cannot be used\./);
    expect(await page.$eval('#connection', (el) => (el as HTMLElement).dataset['state'])).toBe(
      'stopped',
    );
    expect((await api<GridSummary>(server, 'GET', `/api/grids/${grid.code}`)).body.devices).toEqual(
      [],
    );
  });

  it('says a wrong or malformed join code in plain words, never an internal message', async () => {
    const server = await e2e.coordinator();
    for (const code of ['NOPE99', 'not%20a%20code']) {
      const page = await openPage(server, `?autostart=1&grid=${code}`);
      await waitForState(page, 'refused');
      expect(await text(page, '#state-title')).toBe('Could not join');
      expect(await text(page, '#state-detail')).toBe(
        'No grid has this join code. Check the code or the link with your teacher.',
      );
      expect(await page.$eval('#toggle', (el) => (el as HTMLElement).hidden)).toBe(true);
      const shown = await page.$eval('main', (el) => (el as HTMLElement).innerText);
      expect(shown).not.toMatch(/\[[a-z:-]+\]|realtime|volunteer:hello|expected/);
    }
  });
});
