#!/usr/bin/env node
/**
 * @module The `browsergrid` command line: start the coordinator or lab tabs here, or talk to a
 * coordinator through the SDK. Each command parses its options, calls the SDK and prints; any
 * error ends the process with status 1 and one `browsergrid: …` line on stderr.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { addBackupCommand } from './cli/backup.ts';
import { describeError } from './cli/errors.ts';
import { addGridCommand, addGridsCommand } from './cli/grids.ts';
import { addJobCommands } from './cli/jobs.ts';
import { addStartCommand, addWorkerCommand } from './cli/local.ts';
import { addSubmitCommand } from './cli/submit.ts';
import { addTokensCommand } from './cli/tokens.ts';
import { addWorkersCommand } from './cli/workers.ts';
import { PACKAGE_ROOT } from './config.ts';

const { version } = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

/**
 * A reader that stopped reading (`browsergrid results … | head -1`) is not an error: the command
 * ends quietly, with status 0, as soon as a write finds the pipe closed.
 */
function isClosedPipe(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EPIPE';
}
process.stdout.on('error', (error) => {
  if (isClosedPipe(error)) process.exit(0);
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
});

const program = new Command('browsergrid')
  .description('Batch computing on browser tabs.')
  .version(version, '-V, --version', 'print the version')
  // Commander's own usage errors in the same voice as the rest: `browsergrid: unknown option …`.
  .configureOutput({
    outputError: (text, write) => write(text.replace(/^error: /, 'browsergrid: ')),
  });
addStartCommand(program);
addSubmitCommand(program);
addJobCommands(program);
addGridsCommand(program);
addGridCommand(program);
addTokensCommand(program);
addWorkersCommand(program);
addWorkerCommand(program);
addBackupCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (isClosedPipe(error)) process.exit(0);
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
});
