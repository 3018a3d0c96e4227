/**
 * @module The PostgreSQL side of uploads: one row per item in `upload_items`, keyed by the
 * upload's sequence number and the item's index, so a task's items are one range scan of the
 * primary key.
 */
import type pg from 'pg';
import type { UploadFormat } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { CoordinatorError } from '../errors.ts';
import { inTransaction } from './pg-connect.ts';
import type { StoredUpload, UploadStore } from './store.ts';

interface UploadRow {
  seq: number;
  upload_id: string;
  format: UploadFormat;
  items: number;
  bytes: number;
  created_at: number;
  complete: boolean;
}

/** Items deleted per statement when an upload is deleted. */
const DELETE_SLICE = 20_000;

export function createPgUploads(pool: pg.Pool): UploadStore {
  const selectUpload = async (uploadId: string): Promise<UploadRow | undefined> =>
    (await pool.query<UploadRow>('SELECT * FROM uploads WHERE upload_id = $1', [uploadId])).rows[0];

  return {
    async createUpload({ uploadId, format, createdAt }) {
      await pool.query('INSERT INTO uploads (upload_id, format, created_at) VALUES ($1, $2, $3)', [
        uploadId,
        format,
        createdAt,
      ]);
    },
    async appendUpload(uploadId, values) {
      if (values.length === 0) return;
      await inTransaction(pool, async (client) => {
        // The row lock orders appends to one upload, whichever node takes them.
        const row = (
          await client.query<UploadRow>('SELECT * FROM uploads WHERE upload_id = $1 FOR UPDATE', [
            uploadId,
          ])
        ).rows[0];
        if (!row) throw new CoordinatorError('not_found', `[uploads]: no upload ${uploadId}`);
        if (row.complete) {
          throw new CoordinatorError(
            'conflict',
            `[uploads]: upload ${uploadId} is already complete`,
          );
        }
        let bytes = 0;
        for (const value of values) bytes += Buffer.byteLength(value);
        await client.query(
          `INSERT INTO upload_items (upload, idx, value)
           SELECT $1, $2 + ord - 1, value FROM unnest($3::text[]) WITH ORDINALITY AS v (value, ord)`,
          [row.seq, row.items, values],
        );
        await client.query(
          'UPDATE uploads SET items = items + $1, bytes = bytes + $2 WHERE seq = $3',
          [values.length, bytes, row.seq],
        );
      });
    },
    async completeUpload(uploadId) {
      const row = (
        await pool.query<UploadRow>(
          'UPDATE uploads SET complete = TRUE WHERE upload_id = $1 RETURNING *',
          [uploadId],
        )
      ).rows[0];
      if (!row) throw new CoordinatorError('not_found', `[uploads]: no upload ${uploadId}`);
      return toStoredUpload(row);
    },
    async getUpload(uploadId) {
      const row = await selectUpload(uploadId);
      return row && toStoredUpload(row);
    },
    async listUploads() {
      return (await pool.query<UploadRow>('SELECT * FROM uploads ORDER BY seq DESC')).rows.map(
        toStoredUpload,
      );
    },
    async deleteUpload(uploadId) {
      // Hidden from readers first (and swept at the next start should this stop half way), then
      // deleted a slice at a time, so a large upload never holds one long statement.
      const row = (
        await pool.query<UploadRow>(
          'UPDATE uploads SET complete = FALSE WHERE upload_id = $1 RETURNING *',
          [uploadId],
        )
      ).rows[0];
      if (!row) return false;
      const end = (
        await pool.query<{ end: number }>(
          'SELECT COALESCE(MAX(idx), -1) + 1 AS end FROM upload_items WHERE upload = $1',
          [row.seq],
        )
      ).rows[0]?.end;
      for (let from = 0; from < (end ?? 0); from += DELETE_SLICE) {
        await pool.query('DELETE FROM upload_items WHERE upload = $1 AND idx >= $2 AND idx < $3', [
          row.seq,
          from,
          from + DELETE_SLICE,
        ]);
      }
      await pool.query('DELETE FROM uploads WHERE seq = $1', [row.seq]);
      return true;
    },
    uploadInputs(upload) {
      return {
        items: upload.items,
        itemBytes: upload.items > 0 ? upload.bytes / upload.items : 0,
        async read(span) {
          const { rows } = await pool.query<{ value: string }>(
            `SELECT i.value FROM upload_items i JOIN uploads u ON u.seq = i.upload
             WHERE u.upload_id = $1 AND i.idx >= $2 AND i.idx < $3 ORDER BY i.idx`,
            [upload.uploadId, span.start, span.start + span.count],
          );
          return rows.map((row) => JSON.parse(row.value) as JsonValue);
        },
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
    complete: row.complete,
  };
}
