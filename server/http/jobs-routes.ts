/**
 * @module REST routes for jobs: submit, list, status, NDJSON results in input order, cancel.
 * Bodies are validated here with the shared schemas; the engine receives typed values.
 */
import { Router, type RequestHandler } from 'express';
import type { z } from 'zod';
import { JobId, JobSpec, type ResultLine } from '../../shared/job.ts';
import { clipError, JobErrorsQuery, type JobErrors } from '../../shared/job-errors.ts';
import { JobListQuery } from '../../shared/job-list.ts';
import type { TaskTimelinePage } from '../../shared/timeline.ts';
import type { Engine } from '../engine/engine.ts';
import { CoordinatorError } from '../errors.ts';
import type { Log } from '../log.ts';
import { taskSpan } from '../scheduling/sharder.ts';
import { describeIssue } from '../realtime/validate.ts';

export function createJobsRouter(
  engine: Engine,
  requireAdmin: RequestHandler,
  json: RequestHandler,
  log: Log,
): Router {
  const router = Router();
  router.use('/api/jobs', requireAdmin);

  router.post('/api/jobs', json, async (req, res) => {
    if (req.body === undefined || typeof req.body !== 'object' || req.body === null) {
      throw new CoordinatorError(
        'invalid_input',
        '[http]: expected a JSON object body (Content-Type: application/json)',
      );
    }
    const parsed = JobSpec.safeParse(req.body);
    if (!parsed.success) {
      const { message, field } = describeIssue(parsed.error);
      throw new CoordinatorError('invalid_input', `[jobs]: ${message}`, field ? { field } : {});
    }
    const submittedBy = String(res.locals['admin'] ?? 'admin');
    const created = await engine.submit({ ...parsed.data, submittedBy });
    const { name, grid } = parsed.data;
    log.info(
      { jobId: created.id, name, submittedBy, items: created.items, tasks: created.tasks, grid },
      `[jobs]: job ${created.id} submitted by ${submittedBy}: ${created.items} items in ${created.tasks} tasks`,
    );
    res.status(201).json(created);
  });

  /** Newest first, `?limit=` at a time (default and most 1000), `?before=<job id>` for the next page. */
  router.get('/api/jobs', async (req, res) => {
    res.json(await engine.list(parseQuery(JobListQuery, req.query)));
  });

  router.get('/api/jobs/:jobId', async (req, res) => {
    res.json(await engine.summary(parseJobId(req.params['jobId'])));
  });

  router.delete('/api/jobs/:jobId', async (req, res) => {
    res.json(await engine.cancel(parseJobId(req.params['jobId'])));
  });

  /** The task timeline: every copy of tasks `[from, from + limit)` (limit at most 1000). */
  router.get('/api/jobs/:jobId/tasks', async (req, res) => {
    const jobId = parseJobId(req.params['jobId']);
    const from = intParam(req.query['from'], 0, 'from');
    const limit = Math.min(1000, intParam(req.query['limit'], 200, 'limit'));
    const summary = await engine.summary(jobId);
    const page: TaskTimelinePage = {
      jobId,
      tasks: summary.tasks,
      from,
      limit,
      timeline: await engine.timeline.read(jobId, from, limit),
    };
    res.json(page);
  });

  /**
   * Why a job failed, bounded: the errors of its first failed tasks' items, at most `?limit=`
   * (default 5, at most 20) lines, each cut to 500 characters.
   */
  router.get('/api/jobs/:jobId/errors', async (req, res) => {
    const jobId = parseJobId(req.params['jobId']);
    const { limit } = parseQuery(JobErrorsQuery, req.query);
    const job = await engine.storedJob(jobId);
    const body: JobErrors = { jobId, failedTasks: job.failed, errors: [] };
    // Each failed task holds at least one error, so `limit` tasks fill `limit` lines.
    for (const { taskIndex, items } of await engine.failedTasks(jobId, limit)) {
      const { start } = taskSpan(job.items, job.spec.chunkSize, taskIndex);
      items.forEach((outcome, i) => {
        if (body.errors.length < limit && 'error' in outcome) {
          body.errors.push({ taskIndex, index: start + i, error: clipError(outcome.error) });
        }
      });
    }
    res.json(body);
  });

  /**
   * One line per input item, in input order, from item `?from=` (default 0). A running job streams
   * what has settled so far (`X-Browsergrid-Complete: false`); a cancelled one reports the items it
   * never ran as errors.
   */
  router.get('/api/jobs/:jobId/results', async (req, res) => {
    const jobId = parseJobId(req.params['jobId']);
    const fromItem = intParam(req.query['from'], 0, 'from');
    const summary = await engine.summary(jobId);
    const job = await engine.storedJob(jobId);
    const complete = summary.status === 'completed' || summary.status === 'failed';
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('X-Browsergrid-Complete', String(complete));
    res.setHeader('Content-Disposition', `attachment; filename="${jobId}.ndjson"`);
    const fillGaps = summary.status === 'cancelled';
    const firstTask = Math.floor(fromItem / job.spec.chunkSize);
    let nextTask = firstTask;
    const writeMissing = async (untilTask: number): Promise<void> => {
      for (; nextTask < untilTask; nextTask++) {
        const span = taskSpan(job.items, job.spec.chunkSize, nextTask);
        for (let i = 0; i < span.count; i++) {
          if (span.start + i < fromItem) continue;
          await write(res, { index: span.start + i, error: 'job cancelled before this item ran' });
        }
      }
    };
    for await (const { taskIndex, items } of engine.results(jobId, firstTask)) {
      if (fillGaps) await writeMissing(taskIndex);
      const { start } = taskSpan(job.items, job.spec.chunkSize, taskIndex);
      let chunk = '';
      items.forEach((outcome, i) => {
        if (start + i < fromItem) return;
        chunk += `${JSON.stringify({ index: start + i, ...outcome } satisfies ResultLine)}\n`;
      });
      await writeRaw(res, chunk);
      nextTask = taskIndex + 1;
    }
    if (fillGaps) await writeMissing(job.tasks);
    res.end();
  });

  return router;
}

/** A query string checked against its schema; a 400 names the parameter. */
function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const { message, field } = describeIssue(parsed.error);
    throw new CoordinatorError('invalid_input', `[jobs]: ${message}`, field ? { field } : {});
  }
  return parsed.data;
}

function intParam(raw: unknown, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new CoordinatorError(
      'invalid_input',
      `[jobs]: ${name} must be a non-negative integer, got "${String(raw)}"`,
      {
        field: name,
      },
    );
  }
  return value;
}

function parseJobId(raw: string | undefined): string {
  const parsed = JobId.safeParse(raw);
  if (!parsed.success) throw new CoordinatorError('not_found', `[jobs]: no job ${String(raw)}`);
  return parsed.data;
}

function write(res: import('express').Response, line: ResultLine): Promise<void> {
  return writeRaw(res, `${JSON.stringify(line)}\n`);
}

/** Writes with backpressure, so a large export never buffers whole in memory. */
function writeRaw(res: import('express').Response, chunk: string): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      reject(new Error('[http]: client went away during results download'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
