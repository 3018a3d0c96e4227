/** @module Writing a job's results, as NDJSON in input order, to a file or stdout. */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Job } from '../sdk/index.ts';

/** Copies what the coordinator sends as it arrives, never holding the results whole. */
export async function saveResults(job: Job, file?: string): Promise<void> {
  const body = await job.download();
  if (file) await pipeline(body, createWriteStream(file));
  else await pipeline(body, process.stdout, { end: false });
}
