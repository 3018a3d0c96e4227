/**
 * @module Headless Chromium for e2e tests: Debian's chromium (or PUPPETEER_EXECUTABLE_PATH),
 * else puppeteer's own download, with the flags this sandbox needs. Each tab gets its own
 * browser context, so its own IndexedDB: a separate device as far as the coordinator knows.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string | undefined {
  const fromEnv = process.env['PUPPETEER_EXECUTABLE_PATH'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

export interface TestBrowser {
  browser: Browser;
  /** Opens a page in a fresh browser context (its own storage). */
  newTab(url: string): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-chromium-'));
  const executablePath = chromiumPath();
  const browser = await puppeteer.launch({
    ...(executablePath ? { executablePath } : {}),
    args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`],
    headless: true,
  });
  return {
    browser,
    async newTab(url) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      page.on('pageerror', (error) => {
        process.stderr.write(`[page error] ${url}: ${String(error)}\n`);
      });
      await page.goto(url);
      return page;
    },
    async close() {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The number shown in `#id` on a volunteer page. */
export async function shownNumber(page: Page, id: string): Promise<number> {
  return Number(await page.$eval(`#${id}`, (el) => el.textContent ?? ''));
}
