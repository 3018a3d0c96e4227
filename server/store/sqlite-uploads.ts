/**
 * @module The SQLite side of uploads: one row per item in `upload_items`, keyed by the upload's
 * sequence number and the item's index, so a task's items are one range scan of the primary key.
 */
import type Database from 'better-sqlite3';
import type { UploadFormat } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { CoordinatorError } from '../errors.ts';
import type { StoredUpload, UploadStore } from './store.ts';

interface UploadRow {
  seq: number;
  upload_id: string;
  format: UploadFormat;
  items: number;
  bytes: number;
  created_at: number;
  complete: number;
}

export function createSqliteUploads(db: Database.Database): UploadStore {
  const insertUpload = db.prepare<[string, string, number]>(
    'INSERT INTO uploads (upload_id, format, created_at) VALUES (?, ?, ?)',
  );
  const selectUpload = db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE upload_id = ?');
  const selectUploads = db.prepare<[], UploadRow>('SELECT * FROM uploads ORDER BY seq DESC');
  const insertItem = db.prepare<[number, number, string]>(
    'INSERT INTO upload_items (upload, idx, value) VALUES (?, ?, ?)',
  );
  const growUpload = db.prepare<[number, number, number]>(
    'UPDATE uploads SET items = items + ?, bytes = bytes + ? WHERE seq = ?',
  );
  const markComplete = db.prepare<[number]>('UPDATE uploads SET complete = 1 WHERE seq = ?');
  const deleteItems = db.prepare<[number]>('DELETE FROM upload_items WHERE upload = ?');
  const deleteRow = db.prepare<[number]>('DELETE FROM uploads WHERE seq = ?');
  const selectItems = db
    .prepare<[number, number, number], string>(
      'SELECT value FROM upload_items WHERE upload = ? AND idx >= ? AND idx < ? ORDER BY idx',
    )
    .pluck();

  const rowOf = (uploadId: string): UploadRow => {
    const row = selectUpload.get(uploadId);
    if (!row) throw new CoordinatorError('not_found', `[uploads]: no upload ${uploadId}`);
    return row;
  };

  const append = db.transaction((uploadId: string, values: readonly string[]) => {
    const row = rowOf(uploadId);
    if (row.complete) {
      throw new CoordinatorError('conflict', `[uploads]: upload ${uploadId} is already complete`);
    }
    let bytes = 0;
    values.forEach((value, i) => {
      insertItem.run(row.seq, row.items + i, value);
      bytes += Buffer.byteLength(value);
    });
    growUpload.run(values.length, bytes, row.seq);
  });

  const remove = db.transaction((uploadId: string): boolean => {
    const row = selectUpload.get(uploadId);
    if (!row) return false;
    deleteItems.run(row.seq);
    deleteRow.run(row.seq);
    return true;
  });

  return {
    async createUpload({ uploadId, format, createdAt }) {
      insertUpload.run(uploadId, format, createdAt);
    },
    async appendUpload(uploadId, values) {
      if (values.length > 0) append(uploadId, values);
    },
    async completeUpload(uploadId) {
      markComplete.run(rowOf(uploadId).seq);
      return toStoredUpload(rowOf(uploadId));
    },
    async getUpload(uploadId) {
      const row = selectUpload.get(uploadId);
      return row && toStoredUpload(row);
    },
    async listUploads() {
      return selectUploads.all().map(toStoredUpload);
    },
    async deleteUpload(uploadId) {
      return remove(uploadId);
    },
    uploadInputs(upload) {
      const { seq } = rowOf(upload.uploadId);
      return {
        items: upload.items,
        itemBytes: upload.items > 0 ? upload.bytes / upload.items : 0,
        slice: (span) =>
          selectItems
            .all(seq, span.start, span.start + span.count)
            .map((text) => JSON.parse(text) as JsonValue),
      };
    },
  };
}

function toStoredUpload(row: UploadRow): StoredUpload {
  return {
    uploadId: row.upload_id,
    format: row.format,
    items: row.items,
    bytes: row.bytes,
    createdAt: row.created_at,
    complete: row.complete === 1,
  };
}
