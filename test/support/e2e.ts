/**
 * @module Shared set-up for e2e files: one Chromium per file, coordinators serving the pages
 * built by the e2e globalSetup, volunteer tabs in their own browser contexts (own IndexedDB),
 * and everything a test started stopped after it.
 */
import type { Page } from 'puppeteer';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import type { JobCreated } from '../../shared/job.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';
import {
  api,
  startCoordinator,
  type StartOptions,
  type TestCoordinator,
} from './start-coordinator.ts';

export interface E2E {
  browser(): TestBrowser;
  /** A coordinator serving the built pages, closed (data dir removed) after the test. */
  coordinator(options?: Omit<StartOptions, 'staticDir'>): Promise<TestCoordinator>;
  /** A volunteer tab (`?autostart=1&cores=1` unless `query` says otherwise), connected. */
  tab(server: { url: string }, query?: string): Promise<Page>;
  submit(server: TestCoordinator, spec: Record<string, unknown>): Promise<JobCreated>;
  /** Registers a clean-up to run after the current test, last registered first. */
  defer(cleanup: () => Promise<void> | void): void;
  staticDir: string;
}

/** Call once at the top of an e2e file. */
export function useE2E(): E2E {
  const staticDir = inject('staticDir');
  let chromium: TestBrowser | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    chromium = await launchBrowser();
  });
  afterAll(async () => {
    await chromium?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const browser = (): TestBrowser => {
    if (!chromium) throw new Error('[e2e]: Chromium is not running (call inside a test)');
    return chromium;
  };

  return {
    staticDir,
    browser,
    defer: (cleanup) => cleanups.push(cleanup),
    async coordinator(options = {}) {
      const server = await startCoordinator({ ...options, staticDir });
      cleanups.push(() => server.close());
      return server;
    },
    async tab(server, query = 'autostart=1&cores=1') {
      const page = await browser().newTab(`${server.url}/?${query}`);
      cleanups.push(async () => {
        if (!page.isClosed()) await page.browserContext().close();
      });
      await page.waitForSelector('#connection[data-state="connected"]', { timeout: 20_000 });
      return page;
    },
    async submit(server, spec) {
      const { status, body } = await api<JobCreated>(server, 'POST', '/api/jobs', spec);
      expect(status, JSON.stringify(body)).toBe(201);
      return body;
    },
  };
}
