/**
 * @module This browser's own checkpoints of tasks in progress (kept in IndexedDB, see outbox.ts):
 * saved as a task reports them, the further along of them and the coordinator's used when a task
 * starts again, and forgotten once the task's result is stored.
 */
import type { TaskCheckpoint, TaskResult } from '../../shared/protocol.ts';
import { taskKey, type Outbox } from './outbox.ts';
import { own } from './own.ts';

type CheckpointStore = Pick<
  Outbox,
  'saveCheckpoint' | 'checkpoint' | 'checkpointKeys' | 'deleteCheckpoints'
>;

export class LocalCheckpoints {
  readonly #store: CheckpointStore;
  readonly #onError: (message: string) => void;
  /** Tasks with a stored checkpoint (kept in memory so tiny tasks never look one up). */
  #keys = new Set<string>();

  constructor(store: CheckpointStore, onError: (message: string) => void) {
    this.#store = store;
    this.#onError = onError;
  }

  async load(): Promise<void> {
    this.#keys = new Set(await this.#store.checkpointKeys());
  }

  /** The further along of the coordinator's checkpoint and this browser's own, if any. */
  async newest(
    key: string,
    fromServer: TaskCheckpoint | undefined,
  ): Promise<TaskCheckpoint | undefined> {
    if (!this.#keys.has(key)) return fromServer;
    const stored = await this.#store.checkpoint(key);
    const local = stored && own(stored, 'checkpoint');
    if (!local) return fromServer;
    return fromServer && fromServer.item > local.item ? fromServer : local;
  }

  save(key: string, checkpoint: TaskCheckpoint): void {
    this.#keys.add(key);
    void this.#store
      .saveCheckpoint({ taskKey: key, checkpoint, savedAt: Date.now() })
      .catch((error: unknown) => this.#onError(`[outbox]: ${String(error)}`));
  }

  /** Forgets the checkpoints of tasks whose results are now stored. */
  async forget(results: readonly TaskResult[]): Promise<void> {
    const finished = results
      .map((result) => taskKey(result.jobId, result.taskIndex))
      .filter((key) => this.#keys.delete(key));
    if (finished.length > 0) await this.#store.deleteCheckpoints(finished);
  }
}
