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

/** Items deleted per statement when an upload is deleted. */
const DELETE_SLICE = 20_000;

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
  const deleteItems = db.prepare<[number, number, number]>(
    'DELETE FROM upload_items WHERE upload = ? AND idx >= ? AND idx < ?',
  );
  const markIncomplete = db.prepare<[number]>('UPDATE uploads SET complete = 0 WHERE seq = ?');
  const maxIndex = db
    .prepare<[number], number | null>('SELECT MAX(idx) FROM upload_items WHERE upload = ?')
    .pluck();
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

  return {
    async createUpload({ uploadId, format, createdAt }) {
      insertUpload.run(uploadId, format, createdAt);
    },
    async appendUpload(uploadId, values) {
      if (values.length > 0) append(uploadId, values);
    },
    async completeUpload(uploadId) {
      const row = rowOf(uploadId);
      markComplete.run(row.seq);
      return toStoredUpload({ ...row, complete: 1 });
    },
    async getUpload(uploadId) {
      const row = selectUpload.get(uploadId);
      return row && toStoredUpload(row);
    },
    async listUploads() {
      return selectUploads.all().map(toStoredUpload);
    },
    async deleteUpload(uploadId) {
      const row = selectUpload.get(uploadId);
      if (!row) return false;
      // Hidden from readers first (and swept at the next start should this stop half way), then
      // deleted a slice at a time, yielding between, so a large upload never stalls the process.
      markIncomplete.run(row.seq);
      const end = (maxIndex.get(row.seq) ?? -1) + 1;
      for (let from = 0; from < end; from += DELETE_SLICE) {
        deleteItems.run(row.seq, from, from + DELETE_SLICE);
        if (from + DELETE_SLICE < end) await new Promise((resolve) => setImmediate(resolve));
      }
      deleteRow.run(row.seq);
      return true;
    },
    uploadInputs(upload) {
      const { seq } = rowOf(upload.uploadId);
      return {
        items: upload.items,
        itemBytes: upload.items > 0 ? upload.bytes / upload.items : 0,
        read: (span) =>
          Promise.resolve(
            selectItems
              .all(seq, span.start, span.start + span.count)
              .map((text) => JSON.parse(text) as JsonValue),
          ),
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
