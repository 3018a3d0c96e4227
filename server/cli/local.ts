/**
 * @module The commands that run something on this machine: `browsergrid start` (the coordinator)
 * and `browsergrid worker` (headless lab tabs).
 */
import type { Command } from 'commander';
import { createRootLog } from '../log.ts';
import { startCoordinator } from '../main.ts';
import { supervise } from '../supervise.ts';
import { describeError } from './errors.ts';
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
        process.exitCode = await supervise(createRootLog());
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
      const { startLabWorker } = await import('../worker/lab-worker.ts');
      const log = (line: string): void => {
        process.stdout.write(`[worker] ${new Date().toISOString()} ${line}\n`);
      };
      const worker = await startLabWorker({ ...options, log });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log(`${signal}: closing ${options.tabs} tab(s)`);
        worker.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`${describeError(error)}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
