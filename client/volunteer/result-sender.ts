/**
 * @module The tab's result sender: every finished result is stored before it is sent, forgotten
 * only when the coordinator acknowledges (or refuses) its lease, and sent again on every new
 * connection and after an acknowledgement that never comes. Storage is behind `ResultStore`
 * (IndexedDB in the page, see outbox.ts), the connection behind `ResultSocket`.
 *
 * No timer drives the hot path (hidden tabs clamp main-thread timers): results are stored a batch
 * per event-loop turn, one write and one message in flight, so batches grow with load.
 */
import { MAX_RESULTS_PER_MESSAGE, RESULTS_MESSAGE_TARGET_CHARS } from '../../shared/limits.ts';
import type { Ack, ResultAck, ResultBatch, TaskResult } from '../../shared/protocol.ts';
import { nextTurn } from './next-turn.ts';

/** Where results wait for their acknowledgement; the page's is the IndexedDB `Outbox`. */
export interface ResultStore {
  /** Stores results (durably, before they are sent). */
  put(results: readonly TaskResult[]): Promise<void>;
  /** Forgets the results of these leases. */
  delete(leaseIds: readonly string[]): Promise<void>;
  /** Every stored result, oldest first. */
  all(): Promise<TaskResult[]>;
}

/** The part of the tab's socket.io socket the sender uses: an emit with a timed acknowledgement. */
export interface ResultSocket {
  readonly connected: boolean;
  timeout(ms: number): {
    emitWithAck(event: 'task:results', batch: ResultBatch): Promise<Ack<ResultAck>>;
  };
}

export interface ResultSenderOptions {
  store: ResultStore;
  /** The connection to send on while the coordinator has welcomed this tab; else undefined. */
  socket: () => ResultSocket | undefined;
  /** Runs after each stored batch, before it is sent (the tab forgets those tasks' checkpoints). */
  onStored?: (results: readonly TaskResult[]) => Promise<void>;
  /** The counts (`unsent`, `done`, `cpuMs`) changed. */
  onChange: () => void;
  onError: (message: string) => void;
  ackTimeoutMs?: number;
  resendAfterMs?: number;
}

const RESULT_ACK_TIMEOUT_MS = 30_000;
/** Pause before sending a batch again that got no acknowledgement on a live connection. */
const RESEND_AFTER_MS = 2_000;

export class ResultSender {
  readonly #options: ResultSenderOptions;
  readonly #ackTimeoutMs: number;
  readonly #resendAfterMs: number;
  /** Results finished but not yet stored. */
  #fresh: TaskResult[] = [];
  /** Results stored, not yet sent on the current connection. */
  #stored: TaskResult[] = [];
  #storing = false;
  /** Bumped on every registration; a send loop of an older connection stops. */
  #epoch = 0;
  #sending: number | undefined;
  #unsent = 0;
  #done = 0;
  #cpuMs = 0;

  constructor(options: ResultSenderOptions) {
    this.#options = options;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? RESULT_ACK_TIMEOUT_MS;
    this.#resendAfterMs = options.resendAfterMs ?? RESEND_AFTER_MS;
  }

  /** Results stored and waiting for an acknowledgement. */
  get unsent(): number {
    return this.#unsent;
  }

  /** Results acknowledged by the coordinator, and their run time in ms. */
  get done(): number {
    return this.#done;
  }

  get cpuMs(): number {
    return this.#cpuMs;
  }

  /** Counts what an earlier run of the tab left unacknowledged. */
  async load(): Promise<void> {
    this.#unsent = (await this.#options.store.all()).length;
  }

  /** Takes a finished result: stored, then sent. */
  add(result: TaskResult): void {
    this.#fresh.push(result);
    void this.#store();
  }

  /** The coordinator welcomed this tab on a new connection: everything stored goes out again. */
  async connected(): Promise<void> {
    // Everything stored was never acknowledged: send it again on this connection.
    this.#epoch++;
    this.#stored = await this.#options.store.all();
    this.#unsent = this.#stored.length;
    this.#options.onChange();
    void this.#send(this.#epoch);
  }

  /**
   * Stores finished results, one write in flight: whatever finishes during a write goes into the
   * next one, so batches grow with load without any timer.
   */
  async #store(): Promise<void> {
    if (this.#storing) return;
    this.#storing = true;
    try {
      // Results finishing in this turn (a worker's whole batch) go into the same write.
      await nextTurn();
      while (this.#fresh.length > 0) {
        const fresh = this.#fresh.splice(0);
        // Stored before sent: if the tab dies between the two, the next start resends it.
        await this.#options.store.put(fresh);
        this.#stored.push(...fresh);
        await this.#options.onStored?.(fresh);
        this.#unsent += fresh.length;
        this.#options.onChange();
        void this.#send(this.#epoch);
      }
    } catch (error) {
      this.#options.onError(`[outbox]: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.#storing = false;
    }
  }

  /**
   * Sends stored results, one message in flight per connection; results stored meanwhile go in
   * the next message. Runs beside `#store`, so storing never waits for the network.
   */
  async #send(epoch: number): Promise<void> {
    if (this.#sending === epoch) return;
    this.#sending = epoch;
    let inFlight: TaskResult[] | undefined;
    try {
      while (this.#epoch === epoch && this.#stored.length > 0) {
        const socket = this.#options.socket();
        if (!socket?.connected) return;
        const batch = this.#stored.splice(0, this.#messageSize());
        inFlight = batch;
        const res = await socket
          .timeout(this.#ackTimeoutMs)
          .emitWithAck('task:results', { results: batch });
        if (!res.ok && res.error.code !== 'invalid_input') {
          // Refused whole for now (rate limit, a coordinator restarting): try again later.
          this.#options.onError(res.error.message);
          this.#retryLater(batch, epoch);
          return;
        }
        // Refused whole as malformed: it would be refused again on every send and after every
        // reload, holding back every later result, so it is forgotten like refused results.
        if (!res.ok) this.#options.onError(`[outbox]: batch dropped, ${res.error.message}`);
        const { leaseIds, refused } = res.ok
          ? res.data
          : { leaseIds: [], refused: batch.map((result) => result.leaseId) };
        const accepted = new Set(leaseIds);
        const cpuMs = batch.reduce(
          (sum, result) => sum + (accepted.has(result.leaseId) ? result.durationMs : 0),
          0,
        );
        this.#done += leaseIds.length;
        this.#cpuMs += cpuMs;
        this.#unsent = Math.max(0, this.#unsent - leaseIds.length - refused.length);
        this.#options.onChange();
        // Forgetting acknowledged results need not hold up the next send; if the tab dies first,
        // they are sent once more and dropped as duplicates.
        this.#options.store.delete([...leaseIds, ...refused]).catch((error: unknown) => {
          this.#options.onError(
            `[outbox]: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      }
    } catch (error) {
      // No ack: after a disconnect the next connection resends everything stored;
      // on a live connection (an ack timeout) this batch is tried again later.
      this.#options.onError(error instanceof Error ? error.message : String(error));
      if (inFlight && this.#options.socket()?.connected) this.#retryLater(inFlight, epoch);
    } finally {
      if (this.#sending === epoch) this.#sending = undefined;
    }
  }

  /** Puts an unacknowledged batch back in front and sends again after a pause. */
  #retryLater(batch: TaskResult[], epoch: number): void {
    if (this.#epoch !== epoch) return;
    this.#stored.unshift(...batch);
    setTimeout(() => void this.#send(epoch), this.#resendAfterMs);
  }

  /** How many stored results fit one message: by count, and by size for large outputs. */
  #messageSize(): number {
    let chars = 0;
    const limit = Math.min(MAX_RESULTS_PER_MESSAGE, this.#stored.length);
    for (let i = 0; i < limit; i++) {
      chars += JSON.stringify((this.#stored[i] as TaskResult).outcome).length;
      if (chars > RESULTS_MESSAGE_TARGET_CHARS) return Math.max(1, i);
    }
    return limit;
  }
}
