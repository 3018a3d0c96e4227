/** @module Following a job to its end with a progress bar on stderr (plain lines off a terminal). */
import { Presets, SingleBar } from 'cli-progress';
import type { JobSummary } from '../../shared/job.ts';
import type { Job } from '../sdk/index.ts';

export async function followWithBar(job: Job, tasks: number): Promise<JobSummary> {
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
  bar.start(tasks, 0, { inFlight: 0, failed: 0, status: 'queued' });
  const off = job.onProgress((summary) => {
    bar.update(summary.done + summary.failed, {
      inFlight: summary.inFlight,
      failed: summary.failed,
      status: summary.status,
    });
  });
  try {
    return await job.done();
  } finally {
    off();
    bar.stop();
  }
}
