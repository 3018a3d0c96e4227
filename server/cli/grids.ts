/**
 * @module `browsergrid grids`: list grids, show one grid's roster, or create one; and `browsergrid
 * grid pause|resume <code> [--tab <volunteerId>]`.
 */
import type { Command } from 'commander';
import type { GridSummary } from '../../shared/job.ts';
import { jsonOption, printJson } from './output.ts';
import { clientOf, remote, type RemoteOptions } from './remote.ts';

interface GridsOptions extends RemoteOptions {
  create?: string;
  json?: boolean;
}

export function addGridsCommand(program: Command): void {
  remote(program.command('grids'))
    .description("list grids, show one grid's roster, or create one with --create NAME")
    .argument('[code]')
    .option('--create <name>', 'create a grid and print its join code and link')
    .addOption(jsonOption())
    .action(async (code: string | undefined, options: GridsOptions) => {
      const client = clientOf(options);
      if (options.create) {
        const grid = await client.createGrid(options.create);
        if (options.json) printJson(grid);
        else process.stdout.write(`${grid.code}  ${grid.name}  ${grid.joinUrl}\n`);
        return;
      }
      if (code) {
        const grid = await client.grid(code);
        if (options.json) printJson(grid);
        else process.stdout.write(gridLines(grid, true));
        return;
      }
      const grids = await client.grids();
      if (options.json) printJson(grids);
      else for (const grid of grids) process.stdout.write(gridLines(grid, false));
    });
}

export function addGridCommand(program: Command): void {
  const grid = program.command('grid').description("pause or resume a grid's tabs, or one tab");
  for (const [action, done] of [
    ['pause', 'paused'],
    ['resume', 'resumed'],
  ] as const) {
    remote(grid.command(action))
      .description(
        action === 'pause'
          ? "pause a grid's tabs (or one with --tab): they stop taking work and hand back what they hold"
          : "resume a grid's tabs (or one with --tab)",
      )
      .argument('<code>', "the grid's join code")
      .option('--tab <volunteerId>', "only this tab (its id in the grid's roster)")
      .addOption(jsonOption())
      .action(async (code: string, options: RemoteOptions & { tab?: string; json?: boolean }) => {
        const client = clientOf(options);
        const target = options.tab ? { volunteerId: options.tab } : {};
        const result =
          action === 'pause'
            ? await client.pauseGrid(code, target)
            : await client.resumeGrid(code, target);
        if (options.json) {
          printJson(result);
          return;
        }
        const what = options.tab ? `tab ${options.tab} of ${result.code}` : result.code;
        process.stdout.write(`${what} ${done}: ${result.changed} tab(s) told\n`);
      });
  }
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
