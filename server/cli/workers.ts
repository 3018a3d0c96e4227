/** @module `browsergrid workers`: the tabs connected now, in every grid and none. */
import type { Command } from 'commander';
import { jsonOption, printJson } from './output.ts';
import { clientOf, remote, type RemoteOptions } from './remote.ts';

export function addWorkersCommand(program: Command): void {
  remote(program.command('workers'))
    .description('list the tabs connected now: who can run a job')
    .addOption(jsonOption())
    .action(async (options: RemoteOptions & { json?: boolean }) => {
      const workers = await clientOf(options).workers();
      if (options.json) {
        printJson(workers);
        return;
      }
      if (workers.length === 0) process.stderr.write('no tab is connected\n');
      for (const worker of workers) {
        const taskMs = worker.taskMs === undefined ? '' : `  ${Math.round(worker.taskMs)} ms/task`;
        process.stdout.write(
          `${worker.volunteerId}  ${worker.grid ?? '(public)'}  ${worker.slots} slots  ${worker.holding} holding  ${worker.tasksDone} tasks${taskMs}\n`,
        );
      }
    });
}
