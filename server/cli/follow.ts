/**
 * @module Following a job to its end (`submit --wait`, `wait`): a progress bar on stderr (plain
 * lines off a terminal), a line when the coordinator goes away and comes back, a hint when no tab
 * could run the job, and on Ctrl-C the news that the job keeps running and how to follow it again.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { JobSummary } from '../../shared/job.ts';
import type { Client, Job } from '../sdk/index.ts';
import { describeError } from './errors.ts';
import { saveResults } from './save-results.ts';

/** How soon, and then how often, a followed job checks that some tab could run it. */
const TAB_CHECK_MS = 3_000;

/** Exit status after Ctrl-C, as shells report a SIGINT. */
const SIGINT_STATUS = 130;

/** Where the bar starts: a job just submitted, or one `wait` found part done. */
export type FollowStart = Pick<JobSummary, 'tasks' | 'done' | 'failed' | 'inFlight' | 'status'>;

/**
 * Follows `job` to its end, then writes its results to `out` if given; throws unless it
 * completed, so the command exits 1.
 */
export async function followToEnd(
  client: Client,
  job: Job,
  start: FollowStart,
  out?: string,
): Promise<JobSummary> {
  const summary = await follow(client, job, start);
  if (out) {
    await saveResults(job, out);
    process.stderr.write(`results written to ${out}\n`);
  }
  if (summary.status !== 'completed') {
    throw new Error(`[cli]: job ${job.id} ended ${summary.status}: ${summary.failed} tasks failed`);
  }
  return summary;
}

/** The 8 characters a volunteer's tab shows, which `wait` and `status` take as the id. */
function shortIdOf(jobId: string): string {
  return jobId.slice(0, 8);
}

/** A line on stderr that does not garble the bar drawn on a terminal. */
function note(line: string): void {
  process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
}

async function follow(client: Client, job: Job, start: FollowStart): Promise<JobSummary> {
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
  bar.start(start.tasks, start.done + start.failed, {
    inFlight: start.inFlight,
    failed: start.failed,
    status: start.status,
  });
  let latest: JobSummary | undefined;
  const offProgress = job.onProgress((summary) => {
    latest = summary;
    bar.update(summary.done + summary.failed, {
      inFlight: summary.inFlight,
      failed: summary.failed,
      status: summary.status,
    });
  });
  const offConnection = job.onConnection((change) => {
    if (change.state === 'lost') {
      note(`${describeError(change.error)}; retrying (job ${shortIdOf(job.id)} keeps running)`);
      bar.update({ status: 'reconnecting' });
    } else {
      note(`browsergrid: ${client.url} answers again; following job ${shortIdOf(job.id)}`);
    }
  });
  const tabs = watchForTabs(client, () => latest);
  const onSigint = (): void => {
    bar.stop();
    process.stderr.write(
      `\nbrowsergrid: job ${job.id} keeps running on ${client.url}; follow it again with: browsergrid wait ${shortIdOf(job.id)}\n`,
    );
    process.exit(SIGINT_STATUS);
  };
  process.once('SIGINT', onSigint);
  try {
    return await job.done();
  } finally {
    process.off('SIGINT', onSigint);
    tabs.stop();
    offConnection();
    offProgress();
    bar.stop();
  }
}

/**
 * Says when no tab is connected that could run the job (in its grid, if it has one), and when
 * one comes; quiet while the job has tasks in flight, which only a tab can hold.
 */
function watchForTabs(client: Client, latest: () => JobSummary | undefined): { stop(): void } {
  let none = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = async (): Promise<void> => {
    const summary = latest();
    if (!summary || summary.inFlight > 0) return;
    const grid = summary.grid;
    const count = (await client.workers()).filter((tab) => !grid || tab.grid === grid).length;
    if (count === 0 && !none) {
      const page = new URL('/', client.url);
      if (grid) page.searchParams.set('grid', grid);
      note(
        `browsergrid: no tab is connected${grid ? ` in grid ${grid}` : ''}, so the job waits: open ${page.href} in a browser, or run browsergrid worker --url ${client.url}${grid ? ` --grid ${grid}` : ''}`,
      );
    } else if (count > 0 && none) {
      note(`browsergrid: ${count} tab(s) connected`);
    }
    none = count === 0;
  };
  const schedule = (): void => {
    timer = setTimeout(() => {
      // A coordinator away is told by the follow itself; the next check tries again.
      void check()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) schedule();
        });
    }, TAB_CHECK_MS);
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
