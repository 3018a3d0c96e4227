/**
 * @module The commands that run something on this machine: `browsergrid start` (the coordinator)
 * and `browsergrid worker` (headless lab tabs).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { createRootLog } from '../log.ts';
import { startCoordinator } from '../main.ts';
import { supervise } from '../supervise.ts';
import { urlOption, wholeNumber } from './remote.ts';

export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the coordinator (PORT, BROWSERGRID_DATA, BROWSERGRID_ADMIN_TOKEN)')
    .option(
      '--supervise',
      'run it in a child process, restarted whenever it exits unasked (where there is no systemd)',
    )
    .action(async (options: { supervise?: boolean }) => {
      if (options.supervise) {
        const { logLevel, logFormat } = loadConfig();
        process.exitCode = await supervise(createRootLog(logLevel, logFormat));
      } else {
        await startCoordinator();
      }
    });
}

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run headless Chromium tabs as volunteers (a lab machine); SIGTERM stops them')
    .addOption(urlOption())
    .option('--grid <code>', 'join this grid')
    .option('--tabs <n>', 'tabs to run', wholeNumber('--tabs', 1), 1)
    .option('--cores <n>', 'Web Workers per tab', wholeNumber('--cores', 1), 1)
    .action(async (options: { url: string; grid?: string; tabs: number; cores: number }) => {
      const { startLabWorker, volunteerUrl } = await loadLabWorker();
      const log = (line: string): void => {
        process.stdout.write(`[worker] ${new Date().toISOString()} ${line}\n`);
      };
      // Before Chromium starts, so a stop asked for while it starts is kept, and the log says
      // at once which coordinator this worker serves.
      const signalled = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      log(`opening ${options.tabs} tab(s) on ${volunteerUrl(options)}`);
      const worker = await startLabWorker({ ...options, log });
      const signal = await signalled;
      log(`${signal}: closing ${options.tabs} tab(s)`);
      await worker.stop();
      process.exit(0);
    });
}

/**
 * The packed package leaves puppeteer, and the Chromium its install downloads, to the machines
 * that run lab tabs: a script that only uses the SDK does not need them.
 */
async function loadLabWorker(): Promise<typeof import('../worker/lab-worker.ts')> {
  try {
    return await import('../worker/lab-worker.ts');
  } catch (error) {
    const missing =
      (error as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND' &&
      /'puppeteer'/.test((error as Error).message);
    if (!missing) throw error;
    throw new Error(
      '[cli]: lab tabs need puppeteer, which is not installed here: run npm install puppeteer@24 where browsergrid is installed',
      { cause: error },
    );
  }
}
