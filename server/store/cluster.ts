/**
 * @module The shared record that lets several coordinators (nodes) run on one database: which
 * nodes are alive, and which node runs which tasks. Every backend implements it; on SQLite there
 * is only ever one node, and the same code paths run.
 *
 * - A node joins with a fresh **epoch**, larger than every epoch before it. It renews a heartbeat;
 *   a node silent for too long is declared dead by any other node (`reapNodes`), and its claims
 *   are released for others to take. A dead node's heartbeat fails: it must stop (it is fenced).
 * - A node **claims** tasks in ranges: a released range first (a dead node's, or one handed
 *   back), else fresh tasks past the job's claimed frontier. Only the claim holder commits a
 *   task: `JobStore.apply` with a `fence` refuses settles outside the node's live claims, so a
 *   node that was paused and presumed dead cannot commit anything stale.
 * - Times of heartbeats are the database's own clock, so nodes' clocks need not agree.
 */
import type { ClusterEvent } from '../../shared/cluster-events.ts';
import type { TaskCheckpoint, TaskResult } from '../../shared/protocol.ts';
import type { WorkerView } from '../../shared/workers.ts';

export interface NodeRecord {
  nodeId: string;
  epoch: number;
  /** Where tabs and admins reach this node, if it said. */
  url?: string;
  startedAt: number;
  heartbeatAt: number;
}

/** Tasks `[start, end)` of a job, claimed by one node. */
export interface ClaimedRange {
  jobId: string;
  start: number;
  end: number;
}

/** What a node needs to run a claimed range: what is already settled, spent or saved in it. */
export interface RangeState {
  /** Settled task indices within the range, ascending. */
  settled: number[];
  attempts: Array<{ taskIndex: number; attempts: number; drops: number }>;
  checkpoints: Array<{ taskIndex: number; checkpoint: TaskCheckpoint }>;
}

/**
 * A result that reached a node which does not hold its task's claim (its tab moved nodes), left
 * in the store for the holder. The holder deletes it in the same transaction as the settle it
 * leads to (`StoreChange` 'forward-taken'), so a crash in between loses nothing.
 */
export interface ForwardedResult {
  forwardId: number;
  jobId: string;
  taskIndex: number;
  /** The tab that sent it, and its device and address as the receiving node saw them. */
  volunteerId: string;
  deviceId: string;
  address?: string;
  result: TaskResult;
}

/** Whose claims `JobStore.apply` checks settles against. */
export interface Fence {
  epoch: number;
}

export interface ClusterStore {
  /** Joins as a new node; its epoch is larger than any epoch before it. */
  joinCluster(node: { nodeId: string; url?: string }): Promise<NodeRecord>;
  /**
   * Renews the node's heartbeat. False when the node is no longer live (declared dead, or left):
   * it is fenced and must stop.
   */
  heartbeat(epoch: number): Promise<boolean>;
  /**
   * Declares dead every live node whose heartbeat is older than `silentMs` (by the database's
   * clock), and releases their claims; returns their epochs. A silent node with a transaction
   * still open (frozen mid-commit) is left for a later call rather than waited on.
   */
  reapNodes(silentMs: number): Promise<number[]>;
  /** Says where tabs reach the live node `epoch` (known once it listens); a no-op if not live. */
  announceUrl(epoch: number, url: string): Promise<void>;
  /** Leaves cleanly: the node is no longer live and its claims are released at once. */
  leaveCluster(epoch: number): Promise<void>;
  /** Live nodes, oldest epoch first. */
  liveNodes(): Promise<NodeRecord[]>;
  /**
   * Claims about `tasks` tasks of a job for the live node `epoch`: released ranges of the job
   * first, in task order, each whole (so possibly more than `tasks`), until they make `tasks`;
   * else the next `tasks` fresh ones past the job's claimed frontier. Empty when the job has
   * nothing unclaimed, or is finished or unknown. Fails with `fenced` when `epoch` is not live.
   */
  claimTasks(jobId: string, epoch: number, tasks: number): Promise<ClaimedRange[]>;
  /**
   * The ranges of a job `epoch` holds, in task order: after a claim whose answer was lost (the
   * database may have committed it), the node finds out what it holds.
   */
  heldRanges(jobId: string, epoch: number): Promise<ClaimedRange[]>;
  /** Settled tasks, attempts and checkpoints within a range, for the node that claimed it. */
  rangeState(range: ClaimedRange): Promise<RangeState>;
  /**
   * Hands a range back unrun (its tasks go to whoever claims next); `range` exactly as claimed.
   * A no-op if `epoch` does not hold it.
   */
  releaseRange(range: ClaimedRange, epoch: number): Promise<void>;
  /**
   * Up to `limit` tasks of a job, from task `from` on, that other live nodes hold and that have
   * neither settled nor a result forwarded, lowest first: backups a node whose tabs sit idle at
   * the job's end may run (their results are forwarded to the holder, which commits the first).
   * A caller passes the lowest task the last call found, so the settled part of the job is read
   * once, not on every call.
   */
  unsettledElsewhere(jobId: string, epoch: number, from: number, limit: number): Promise<number[]>;
  /**
   * Which of these tasks of a job have settled or have a result forwarded: a node ends its backups
   * of other nodes' tasks that are done.
   */
  closedAmong(jobId: string, taskIndexes: readonly number[]): Promise<number[]>;
  /** Forgets the job's claims, and results forwarded for it, once it finished. */
  dropClaims(jobId: string): Promise<void>;
  /**
   * Leaves results for whichever nodes hold (or will hold) their tasks, in one write; durable on
   * resolve, all or none.
   */
  forwardResults(forwarded: ReadonlyArray<Omit<ForwardedResult, 'forwardId'>>): Promise<void>;
  /**
   * Forwarded results of tasks within `epoch`'s live claims, oldest first, at most `limit`, from
   * after `afterId` (a page's last `forwardId`) on.
   */
  forwardedResults(epoch: number, limit: number, afterId?: number): Promise<ForwardedResult[]>;
  /**
   * A secret every node shares (lease and device-id signing keys): the stored one, or `fresh`
   * stored now if there is none yet. Concurrent first calls all get the same value.
   */
  sharedSecret(name: string, fresh: string): Promise<string>;
  /** Replaces the list of tabs connected to node `epoch`. */
  publishTabs(epoch: number, tabs: WorkerView[]): Promise<void>;
  /** Tabs of every live node, each with its node's id in `node`. */
  clusterTabs(): Promise<WorkerView[]>;
}

/**
 * Events between nodes. `publish` resolves once the event is on its way to every node listening
 * (this one included); a listener gets each event at most once, checked against `ClusterEvent`,
 * and events lost while a node's connection was down are not replayed (a node re-reads the
 * store when it reconnects: events are hints, the store is the truth).
 */
export interface ClusterEvents {
  publish(event: ClusterEvent): Promise<void>;
  /** Returns the unsubscribe. */
  subscribe(listener: (event: ClusterEvent) => void): () => void;
  /**
   * Calls `listener` each time the connection to the other nodes is back after a loss: events
   * sent meanwhile are gone, so the node re-reads the store. Returns the unsubscribe.
   */
  onResumed(listener: () => void): () => void;
}
