/** @module `browsergrid grids`: list grids, show one grid's roster, or create one. */
import type { Command } from 'commander';
import type { GridSummary } from '../../shared/job.ts';
import { clientOf, remote, type RemoteOptions } from './remote.ts';

export function addGridsCommand(program: Command): void {
  remote(program.command('grids'))
    .description("list grids, show one grid's roster, or create one with --create NAME")
    .argument('[code]')
    .option('--create <name>', 'create a grid and print its join code and link')
    .action(async (code: string | undefined, options: RemoteOptions & { create?: string }) => {
      const client = clientOf(options);
      if (options.create) {
        const grid = await client.createGrid(options.create);
        process.stdout.write(`${grid.code}  ${grid.name}  ${grid.joinUrl}\n`);
        return;
      }
      const grids = code ? [await client.grid(code)] : await client.grids();
      for (const grid of grids) process.stdout.write(gridLines(grid, code !== undefined));
    });
}

/** A grid's line, then with `roster` one line per device. */
function gridLines(grid: GridSummary, roster: boolean): string {
  const live = grid.devices.filter((device) => device.state !== 'gone').length;
  let text = `${grid.code}  ${grid.name}  ${live} tabs${grid.paused ? ' (paused)' : ''}  ${grid.joinUrl}\n`;
  if (!roster) return text;
  for (const device of grid.devices) {
    text += `  ${device.volunteerId}  ${device.state.padEnd(7)}  ${device.browser}  ${device.cores} cores  ${device.tasksDone} tasks\n`;
  }
  return text;
}
