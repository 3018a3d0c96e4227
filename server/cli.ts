/**
 * @module The `browsergrid` command line: start the coordinator or lab tabs here, or talk to a
 * coordinator through the SDK. Each command parses its options, calls the SDK and prints; any
 * error ends the process with status 1 and one `[cli]:` line on stderr.
 */
import { Command } from 'commander';
import { describeError } from './cli/errors.ts';
import { addGridsCommand } from './cli/grids.ts';
import { addJobCommands } from './cli/jobs.ts';
import { addStartCommand, addWorkerCommand } from './cli/local.ts';
import { addSubmitCommand } from './cli/submit.ts';
import { addTokensCommand } from './cli/tokens.ts';

const program = new Command('browsergrid').description('Batch computing on browser tabs.');
addStartCommand(program);
addSubmitCommand(program);
addJobCommands(program);
addGridsCommand(program);
addTokensCommand(program);
addWorkerCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
});
