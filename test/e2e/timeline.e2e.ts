import type { Page } from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { api, waitForJob, type TestCoordinator } from '../support/start-coordinator.ts';

const e2e = useE2E();
const { coordinator } = e2e;

async function tab(url: string): Promise<Page> {
  const page = await e2e.browser().newTab(url);
  e2e.defer(() => page.browserContext().close());
  return page;
}

async function adminPage(server: TestCoordinator): Promise<Page> {
  const admin = await tab(`${server.url}/admin`);
  await admin.type('#token', server.token);
  await admin.click('#token-form button');
  await admin.waitForSelector('#jobs-card:not([hidden])');
  return admin;
}

async function submitDoubles(server: TestCoordinator): Promise<string> {
  const { status, body } = await api<{ id: string }>(server, 'POST', '/api/jobs', {
    name: 'doubles',
    map: '(x) => x * 2',
    inputs: [1, 2, 3, 4, 5, 6],
  });
  expect(status).toBe(201);
  return body.id;
}

interface ShownBar {
  className: string;
  task: string;
  kind: string;
  end: string;
  won: string;
  title: string;
}

function bars(page: Page): Promise<ShownBar[]> {
  return page.$$eval('#timeline .timeline-bar', (nodes) =>
    nodes.map((node) => ({
      className: node.className,
      task: (node as HTMLElement).dataset['task'] ?? '',
      kind: (node as HTMLElement).dataset['kind'] ?? '',
      end: (node as HTMLElement).dataset['end'] ?? '',
      won: (node as HTMLElement).dataset['won'] ?? '',
      title: (node as HTMLElement).title,
    })),
  );
}

describe('task timeline on the admin page', () => {
  it("shows a finished job's copies: one won bar per task, in the lane of the tab that ran it", async () => {
    const server = await coordinator();
    const jobId = await submitDoubles(server);
    await tab(`${server.url}/?autostart=1&cores=1`);
    await waitForJob(server, jobId, ['completed']);

    const admin = await adminPage(server);
    await admin.click(`#jobs tr[data-job-id="${jobId}"] button.timeline`);
    await admin.waitForSelector('#timeline:not([hidden]) .timeline-bar');

    const shown = await bars(admin);
    expect(shown).toHaveLength(6);
    expect(shown.every((bar) => bar.className.split(' ').includes('won'))).toBe(true);
    expect(shown.map((bar) => bar.task).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(shown.every((bar) => bar.end === 'result' && bar.won === 'true')).toBe(true);
    expect(shown[0]?.title).toMatch(/^Task \d+: first copy\n.*result.*\nWon: yes\nDuration: /);

    const lanes = await admin.$$eval('#timeline .timeline-lane', (nodes) =>
      nodes.map((node) => (node as HTMLElement).dataset['volunteerId'] ?? ''),
    );
    expect(lanes).toHaveLength(1);
    expect(lanes[0]).toMatch(/^t-/);
    expect(await admin.$eval('#timeline .timeline-summary', (node) => node.textContent)).toMatch(
      /6 of 6 tasks shown · 6 copies · 0 retries · 0 backups started, 0 won/,
    );

    await admin.click('#timeline button.close');
    expect(await admin.$eval('#timeline', (node) => (node as HTMLElement).hidden)).toBe(true);
  });

  it('refreshes while the job runs, and stops fetching once it is finished', async () => {
    const server = await coordinator();
    const jobId = await submitDoubles(server);
    const admin = await adminPage(server);
    let fetches = 0;
    admin.on('request', (request) => {
      if (request.url().includes(`/api/jobs/${jobId}/tasks`)) fetches++;
    });

    // Opened while the job waits for a tab: nothing to draw yet, then bars arrive by refresh.
    await admin.click(`#jobs tr[data-job-id="${jobId}"] button.timeline`);
    await admin.waitForFunction(() =>
      document.querySelector('#timeline .timeline-view')?.textContent?.includes('No copies'),
    );
    await tab(`${server.url}/?autostart=1&cores=1`);
    await admin.waitForFunction(
      () => document.querySelectorAll('#timeline .timeline-bar.won').length === 6,
      { timeout: 30_000 },
    );
    await admin.waitForSelector(`#jobs tr[data-job-id="${jobId}"][data-status="completed"]`);

    // The refresh after the job is seen finished is the last one.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const settled = fetches;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(fetches).toBe(settled);
    expect(await admin.$$eval('#timeline .timeline-lane', (nodes) => nodes.length)).toBe(1);
  });
});
