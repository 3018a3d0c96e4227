/**
 * The volunteer's CPU controls in Chromium: the duty-cycle cap and pause on battery. Headless
 * Chromium has no battery to unplug, so the battery test stands in a Battery Status API object
 * (before the page loads) whose charging state the test flips; everything else is real.
 */
import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { api, waitFor, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const e2e = useE2E();

interface WorkerView {
  slots: number;
  holding: number;
}

async function onlyWorker(server: TestCoordinator): Promise<WorkerView | undefined> {
  const { body } = await api<WorkerView[]>(server, 'GET', '/api/workers');
  return body[0];
}

/** A volunteer tab whose navigator.getBattery() answers with a battery the test controls. */
async function tabOnBattery(server: TestCoordinator): Promise<Page> {
  const context = await e2e.browser().browser.createBrowserContext();
  e2e.defer(() => context.close());
  const page = await context.newPage();
  await page.evaluateOnNewDocument(`(() => {
    const battery = new EventTarget();
    battery.charging = true;
    battery.level = 0.5;
    window.setCharging = (charging) => {
      battery.charging = charging;
      battery.dispatchEvent(new Event('chargingchange'));
    };
    Object.defineProperty(Navigator.prototype, 'getBattery', {
      configurable: true,
      value: () => Promise.resolve(battery),
    });
  })()`);
  await page.goto(`${server.url}/?autostart=1&cores=1`);
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
  return page;
}

describe("the volunteer's CPU controls", () => {
  it('caps each worker at the chosen share of the time', async () => {
    const server = await e2e.coordinator();
    const tab = await e2e.tab(server);
    await tab.select('#duty', '0.25');
    const tasks = 12;
    const busyMs = 40;
    const job = await e2e.submit(server, {
      map: `(x) => { const end = Date.now() + ${busyMs}; while (Date.now() < end) {} return x }`,
      inputs: { range: { start: 0, end: tasks } },
    });
    const summary = (await waitForJob(server, job.id, undefined, 30_000)) as {
      status: string;
      createdAt: string;
      finishedAt: string;
    };
    expect(summary.status).toBe('completed');
    // At 25 % a worker rests three times as long as each task ran, so the job cannot be done
    // sooner than tasks x busy / 0.25 (less the last rest); a slower machine only makes it later.
    const elapsedMs = Date.parse(summary.finishedAt) - Date.parse(summary.createdAt);
    expect(elapsedMs).toBeGreaterThanOrEqual((tasks - 1) * busyMs * 4);
  });

  it('pauses on battery, handing its tasks back, and resumes when plugged in', async () => {
    const server = await e2e.coordinator();
    const tab = await tabOnBattery(server);
    const job = await e2e.submit(server, {
      map: '(x) => { const end = Date.now() + 20; while (Date.now() < end) {} return x }',
      inputs: { range: { start: 0, end: 200 } },
    });
    await waitFor(async () => ((await onlyWorker(server))?.holding ?? 0) > 0, 10_000, 'work');

    await tab.evaluate('window.setCharging(false)');
    await tab.waitForSelector('#connection[data-paused="true"]', { timeout: 5_000 });
    // The coordinator sees a tab with no slots that holds nothing: its tasks went back.
    await waitFor(
      async () => {
        const worker = await onlyWorker(server);
        return worker?.slots === 0 && worker.holding === 0 ? true : undefined;
      },
      5_000,
      'the tab to give its slots and tasks back',
    );
    const paused = (await api<{ status: string }>(server, 'GET', `/api/jobs/${job.id}`)).body;
    expect(paused.status).toBe('running');

    await tab.evaluate('window.setCharging(true)');
    await tab.waitForSelector('#connection[data-paused="false"]', { timeout: 5_000 });
    expect(await waitForJob(server, job.id, undefined, 60_000)).toMatchObject({
      status: 'completed',
      done: 200,
    });

    // Unticking "Pause on battery" lets it compute on battery.
    await tab.evaluate('window.setCharging(false)');
    await tab.waitForSelector('#connection[data-paused="true"]', { timeout: 5_000 });
    await tab.click('#battery');
    await tab.waitForSelector('#connection[data-paused="false"]', { timeout: 5_000 });
  });
});
