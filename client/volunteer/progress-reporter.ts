/**
 * @module Tells the coordinator which copies this tab is running, how far along they are and
 * where they last saved. Throttled to one message each per PROGRESS_REPORT_MS; copies that start
 * and finish in between are never mentioned, so tiny tasks cost nothing here.
 */
import { MAX_RESULTS_PER_MESSAGE } from '../../shared/limits.ts';
import type { CheckpointReport, ProgressBatch } from '../../shared/protocol.ts';

/** The part of the tab's socket the reporter uses: two events without acknowledgement. */
export interface ProgressSocket {
  readonly connected: boolean;
  emit(event: 'task:progress', batch: ProgressBatch): unknown;
  emit(event: 'task:checkpoint', report: CheckpointReport): unknown;
}

/** Least time between two progress (and checkpoint) reports to the coordinator. */
const PROGRESS_REPORT_MS = 1_000;

interface RunningCopy {
  startedAt: number;
  fraction?: number;
  /** Whether the coordinator has heard of this copy; whether it has news since. */
  reported?: boolean;
  dirty?: boolean;
  /** Latest checkpoint not yet sent. */
  checkpoint?: CheckpointReport;
}

export class ProgressReporter {
  /** The connection while the coordinator has welcomed this tab; else undefined. */
  readonly #socket: () => ProgressSocket | undefined;
  /** Copies running in a worker. */
  readonly #running = new Map<string, RunningCopy>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: () => ProgressSocket | undefined) {
    this.#socket = socket;
  }

  started(leaseId: string): void {
    this.#running.set(leaseId, { startedAt: performance.now() });
    this.#schedule();
  }

  progressed(leaseId: string, fraction: number): void {
    const running = this.#running.get(leaseId);
    if (!running) return;
    running.fraction = fraction;
    running.dirty = true;
    this.#schedule();
  }

  checkpointed(report: CheckpointReport): void {
    const running = this.#running.get(report.leaseId);
    if (!running) return;
    running.checkpoint = report;
    this.#schedule();
  }

  finished(leaseId: string): void {
    this.#running.delete(leaseId);
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#report();
    }, PROGRESS_REPORT_MS);
  }

  #report(): void {
    const socket = this.#socket();
    if (!socket?.connected) {
      if (this.#running.size > 0) this.#schedule();
      return;
    }
    const now = performance.now();
    const updates: ProgressBatch['updates'] = [];
    for (const [leaseId, running] of this.#running) {
      if (!running.reported || running.dirty) {
        updates.push({
          leaseId,
          elapsedMs: Math.round(now - running.startedAt),
          ...(running.fraction !== undefined ? { fraction: running.fraction } : {}),
        });
        running.reported = true;
        running.dirty = false;
      }
      if (running.checkpoint) {
        socket.emit('task:checkpoint', running.checkpoint);
        running.checkpoint = undefined;
      }
    }
    for (let i = 0; i < updates.length; i += MAX_RESULTS_PER_MESSAGE) {
      socket.emit('task:progress', { updates: updates.slice(i, i + MAX_RESULTS_PER_MESSAGE) });
    }
  }
}
