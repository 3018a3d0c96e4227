/**
 * @module The `browsergrid` command line: start the coordinator, or talk to one over REST.
 * Token: --token, else BROWSERGRID_ADMIN_TOKEN, else the file the coordinator saved in the data dir.
 */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import {
  uploadFormatOf,
  type GridCreated,
  type GridSummary,
  type JobCreated,
  type JobSpecInput,
  type JobSummary,
} from '../shared/job.ts';
import { createRootLog } from './log.ts';
import { startCoordinator } from './main.ts';
import { BrowsergridError, connect, type Grid } from './sdk/index.ts';
import { supervise } from './supervise.ts';

interface RemoteOptions {
  url: string;
  token?: string;
  data: string;
}

const program = new Command('browsergrid').description('Batch computing on browser tabs.');

const remote = (command: Command): Command =>
  command
    .addOption(
      new Option('--url <url>', 'coordinator URL')
        .env('BROWSERGRID_URL')
        .default('http://localhost:8080'),
    )
    .addOption(new Option('--token <token>', 'admin token').env('BROWSERGRID_ADMIN_TOKEN'))
    .addOption(
      new Option('--data <dir>', 'data dir holding the saved admin token')
        .env('BROWSERGRID_DATA')
        .default('./data'),
    );

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

remote(program.command('submit'))
  .description(
    'submit a job: a map function file, inputs from a .json, .ndjson or .csv file or a range',
  )
  .requiredOption('--map <file>', 'file holding the map function source or an ES module')
  .option(
    '--inputs <file>',
    'inputs: a JSON array (.json); or one JSON value a line (.ndjson, .jsonl) or CSV rows under a header (.csv), streamed up as an upload',
  )
  .option('--range <start:end[:step]>', 'numeric range of inputs instead of a file')
  .option('--name <name>', 'job name')
  .option('--chunk-size <n>', 'items per task', toInt)
  .option('--timeout-ms <n>', 'task timeout', toInt)
  .option('--max-attempts <n>', 'attempts per task', toInt)
  .option('--priority <n>', 'higher runs first', toInt)
  .option('--redundancy <n>', 'matching results from distinct devices needed', toInt)
  .option('--grid <code>', 'run only on the tabs of this grid')
  .option('--no-speculation', 'no backup copies of slow tasks')
  .option('--description <text>', 'what the job computes, shown to volunteers')
  .option('--wait', 'show progress until the job ends; exit 1 unless it completed')
  .option('--out <file>', 'when the job ends, write its results (NDJSON) here (implies --wait)')
  .action(
    async (options: RemoteOptions & Record<string, string | number | boolean | undefined>) => {
      const spec: JobSpecInput = {
        map: readFileSync(String(options['map']), 'utf8'),
        inputs: await inputsOf(
          options,
          options['inputs'] as string | undefined,
          options['range'] as string | undefined,
        ),
        ...(options['name'] ? { name: String(options['name']) } : {}),
        ...(options['chunkSize'] ? { chunkSize: Number(options['chunkSize']) } : {}),
        ...(options['timeoutMs'] ? { timeoutMs: Number(options['timeoutMs']) } : {}),
        ...(options['maxAttempts'] ? { maxAttempts: Number(options['maxAttempts']) } : {}),
        ...(options['priority'] !== undefined ? { priority: Number(options['priority']) } : {}),
        ...(options['redundancy'] ? { redundancy: Number(options['redundancy']) } : {}),
        ...(options['grid'] ? { grid: String(options['grid']) } : {}),
        ...(options['speculation'] === false ? { speculation: false } : {}),
        ...(options['description'] ? { description: String(options['description']) } : {}),
      };
      // An upload made for this job goes once nothing needs it: on a refused submit, or once a
      // followed job ends. A job not followed still reads it (delete it with the REST API).
      const upload = !Array.isArray(spec.inputs) && 'upload' in spec.inputs && spec.inputs.upload;
      const dropUpload = async (): Promise<void> => {
        if (upload) await request(options, 'DELETE', `/api/uploads/${upload}`).catch(() => {});
      };
      const created = (await api(options, 'POST', '/api/jobs', spec).catch(async (error) => {
        await dropUpload();
        throw error;
      })) as JobCreated;
      process.stdout.write(`${JSON.stringify(created)}\n`);
      if (!options['wait'] && !options['out']) return;
      const summary = await follow(options, created);
      await dropUpload();
      if (options['out']) {
        const res = await request(options, 'GET', `/api/jobs/${created.id}/results`);
        await saveResults(res, String(options['out']));
        process.stderr.write(`results written to ${String(options['out'])}\n`);
      }
      if (summary.status !== 'completed') {
        throw new Error(
          `job ${created.id} ended ${summary.status}: ${summary.failed} tasks failed`,
        );
      }
    },
  );

remote(program.command('status'))
  .description('show one job, or all jobs')
  .argument('[jobId]')
  .action(async (jobId: string | undefined, options: RemoteOptions) => {
    const body = await api(options, 'GET', jobId ? `/api/jobs/${jobId}` : '/api/jobs');
    const jobs = (Array.isArray(body) ? body : [body]) as JobSummary[];
    for (const job of jobs) {
      process.stdout.write(
        `${job.id}  ${job.status.padEnd(9)}  ${job.done}/${job.tasks} tasks done, ${job.failed} failed, ${job.inFlight} in flight  ${job.name ?? ''}\n`,
      );
    }
  });

remote(program.command('results'))
  .description("print a job's results as NDJSON, in input order")
  .argument('<jobId>')
  .action(async (jobId: string, options: RemoteOptions) => {
    await saveResults(await request(options, 'GET', `/api/jobs/${jobId}/results`));
  });

remote(program.command('cancel'))
  .description('cancel a job')
  .argument('<jobId>')
  .action(async (jobId: string, options: RemoteOptions) => {
    const body = (await api(options, 'DELETE', `/api/jobs/${jobId}`)) as JobSummary;
    process.stdout.write(`${body.id} ${body.status}\n`);
  });

remote(program.command('grids'))
  .description("list grids, show one grid's roster, or create one with --create NAME")
  .argument('[code]')
  .option('--create <name>', 'create a grid and print its join code and link')
  .action(async (code: string | undefined, options: RemoteOptions & { create?: string }) => {
    if (options.create) {
      const grid = (await api(options, 'POST', '/api/grids', {
        name: options.create,
      })) as GridCreated;
      process.stdout.write(`${grid.code}  ${grid.name}  ${grid.joinUrl}\n`);
      return;
    }
    const body = await api(options, 'GET', code ? `/api/grids/${code}` : '/api/grids');
    for (const grid of (Array.isArray(body) ? body : [body]) as GridSummary[]) {
      const live = grid.devices.filter((device) => device.state !== 'gone').length;
      process.stdout.write(
        `${grid.code}  ${grid.name}  ${live} tabs${grid.paused ? ' (paused)' : ''}  ${grid.joinUrl}\n`,
      );
      if (code) {
        for (const device of grid.devices) {
          process.stdout.write(
            `  ${device.volunteerId}  ${device.state.padEnd(7)}  ${device.browser}  ${device.cores} cores  ${device.tasksDone} tasks\n`,
          );
        }
      }
    }
  });

remote(program.command('tokens'))
  .description('list admin tokens, create one with --create NAME, revoke one with --revoke ID')
  .option('--create <name>', 'create a token; it is printed once')
  .option('--revoke <tokenId>', 'revoke a token')
  .action(async (options: RemoteOptions & { create?: string; revoke?: string }) => {
    if (options.create) {
      const created = (await api(options, 'POST', '/api/tokens', { name: options.create })) as {
        tokenId: string;
        token: string;
      };
      process.stdout.write(`${created.tokenId}  ${created.token}\n(shown once: keep it now)\n`);
      return;
    }
    if (options.revoke) {
      await request(options, 'DELETE', `/api/tokens/${options.revoke}`);
      process.stdout.write(`${options.revoke} revoked\n`);
      return;
    }
    const tokens = (await api(options, 'GET', '/api/tokens')) as Array<{
      tokenId: string;
      name: string;
      createdAt: string;
      revokedAt?: string;
    }>;
    for (const token of tokens) {
      process.stdout.write(
        `${token.tokenId}  ${token.name}  created ${token.createdAt}${token.revokedAt ? `  revoked ${token.revokedAt}` : ''}\n`,
      );
    }
  });

program
  .command('worker')
  .description('run headless Chromium tabs as volunteers (a lab machine); SIGTERM stops them')
  .requiredOption('--url <url>', 'coordinator URL')
  .option('--grid <code>', 'join this grid')
  .option('--tabs <n>', 'tabs to run', toInt, 1)
  .option('--cores <n>', 'Web Workers per tab', toInt, 1)
  .action(async (options: { url: string; grid?: string; tabs: number; cores: number }) => {
    if (options.tabs < 1 || options.cores < 1)
      throw new Error('--tabs and --cores must be at least 1');
    const { startLabWorker } = await import('./worker/lab-worker.ts');
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
          process.stderr.write(`browsergrid worker: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

/** Polls the job until it ends, with a progress bar on a terminal (plain lines otherwise). */
async function follow(options: RemoteOptions, created: JobCreated): Promise<JobSummary> {
  const bar = new SingleBar(
    {
      format:
        '{bar} {percentage}% | {value}/{total} tasks | {inFlight} in flight | {failed} failed | {status}',
      noTTYOutput: true,
      notTTYSchedule: 2_000,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  bar.start(created.tasks, 0, { inFlight: 0, failed: 0, status: 'queued' });
  try {
    for (;;) {
      const summary = (await api(options, 'GET', `/api/jobs/${created.id}`)) as JobSummary;
      bar.update(summary.done + summary.failed, {
        inFlight: summary.inFlight,
        failed: summary.failed,
        status: summary.status,
      });
      if (['completed', 'failed', 'cancelled'].includes(summary.status)) return summary;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    bar.stop();
  }
}

function toInt(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n)) throw new Error(`expected an integer, got "${value}"`);
  return n;
}

/** A range or a JSON array goes in the job spec; NDJSON and CSV files stream up as an upload. */
async function inputsOf(
  options: RemoteOptions,
  file: string | undefined,
  range: string | undefined,
): Promise<JobSpecInput['inputs']> {
  if (range) {
    const [start, end, step] = range.split(':').map((part) => Number.parseInt(part, 10));
    if (start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end)) {
      throw new Error(`--range: expected start:end[:step], got "${range}"`);
    }
    return { range: { start, end, ...(step !== undefined ? { step } : {}) } };
  }
  if (!file) throw new Error('give --inputs <file> or --range <start:end>');
  if (!existsSync(file)) throw new Error(`--inputs: no file ${file}`);
  if (uploadFormatOf({ name: file })) {
    const upload = await gridOf(options)
      .upload(file)
      .catch((error: unknown) => {
        throw new Error(`uploading ${file}: ${(error as Error).message}`);
      });
    process.stderr.write(`uploaded ${upload.items} items from ${file} (${upload.id})\n`);
    return { upload: upload.id };
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JobSpecInput['inputs'];
  } catch (error) {
    throw new Error(
      `${file}: not JSON (${(error as Error).message}); use .ndjson or .csv for those formats`,
    );
  }
}

/** Copies a results response to a file or stdout as it arrives. */
async function saveResults(res: Response, file?: string): Promise<void> {
  if (!res.body) return;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  if (file) await pipeline(body, createWriteStream(file));
  else await pipeline(body, process.stdout, { end: false });
}

function tokenOf(options: RemoteOptions): string | undefined {
  if (options.token) return options.token;
  const file = path.join(options.data, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** A REST call through the SDK; a refusal becomes an error naming the call and its status. */
async function request(
  options: RemoteOptions,
  method: string,
  route: string,
  body?: unknown,
): Promise<Response> {
  try {
    return await gridOf(options).request(method, route, body);
  } catch (error) {
    if (!(error instanceof BrowsergridError)) throw error;
    throw new Error(`${method} ${route} failed (${error.status}): ${error.message}`);
  }
}

function gridOf(options: RemoteOptions): Grid {
  return connect(options.url, { token: tokenOf(options) ?? '' });
}

async function api(
  options: RemoteOptions,
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  return (await request(options, method, route, body)).json();
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`browsergrid: ${(error as Error).message}\n`);
  process.exit(1);
});
