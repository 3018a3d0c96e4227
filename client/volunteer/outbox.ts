/**
 * @module The tab's IndexedDB (idb): results waiting for the coordinator's acknowledgement, the
 * checkpoints of tasks in progress, and the device id. A result is written here before it is sent
 * and deleted only when acknowledged, so a closed, reloaded or disconnected tab loses nothing it
 * computed; a checkpoint stays until its task's result is stored.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { TaskCheckpoint, TaskResult } from '../../shared/protocol.ts';

const DB_NAME = 'browsergrid';
const DB_VERSION = 2;

export interface StoredCheckpoint {
  /** `${jobId}:${taskIndex}`: a checkpoint belongs to the task, whichever copy saved it. */
  taskKey: string;
  checkpoint: TaskCheckpoint;
  savedAt: number;
}

interface VolunteerDB extends DBSchema {
  outbox: { key: string; value: TaskResult };
  meta: { key: string; value: string };
  checkpoints: { key: string; value: StoredCheckpoint };
}

export function taskKey(jobId: string, taskIndex: number): string {
  return `${jobId}:${taskIndex}`;
}

export class Outbox {
  readonly #db: IDBPDatabase<VolunteerDB>;

  private constructor(db: IDBPDatabase<VolunteerDB>) {
    this.#db = db;
  }

  static async open(): Promise<Outbox> {
    const db = await openDB<VolunteerDB>(DB_NAME, DB_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore('outbox', { keyPath: 'leaseId' });
          database.createObjectStore('meta');
        }
        if (oldVersion < 2) database.createObjectStore('checkpoints', { keyPath: 'taskKey' });
      },
    });
    return new Outbox(db);
  }

  /** The device id shared by this browser profile's tabs, created on first use. */
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

  /** Stores results in one transaction. */
  async put(results: readonly TaskResult[]): Promise<void> {
    const tx = this.#db.transaction('outbox', 'readwrite');
    await Promise.all([...results.map((result) => tx.store.put(result)), tx.done]);
  }

  async delete(leaseIds: readonly string[]): Promise<void> {
    const tx = this.#db.transaction('outbox', 'readwrite');
    await Promise.all([...leaseIds.map((leaseId) => tx.store.delete(leaseId)), tx.done]);
  }

  async all(): Promise<TaskResult[]> {
    return this.#db.getAll('outbox');
  }

  async count(): Promise<number> {
    return this.#db.count('outbox');
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
