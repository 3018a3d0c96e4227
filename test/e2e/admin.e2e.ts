import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { api, waitFor } from '../support/start-coordinator.ts';

const e2e = useE2E();
const { coordinator } = e2e;

describe('admin page in Chromium', () => {
  it('submits a job from the form, shows its progress live and downloads its results', async () => {
    const server = await coordinator();
    const admin = await e2e.browser().newTab(`${server.url}/admin`);
    e2e.defer(() => admin.browserContext().close());

    // A wrong token is refused with a message; the right one opens the page.
    await admin.type('#token', 'not-the-token');
    await admin.click('#token-form button');
    await admin.waitForSelector('#login-error:not([hidden])');
    expect(await admin.$eval('#login-error', (el) => el.textContent)).toMatch(/refused/);
    await admin.$eval('#token', (el) => ((el as HTMLInputElement).value = ''));
    await admin.type('#token', server.token);
    await admin.click('#token-form button');
    await admin.waitForSelector('#submit:not([hidden])');

    // Invalid input shows the server's error naming the field once, without the server's
    // `[module]:` tag, and creates nothing.
    await admin.$eval(
      '#job-form textarea[name="map"]',
      (el) => ((el as HTMLTextAreaElement).value = '(x) => x *'),
    );
    await admin.click('#job-form button[type="submit"]');
    await admin.waitForSelector('#submit-error:not([hidden])');
    expect(await admin.$eval('#submit-error', (el) => el.textContent)).toMatch(
      /^map does not compile/,
    );
    expect((await api<unknown[]>(server, 'GET', '/api/jobs')).body).toEqual([]);

    await admin.$eval(
      '#job-form input[name="name"]',
      (el) => ((el as HTMLInputElement).value = 'cubes'),
    );
    await admin.$eval(
      '#job-form textarea[name="map"]',
      (el) => ((el as HTMLTextAreaElement).value = '(x) => x * x * x'),
    );
    await admin.$eval(
      '#job-form textarea[name="inputs"]',
      (el) => ((el as HTMLTextAreaElement).value = '0..50'),
    );
    await admin.$eval(
      '#job-form input[name="chunkSize"]',
      (el) => ((el as HTMLInputElement).value = '5'),
    );
    await admin.click('#job-form button[type="submit"]');
    await admin.waitForSelector('#jobs tr[data-status="queued"]', { timeout: 10_000 });
    expect(await admin.$eval('#submit-error', (el) => (el as HTMLElement).hidden)).toBe(true);

    // A volunteer tab joins; the row moves to completed with a full progress bar, pushed live.
    const volunteer = await e2e.browser().newTab(`${server.url}/?autostart=1&cores=1`);
    e2e.defer(() => volunteer.browserContext().close());
    await admin.waitForSelector('#jobs tr[data-status="completed"]', { timeout: 30_000 });
    const bar = await admin.$eval('#jobs tr progress', (el) => ({
      value: (el as HTMLProgressElement).value,
      max: (el as HTMLProgressElement).max,
    }));
    expect(bar).toEqual({ value: 10, max: 10 });
    // The throughput chart (uPlot) draws and saw the ten tasks go by.
    await admin.waitForSelector('#throughput canvas');
    await admin.waitForFunction(() =>
      /^\d+ tasks\/s$/.test(document.querySelector('#throughput-now')?.textContent ?? ''),
    );
    expect(await admin.$eval('#jobs tr', (el) => el.textContent)).toMatch(
      /cubes.*completed.*10 \/ 10/,
    );

    // Results download by click.
    const downloadDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-download-'));
    e2e.defer(() => rmSync(downloadDir, { recursive: true, force: true }));
    const cdp = await admin.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', {
      behavior: 'allow',
      downloadPath: downloadDir,
      browserContextId: (admin.browserContext() as unknown as { id: string }).id,
    });
    await admin.click('#jobs tr button.download');
    const file = await waitFor(
      () => readdirSync(downloadDir).find((name) => name.endsWith('.ndjson')),
      15_000,
      'the results download',
    );
    const lines = readFileSync(path.join(downloadDir, file), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual(
      Array.from({ length: 50 }, (_, index) => ({ index, output: index ** 3 })),
    );
  });

  it('streams a CSV file chosen in the form as the job inputs, and says what is wrong with a bad one', async () => {
    const server = await coordinator();
    const admin = await e2e.browser().newTab(`${server.url}/admin`);
    e2e.defer(() => admin.browserContext().close());
    await admin.type('#token', server.token);
    await admin.click('#token-form button');
    await admin.waitForSelector('#submit:not([hidden])');
    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-upload-'));
    e2e.defer(() => rmSync(dir, { recursive: true, force: true }));
    const fileInput = await admin.$('#job-form input[name="inputsFile"]');
    if (!fileInput) throw new Error('no file input in the job form');

    // A file with a bad line: the upload is refused naming the line, and no job is made.
    const bad = path.join(dir, 'bad.ndjson');
    writeFileSync(bad, '1\n2\n{oops\n');
    await fileInput.uploadFile(bad);
    await admin.click('#job-form button[type="submit"]');
    await admin.waitForSelector('#submit-error:not([hidden])');
    expect(await admin.$eval('#submit-error', (el) => el.textContent)).toMatch(
      /line 3 is not JSON/,
    );
    expect((await api<unknown[]>(server, 'GET', '/api/jobs')).body).toEqual([]);

    const csv = path.join(dir, 'rooms.csv');
    writeFileSync(
      csv,
      `room,seats\n${Array.from({ length: 300 }, (_, i) => `r${i},${i}`).join('\n')}\n`,
    );
    await fileInput.uploadFile(csv);
    await admin.$eval(
      '#job-form textarea[name="map"]',
      (el) => ((el as HTMLTextAreaElement).value = '(row) => Number(row.seats) * 2'),
    );
    await admin.$eval(
      '#job-form textarea[name="inputs"]',
      (el) => ((el as HTMLTextAreaElement).value = ''),
    );
    await admin.click('#job-form button[type="submit"]');
    await admin.waitForFunction(
      () =>
        /rooms\.csv: 300 items uploaded/.test(
          document.querySelector('#upload-status')?.textContent ?? '',
        ),
      { timeout: 10_000 },
    );
    const volunteer = await e2e.browser().newTab(`${server.url}/?autostart=1&cores=1`);
    e2e.defer(() => volunteer.browserContext().close());
    await admin.waitForSelector('#jobs tr[data-status="completed"]', { timeout: 30_000 });
    const [job] = (await api<Array<{ id: string; items: number }>>(server, 'GET', '/api/jobs'))
      .body;
    expect(job?.items).toBe(300);
    const results = await api<string>(server, 'GET', `/api/jobs/${job?.id}/results`);
    expect(
      results.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(Array.from({ length: 300 }, (_, index) => ({ index, output: index * 2 })));
    // The refused upload left nothing behind; the used one stays until deleted.
    expect((await api<unknown[]>(server, 'GET', '/api/uploads')).body).toHaveLength(1);
  });

  it('cancels a running job from the page', async () => {
    const server = await coordinator();
    const { body: job } = await api<{ id: string }>(server, 'POST', '/api/jobs', {
      name: 'slow',
      map: '(x) => { const end = Date.now() + 200; while (Date.now() < end) {} return x }',
      inputs: { range: { start: 0, end: 200 } },
    });
    const volunteer = await e2e.browser().newTab(`${server.url}/?autostart=1&cores=1`);
    e2e.defer(() => volunteer.browserContext().close());
    const admin = await e2e.browser().newTab(`${server.url}/admin`);
    e2e.defer(() => admin.browserContext().close());
    await admin.type('#token', server.token);
    await admin.click('#token-form button');
    await admin.waitForSelector(`#jobs tr[data-job-id="${job.id}"][data-status="running"]`, {
      timeout: 20_000,
    });
    await admin.click(`#jobs tr[data-job-id="${job.id}"] button.cancel`);
    await admin.waitForSelector(`#jobs tr[data-job-id="${job.id}"][data-status="cancelled"]`, {
      timeout: 10_000,
    });
    expect((await api(server, 'GET', `/api/jobs/${job.id}`)).body).toMatchObject({
      status: 'cancelled',
    });
  });

  it('lists devices and bans one by click: its tab is closed and refused', async () => {
    const server = await coordinator();
    const volunteer = await e2e.browser().newTab(`${server.url}/?autostart=1&cores=1`);
    e2e.defer(() => volunteer.browserContext().close());
    await volunteer.waitForSelector('#connection[data-state="connected"]');
    const admin = await e2e.browser().newTab(`${server.url}/admin`);
    e2e.defer(() => admin.browserContext().close());
    await admin.type('#token', server.token);
    await admin.click('#token-form button');
    await admin.waitForSelector('#devices tbody tr[data-device-id]', { timeout: 10_000 });
    const deviceId = await admin.$eval(
      '#devices tbody tr',
      (el) => (el as HTMLElement).dataset['deviceId'],
    );
    expect(deviceId).toMatch(/^d-/);

    await admin.click('#devices tbody tr button.toggle');
    await admin.waitForSelector('#devices tbody tr[data-standing="banned"]', { timeout: 10_000 });
    const devices = (
      await api<Array<{ deviceId: string; banned: boolean }>>(server, 'GET', '/api/devices')
    ).body;
    expect(devices.find((device) => device.deviceId === deviceId)).toMatchObject({ banned: true });
    // The tab was told why and closed.
    await volunteer.waitForFunction(
      () => /banned/.test(document.querySelector('#connection')?.textContent ?? ''),
      { timeout: 15_000 },
    );
    await volunteer.waitForSelector('#connection[data-state="disconnected"]', { timeout: 5_000 });

    await admin.click('#devices tbody tr button.toggle');
    await admin.waitForSelector('#devices tbody tr[data-standing="new"]', { timeout: 10_000 });
  });
});
