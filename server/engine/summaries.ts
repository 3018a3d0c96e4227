/**
 * @module What the engine reports about jobs and copies: job summaries built from the live
 * scheduler state or the stored record, and the shape one copy of a task takes on the timeline.
 */
import type { JobSpec, JobSummary } from '../../shared/job.ts';
import type { JobEntry, Lease } from '../scheduling/state.ts';
import type { CopyRecord, StoredJob } from '../store/store.ts';

/** A copy as the timeline and the store record it: everything but how it ended. */
export function copyView(
  lease: Lease,
): Pick<
  CopyRecord,
  'leaseId' | 'volunteerId' | 'kind' | 'dispatchedAt' | 'startedAt' | 'fraction'
> {
  return {
    leaseId: lease.leaseId,
    volunteerId: lease.volunteerId,
    kind: lease.kind,
    dispatchedAt: lease.dispatchedAt,
    ...(lease.startedAt !== undefined ? { startedAt: lease.startedAt } : {}),
    ...(lease.fraction !== undefined ? { fraction: lease.fraction } : {}),
  };
}

export function liveSummary(job: Readonly<JobEntry>): JobSummary {
  return summarize(job.jobId, job.spec, job.status, {
    items: job.items,
    tasks: job.taskCount,
    done: job.done,
    failed: job.failed,
    inFlight: job.inFlight,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  });
}

export function storedSummary(job: StoredJob): JobSummary {
  const summary = summarize(job.jobId, job.spec, job.status, { ...job, inFlight: 0 });
  if (!job.spec.reduce) return summary;
  const reduced = job.reduced;
  return {
    ...summary,
    reduce:
      reduced === undefined
        ? { status: 'pending' }
        : 'value' in reduced
          ? { status: 'done', value: reduced.value }
          : { status: 'error', error: reduced.error },
  };
}

function summarize(
  jobId: string,
  spec: JobSpec,
  status: JobSummary['status'],
  counts: {
    items: number;
    tasks: number;
    done: number;
    failed: number;
    inFlight: number;
    createdAt: number;
    startedAt?: number | undefined;
    finishedAt?: number | undefined;
  },
): JobSummary {
  const iso = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(ms).toISOString();
  return {
    id: jobId,
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    status,
    items: counts.items,
    tasks: counts.tasks,
    done: counts.done,
    failed: counts.failed,
    inFlight: counts.inFlight,
    priority: spec.priority,
    ...(spec.grid !== undefined ? { grid: spec.grid } : {}),
    createdAt: iso(counts.createdAt) as string,
    ...(counts.startedAt !== undefined ? { startedAt: iso(counts.startedAt) as string } : {}),
    ...(counts.finishedAt !== undefined ? { finishedAt: iso(counts.finishedAt) as string } : {}),
    ...(spec.reduce ? { reduce: { status: 'pending' as const } } : {}),
  };
}
