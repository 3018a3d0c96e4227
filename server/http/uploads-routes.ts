/**
 * @module REST routes for uploads: NDJSON or CSV inputs streamed in (`POST /api/uploads`), then
 * named by a job as `inputs: { upload: id }`. The body is never parsed whole.
 */
import type { Clock } from '../engine/clock.ts';
import { Router, type Request, type RequestHandler } from 'express';
import {
  UploadId,
  uploadFormatOf,
  type UploadFormat,
  type UploadSummary,
} from '../../shared/job.ts';
import { CoordinatorError } from '../errors.ts';
import { deleteUpload, receiveUpload, type UploadLimits } from '../jobs/uploads.ts';
import type { JobStore, StoredUpload } from '../store/store.ts';

/** How long the rest of a refused upload is read and discarded before the connection is cut. */
const DRAIN_LIMIT_MS = 30_000;

export function createUploadsRouter(
  store: JobStore,
  requireAdmin: RequestHandler,
  clock: Clock,
  limits: UploadLimits,
): Router {
  const router = Router();
  router.use('/api/uploads', requireAdmin);

  router.post('/api/uploads', async (req, res) => {
    const format = formatOf(req);
    // Not destroyed on an early stop, so a refused upload still gets its error response.
    const body = req.iterator({ destroyOnReturn: false });
    try {
      const upload = await receiveUpload(store, format, body, limits, clock.now());
      res.status(201).json(summarize(upload));
    } catch (error) {
      // The rest of the body is read and discarded, so a client still sending reads the error
      // instead of a broken pipe; one that keeps sending past the drain limit is cut off.
      if (!req.complete) {
        req.resume();
        const cutOff = setTimeout(() => req.destroy(), DRAIN_LIMIT_MS).unref();
        req.once('end', () => clearTimeout(cutOff));
      }
      throw error;
    }
  });

  router.get('/api/uploads', async (_req, res) => {
    res.json((await store.listUploads()).filter((u) => u.complete).map(summarize));
  });

  router.get('/api/uploads/:uploadId', async (req, res) => {
    const upload = await store.getUpload(parseUploadId(req.params['uploadId']));
    if (!upload?.complete) {
      throw new CoordinatorError('not_found', `[uploads]: no upload ${req.params['uploadId']}`);
    }
    res.json(summarize(upload));
  });

  router.delete('/api/uploads/:uploadId', async (req, res) => {
    await deleteUpload(store, parseUploadId(req.params['uploadId']));
    res.status(204).end();
  });

  return router;
}

function formatOf(req: Request): UploadFormat {
  const query = req.query['format'];
  if (query === 'ndjson' || query === 'csv') return query;
  const type = req.headers['content-type'] ?? '';
  const format = uploadFormatOf({ type });
  if (!format) {
    throw new CoordinatorError(
      'invalid_input',
      `[uploads]: send NDJSON (Content-Type: application/x-ndjson) or CSV with a header row (Content-Type: text/csv), or add ?format=ndjson|csv; got "${type || 'no Content-Type'}"`,
      { field: 'Content-Type' },
    );
  }
  return format;
}

function parseUploadId(raw: string | undefined): string {
  const parsed = UploadId.safeParse(raw);
  if (!parsed.success)
    throw new CoordinatorError('not_found', `[uploads]: no upload ${String(raw)}`);
  return parsed.data;
}

function summarize(upload: StoredUpload): UploadSummary {
  return {
    id: upload.uploadId,
    format: upload.format,
    items: upload.items,
    bytes: upload.bytes,
    createdAt: new Date(upload.createdAt).toISOString(),
  };
}
