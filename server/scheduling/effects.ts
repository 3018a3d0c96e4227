/**
 * @module What a scheduling decision asks the engine to do: messages to send and state to
 * persist, as data. The scheduler and the rules beside it return these; the engine applies them.
 */
import type { ItemOutcome, JobStatus } from '../../shared/job.ts';
import type { CancelBatch, JobCode, TaskCheckpoint } from '../../shared/protocol.ts';
import type { CopyEnd } from '../../shared/timeline.ts';
import type { InputSource, ItemSpan } from '../store/input-source.ts';
import type { JobEntry, Lease } from './state.ts';

/**
 * A task leased to a tab, as the scheduler plans it: which items, not their values. The engine
 * reads `span` from `source` and sends the tab an `Assignment`.
 */
export interface PlannedTask {
  leaseId: string;
  jobId: string;
  taskIndex: number;
  span: ItemSpan;
  source: InputSource;
  /** The latest checkpoint the coordinator holds for this task, if any. */
  checkpoint?: TaskCheckpoint;
}

export type Effect =
  | { type: 'dispatch'; volunteerId: string; jobs: JobCode[]; tasks: PlannedTask[] }
  | { type: 'cancel'; volunteerId: string; leaseIds: string[]; reason: CancelBatch['reason'] }
  | {
      type: 'settle';
      jobId: string;
      taskIndex: number;
      status: 'committed' | 'failed';
      items: ItemOutcome[];
      attempts: number;
    }
  | { type: 'attempt'; jobId: string; taskIndex: number; attempts: number; drops: number }
  /** The job's status changed; `job` is its state at that moment (it may have left the scheduler). */
  | { type: 'job'; jobId: string; status: JobStatus; at: number; job: Readonly<JobEntry> }
  /** A copy ended; `won` when its result is the one that committed. */
  | { type: 'copy-ended'; lease: Lease; end: CopyEnd; won: boolean; at: number }
  | { type: 'checkpoint'; jobId: string; taskIndex: number; checkpoint: TaskCheckpoint }
  /** A result another node forwarded was acted on: its row goes with this batch's settles. */
  | { type: 'forward-taken'; forwardId: number }
  /** A device lost trust or was banned; its uncommitted results were discarded. */
  | { type: 'distrust'; deviceId: string; banned: boolean }
  /**
   * A task's voters were judged (adaptive trust): the devices whose standing moves, so every
   * node learns it. One per task, not per vote.
   */
  | { type: 'judged'; agreed: string[]; disagreed: string[] };
