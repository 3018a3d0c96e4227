/**
 * @module `browsergrid submit`: a job from a map file and inputs from a file or a range, optionally
 * followed to its end with its results saved.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { uploadFormatOf, type JobSpecInput } from '../../shared/job.ts';
import type { Client } from '../sdk/index.ts';
import { followToEnd } from './follow.ts';
import { readTextFile, reasonOf } from './read-file.ts';
import { clientOf, remote, wholeNumber, type RemoteOptions } from './remote.ts';

interface SubmitOptions extends RemoteOptions {
  map: string;
  inputs?: string;
  range?: string;
  name?: string;
  chunkSize?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  priority?: number;
  redundancy?: number;
  grid?: string;
  /** False with --no-speculation. */
  speculation: boolean;
  description?: string;
  wait?: boolean;
  out?: string;
}

export function addSubmitCommand(program: Command): void {
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
    .option('--name <name>', "job name (default: the map file's name)")
    .option('--chunk-size <n>', 'items per task', wholeNumber('--chunk-size', 1))
    .option('--timeout-ms <n>', 'task timeout', wholeNumber('--timeout-ms', 1))
    .option('--max-attempts <n>', 'attempts per task', wholeNumber('--max-attempts', 1))
    .option('--priority <n>', 'higher runs first', wholeNumber('--priority'))
    .option(
      '--redundancy <n>',
      'matching results from distinct devices needed',
      wholeNumber('--redundancy', 1),
    )
    .option('--grid <code>', 'run only on the tabs of this grid')
    .option('--no-speculation', 'no backup copies of slow tasks')
    .option('--description <text>', 'what the job computes, shown to volunteers')
    .option(
      '--wait',
      'show progress until the job ends; exit 1 unless it completed (Ctrl-C leaves it running)',
    )
    .option('--out <file>', 'when the job ends, write its results (NDJSON) here (implies --wait)')
    .action(submit);
}

async function submit(options: SubmitOptions): Promise<void> {
  const map = readTextFile('map file', options.map);
  const client = clientOf(options);
  const spec: JobSpecInput = {
    map,
    inputs: await inputsOf(client, options.inputs, options.range),
    // Unnamed, a job is called after its map file, so lists tell jobs apart.
    name: options.name ?? path.basename(options.map).slice(0, 200),
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
    ...(options.redundancy ? { redundancy: options.redundancy } : {}),
    ...(options.grid ? { grid: options.grid } : {}),
    ...(options.speculation === false ? { speculation: false } : {}),
    ...(options.description ? { description: options.description } : {}),
  };
  // An upload made for this job goes once nothing needs it: on a refused submit, or once a
  // followed job ends. A job not followed still reads it (delete it with the REST API).
  const upload = !Array.isArray(spec.inputs) && 'upload' in spec.inputs && spec.inputs.upload;
  const dropUpload = async (): Promise<void> => {
    // Best effort: the job's own outcome is what the command reports.
    if (upload) await client.deleteUpload(upload).catch(() => undefined);
  };
  const job = await client.submit(spec).catch(async (error: unknown) => {
    await dropUpload();
    throw error;
  });
  process.stdout.write(`${JSON.stringify(job.created)}\n`);
  if (!options.wait && !options.out) return;
  try {
    const { tasks } = job.created;
    await followToEnd(
      client,
      job,
      { tasks, done: 0, failed: 0, inFlight: 0, status: 'queued' },
      options.out,
    );
  } finally {
    await dropUpload();
  }
}

/** A range or a JSON array goes in the job spec; NDJSON and CSV files stream up as an upload. */
async function inputsOf(
  client: Client,
  file: string | undefined,
  range: string | undefined,
): Promise<JobSpecInput['inputs']> {
  if (range) {
    const parts = range.split(':');
    const [start, end, step] = parts.map(Number);
    if (
      parts.length < 2 ||
      parts.length > 3 ||
      parts.some((part) => !/^-?\d+$/.test(part.trim())) ||
      start === undefined ||
      end === undefined
    ) {
      throw new Error(
        `[cli]: --range must be start:end[:step] in whole numbers, got ${JSON.stringify(range)}`,
      );
    }
    return { range: { start, end, ...(step !== undefined ? { step } : {}) } };
  }
  if (!file) throw new Error('[cli]: give --inputs <file> or --range <start:end>');
  if (uploadFormatOf({ name: file })) {
    // Read once here, so a missing file is told in words before anything is sent.
    readableOrThrow(file);
    const upload = await client.upload(file).catch((error: unknown) => {
      throw new Error(`[cli]: uploading ${file}: ${(error as Error).message}`);
    });
    process.stderr.write(`uploaded ${upload.items} items from ${file} (${upload.id})\n`);
    return { upload: upload.id };
  }
  const text = readTextFile('inputs file', file);
  try {
    return JSON.parse(text) as JobSpecInput['inputs'];
  } catch (error) {
    throw new Error(
      `[cli]: ${file}: not JSON (${(error as Error).message}); use .ndjson or .csv for those formats`,
    );
  }
}

function readableOrThrow(file: string): void {
  try {
    accessSync(file, constants.R_OK);
    if (statSync(file).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
  } catch (error) {
    throw new Error(`[cli]: cannot read inputs file ${file}: ${reasonOf(error)}`, { cause: error });
  }
}
