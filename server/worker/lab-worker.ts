/**
 * @module `browsergrid worker`: headless Chromium tabs as volunteers on a lab machine. Each tab
 * opens the volunteer page with `?autostart=1`; a tab that crashes or fails to load is opened
 * again (with backoff while the coordinator is unreachable); socket.io inside the page reconnects
 * by itself. SIGTERM closes the browser and exits 0.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';

export interface LabWorkerOptions {
  url: string;
  grid?: string;
  tabs: number;
  cores: number;
  log: (line: string) => void;
}

/** Flags for headless Chromium in containers and as root; see the README's lab section. */
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Lab tabs are never in front: keep their timers at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export interface LabWorker {
  /** Resolves when every tab has loaded the page once. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function volunteerUrl(options: Pick<LabWorkerOptions, 'url' | 'grid' | 'cores'>): string {
  const url = new URL('/', options.url);
  url.searchParams.set('autostart', '1');
  url.searchParams.set('cores', String(options.cores));
  if (options.grid) url.searchParams.set('grid', options.grid);
  return url.href;
}

export async function startLabWorker(options: LabWorkerOptions): Promise<LabWorker> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-worker-'));
  const executablePath =
    process.env['PUPPETEER_EXECUTABLE_PATH'] ??
    (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const browser: Browser = await puppeteer.launch({
    headless: true,
    args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`],
    // The command that started the worker stops it on a signal, tabs first, then the browser.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    ...(executablePath ? { executablePath } : {}),
  });
  let stopping = false;
  const target = volunteerUrl(options);

  /** Keeps one tab open on the volunteer page for as long as the worker runs. */
  const keepTab = async (index: number, loaded: () => void): Promise<void> => {
    let delay = RETRY_MIN_MS;
    while (!stopping) {
      let page: Page | undefined;
      try {
        page = await browser.newPage();
        const gone = new Promise<string>((resolve) => {
          page?.once('error', (error) => resolve(`crashed: ${error.message}`));
          page?.once('close', () => resolve('closed'));
        });
        await page.goto(target, { waitUntil: 'load', timeout: 30_000 });
        await page.waitForSelector('#connection[data-state="connected"]', { timeout: 30_000 });
        options.log(
          `tab ${index + 1}: computing for ${options.url}${options.grid ? ` in grid ${options.grid}` : ''}`,
        );
        loaded();
        delay = RETRY_MIN_MS;
        const why = await gone;
        if (!stopping) options.log(`tab ${index + 1}: ${why}; opening it again`);
      } catch (error) {
        if (stopping) return;
        options.log(
          `tab ${index + 1}: ${(error as Error).message.split('\n')[0]}; retrying in ${Math.round(delay / 1000)} s`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(RETRY_MAX_MS, delay * 2);
      } finally {
        if (page && !page.isClosed()) await page.close().catch(() => undefined);
      }
    }
  };

  const loads: Array<Promise<void>> = [];
  const running: Array<Promise<void>> = [];
  for (let i = 0; i < options.tabs; i++) {
    let loaded!: () => void;
    loads.push(new Promise<void>((resolve) => (loaded = resolve)));
    running.push(keepTab(i, loaded));
  }
  return {
    ready: Promise.all(loads).then(() => undefined),
    async stop() {
      stopping = true;
      await browser.close();
      await Promise.allSettled(running);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
