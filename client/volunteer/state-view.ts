/**
 * @module The one sentence the volunteer page leads with: not started, connecting, waiting for
 * work, working on which job for whom, paused and by whom, offline or refused. Pure: the page
 * feeds it the runtime's status and what only the page knows (consent, the battery pause).
 */
import { plainError } from './plain-errors.ts';
import type { CurrentJob, RuntimeStatus } from './runtime.ts';

export type PageState =
  'idle' | 'connecting' | 'refused' | 'offline' | 'blocked' | 'paused' | 'waiting' | 'working';

export interface StateView {
  state: PageState;
  title: string;
  detail: string;
  /** The current job's description, if it has one. */
  about?: string;
}

export interface PageFacts {
  /** The runtime's status; undefined before the first Start. */
  status?: RuntimeStatus;
  hasConsent: boolean;
  /** The page paused the tab because the device runs on battery. */
  onBattery: boolean;
  /** Jobs to keep showing while a busy tab is between two batches (see main.ts). */
  recentJobs: readonly CurrentJob[];
}

export function jobLabel(job: CurrentJob): string {
  return job.name ?? `job ${job.jobId.slice(0, 8)}`;
}

export function describeState(facts: PageFacts): StateView {
  const { status } = facts;
  if (!status || status.state === 'stopped') {
    return {
      state: 'idle',
      title: 'Not started',
      detail: facts.hasConsent
        ? "Press Start to lend this computer's spare processor time."
        : "Press Agree and start to lend this computer's spare processor time.",
    };
  }
  if (status.pausedBy === 'coordinator') {
    return {
      state: 'blocked',
      title: 'Blocked',
      detail: "This device has been blocked by the site's admin.",
    };
  }
  if (status.state !== 'connected') {
    if (status.lastError?.source === 'hello') {
      return { state: 'refused', title: 'Could not join', detail: plainError(status.lastError) };
    }
    return status.state === 'connecting'
      ? { state: 'connecting', title: 'Connecting…', detail: 'Reaching the coordinator.' }
      : {
          state: 'offline',
          title: 'Connection lost',
          detail: 'Trying again. Finished work is kept and sent once the connection is back.',
        };
  }
  if (status.pausedBy === 'grid') {
    return {
      state: 'paused',
      title: 'Paused by the grid admin',
      detail: 'The whole grid is paused. Work starts again when the admin resumes it.',
    };
  }
  if (status.adminPaused !== undefined) {
    return {
      state: 'paused',
      title: 'Paused by the grid admin',
      detail: 'The admin paused this tab. Work starts again when they resume it.',
    };
  }
  if (facts.onBattery) {
    return {
      state: 'paused',
      title: 'Paused on battery',
      detail: 'Work starts again when this computer is plugged in.',
    };
  }
  if (status.paused) {
    return {
      state: 'paused',
      title: 'Paused by you',
      detail: 'Press Resume to lend processor time again.',
    };
  }
  const jobs = status.jobs.length > 0 ? status.jobs : facts.recentJobs;
  if (jobs.length === 0) {
    return {
      state: 'waiting',
      title: 'Waiting for work',
      detail: 'Connected and ready. Work starts as soon as a job is submitted.',
    };
  }
  const owners = [...new Set(jobs.map((job) => job.submittedBy).filter(Boolean))];
  const about = jobs.find((job) => job.description)?.description;
  return {
    state: 'working',
    title: `Working on ${jobs.map(jobLabel).join(', ')}`,
    detail: owners.length > 0 ? `for ${owners.join(', ')}` : 'for this site',
    ...(about ? { about } : {}),
  };
}
