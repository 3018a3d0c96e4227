/**
 * @module `browsergrid status`, `results`, `wait` and `cancel`: reading, following and stopping jobs. A job is named
 * by its id or any unique prefix of it (the short id a volunteer's tab shows).
 */
import type { Command } from 'commander';
import type { JobSummary } from '../../shared/job.ts';
import { followToEnd } from './follow.ts';
import { jsonOption, printJson } from './output.ts';
import { clientOf, remote, type RemoteOptions } from './remote.ts';
import { saveResults } from './save-results.ts';

export function addJobCommands(program: Command): void {
  remote(program.command('status'))
    .alias('jobs')
    .description('show one job, or all jobs')
    .argument('[jobId]', 'a job id, or any unique prefix of one')
    .addOption(jsonOption())
    .action(async (jobId: string | undefined, options: RemoteOptions & { json?: boolean }) => {
      const client = clientOf(options);
      if (jobId) {
        const job = await (await client.findJob(jobId)).status();
        if (options.json) printJson(job);
        else process.stdout.write(`${statusLine(job)}\n`);
        return;
      }
      const jobs = await client.jobs();
      if (options.json) printJson(jobs);
      else for (const job of jobs) process.stdout.write(`${statusLine(job)}\n`);
    });

  remote(program.command('results'))
    .description("print a job's results as NDJSON, in input order")
    .argument('<jobId>', 'a job id, or any unique prefix of one')
    .action(async (jobId: string, options: RemoteOptions) => {
      await saveResults(await clientOf(options).findJob(jobId));
    });

  remote(program.command('wait'))
    .description(
      'follow a job to its end with progress; exit 1 unless it completed (Ctrl-C leaves it running)',
    )
    .argument('<jobId>', 'a job id, or any unique prefix of one')
    .option('--out <file>', 'when the job ends, write its results (NDJSON) here')
    .action(async (jobId: string, options: RemoteOptions & { out?: string }) => {
      const client = clientOf(options);
      const job = await client.findJob(jobId);
      await followToEnd(client, job, await job.status(), options.out);
    });

  remote(program.command('cancel'))
    .description('cancel a job')
    .argument('<jobId>', 'a job id, or any unique prefix of one')
    .action(async (jobId: string, options: RemoteOptions) => {
      const summary = await (await clientOf(options).findJob(jobId)).cancel();
      process.stdout.write(`${summary.id} ${summary.status}\n`);
    });
}

function statusLine(job: JobSummary): string {
  return `${job.id}  ${job.status.padEnd(9)}  ${job.done}/${job.tasks} tasks done, ${job.failed} failed, ${job.inFlight} in flight  ${job.name ?? ''}`;
}
