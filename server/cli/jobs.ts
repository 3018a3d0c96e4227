/** @module `browsergrid status`, `results` and `cancel`: reading and stopping jobs. */
import type { Command } from 'commander';
import type { JobSummary } from '../../shared/job.ts';
import { clientOf, remote, type RemoteOptions } from './remote.ts';
import { saveResults } from './save-results.ts';

export function addJobCommands(program: Command): void {
  remote(program.command('status'))
    .description('show one job, or all jobs')
    .argument('[jobId]')
    .action(async (jobId: string | undefined, options: RemoteOptions) => {
      const client = clientOf(options);
      const jobs = jobId ? [await client.job(jobId).status()] : await client.jobs();
      for (const job of jobs) process.stdout.write(`${statusLine(job)}\n`);
    });

  remote(program.command('results'))
    .description("print a job's results as NDJSON, in input order")
    .argument('<jobId>')
    .action(async (jobId: string, options: RemoteOptions) => {
      await saveResults(clientOf(options).job(jobId));
    });

  remote(program.command('cancel'))
    .description('cancel a job')
    .argument('<jobId>')
    .action(async (jobId: string, options: RemoteOptions) => {
      const summary = await clientOf(options).job(jobId).cancel();
      process.stdout.write(`${summary.id} ${summary.status}\n`);
    });
}

function statusLine(job: JobSummary): string {
  return `${job.id}  ${job.status.padEnd(9)}  ${job.done}/${job.tasks} tasks done, ${job.failed} failed, ${job.inFlight} in flight  ${job.name ?? ''}`;
}
