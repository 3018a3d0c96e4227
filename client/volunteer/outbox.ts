/**
 * @module The tab's IndexedDB (idb): results waiting for the coordinator's acknowledgement, the
 * checkpoints of tasks in progress, and the device id. A result is written here before it is sent
 * and deleted only when acknowledged, so a closed, reloaded or disconnected tab loses nothing it
 * computed; a checkpoint stays until its task's result is stored.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import type { TaskCheckpoint, TaskResult } from '../../shared/protocol.ts';
import { own } from './own.ts';

const DB_NAME = 'browsergrid';
const DB_VERSION = 3;

export interface StoredCheckpoint {
  /** `${jobId}:${taskIndex}`: a checkpoint belongs to the task, whichever copy saved it. */
  taskKey: string;
  checkpoint: TaskCheckpoint;
  savedAt: number;
}

/**
 * Results are stored a batch per record (one put per batch, not per result): at thousands of
 * tiny tasks a second, per-result puts and deletes were a fifth of the page's time.
 */
interface ResultBatchRecord {
  results: TaskResult[];
}

interface VolunteerDB extends DBSchema {
  pending: { key: number; value: ResultBatchRecord };
  meta: { key: string; value: string };
  checkpoints: { key: string; value: StoredCheckpoint };
}

export function taskKey(jobId: string, taskIndex: number): string {
  return `${jobId}:${taskIndex}`;
}

export class Outbox {
  readonly #db: IDBPDatabase<VolunteerDB>;
  /** Where each unacknowledged result is stored, and what each record still holds. */
  readonly #recordOf = new Map<string, number>();
  readonly #remaining = new Map<number, Map<string, TaskResult>>();

  private constructor(db: IDBPDatabase<VolunteerDB>) {
    this.#db = db;
  }

  static async open(): Promise<Outbox> {
    const db = await openDB<VolunteerDB>(DB_NAME, DB_VERSION, {
      async upgrade(database, oldVersion, _newVersion, transaction) {
        if (oldVersion < 1) database.createObjectStore('meta');
        if (oldVersion < 2) database.createObjectStore('checkpoints', { keyPath: 'taskKey' });
        if (oldVersion < 3) {
          const pending = database.createObjectStore('pending', { autoIncrement: true });
          // Version 2 kept one record per result in 'outbox': carry them over as one batch.
          const legacy = database.objectStoreNames as DOMStringList;
          if (legacy.contains('outbox')) {
            const untyped = transaction as unknown as IDBPTransaction<
              unknown,
              string[],
              'versionchange'
            >;
            const results = (await untyped.objectStore('outbox').getAll()) as TaskResult[];
            if (results.length > 0) await pending.add({ results });
            database.deleteObjectStore('outbox' as never);
          }
        }
      },
    });
    return new Outbox(db);
  }

  /**
   * The device id shared by this browser profile's tabs. A new one is a placeholder: the
   * coordinator issues a real one at the first hello (see `replaceDeviceId`).
   */
  async deviceId(): Promise<string> {
    const tx = this.#db.transaction('meta', 'readwrite');
    const existing = await tx.store.get('deviceId');
    if (existing) {
      await tx.done;
      return existing;
    }
    const created = `d-${crypto.randomUUID()}`;
    await tx.store.put(created, 'deviceId');
    await tx.done;
    return created;
  }

  /**
   * Stores the id the coordinator issued in place of `previous`, unless a sibling tab stored its
   * own meanwhile (the browser's tabs then converge on that one at their next start).
   */
  async replaceDeviceId(previous: string, issued: string): Promise<void> {
    const tx = this.#db.transaction('meta', 'readwrite');
    const stored = await tx.store.get('deviceId');
    if (stored === undefined || stored === previous) await tx.store.put(issued, 'deviceId');
    await tx.done;
  }

  /** Stores results as one record. */
  async put(results: readonly TaskResult[]): Promise<void> {
    const key = await this.#db.add('pending', { results: [...results] });
    this.#index(key, results);
  }

  /** Forgets results; a record goes when none of its results is left. */
  async delete(leaseIds: readonly string[]): Promise<void> {
    const touched = new Set<number>();
    for (const leaseId of leaseIds) {
      const key = this.#recordOf.get(leaseId);
      if (key === undefined) continue;
      this.#recordOf.delete(leaseId);
      this.#remaining.get(key)?.delete(leaseId);
      touched.add(key);
    }
    if (touched.size === 0) return;
    const tx = this.#db.transaction('pending', 'readwrite');
    const writes: Array<Promise<unknown>> = [];
    for (const key of touched) {
      const left = this.#remaining.get(key);
      if (!left || left.size === 0) {
        this.#remaining.delete(key);
        writes.push(tx.store.delete(key));
      } else {
        writes.push(tx.store.put({ results: [...left.values()] }, key));
      }
    }
    await Promise.all([...writes, tx.done]);
  }

  /** Every unacknowledged result, oldest first; also rebuilds the in-memory index. */
  async all(): Promise<TaskResult[]> {
    const tx = this.#db.transaction('pending');
    const [keys, records] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll(), tx.done]);
    this.#recordOf.clear();
    this.#remaining.clear();
    const results = records.map((record) => own(record, 'results') ?? []);
    results.forEach((batch, i) => this.#index(keys[i] as number, batch));
    return results.flat();
  }

  #index(key: number, results: readonly TaskResult[]): void {
    const entries = new Map<string, TaskResult>();
    for (const result of results) {
      entries.set(result.leaseId, result);
      this.#recordOf.set(result.leaseId, key);
    }
    this.#remaining.set(key, entries);
  }

  async saveCheckpoint(entry: StoredCheckpoint): Promise<void> {
    await this.#db.put('checkpoints', entry);
  }

  async checkpoint(key: string): Promise<StoredCheckpoint | undefined> {
    return this.#db.get('checkpoints', key);
  }

  async checkpointKeys(): Promise<string[]> {
    return this.#db.getAllKeys('checkpoints');
  }

  async deleteCheckpoints(keys: readonly string[]): Promise<void> {
    const tx = this.#db.transaction('checkpoints', 'readwrite');
    await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
  }

  close(): void {
    this.#db.close();
  }
}
