/**
 * @module REST routes for classroom and lab grids: create (a join code and link), list, the
 * roster of one grid, and pausing or resuming its tabs.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  GridCode,
  GridSpec,
  PauseTarget,
  type GridCreated,
  type GridPauseResult,
  type GridSummary,
} from '../../shared/job.ts';
import type { Grids } from '../engine/grids.ts';
import { CoordinatorError } from '../errors.ts';
import type { StoredGrid } from '../store/store.ts';
import { describeIssue } from '../realtime/validate.ts';

export function createGridsRouter(
  grids: Grids,
  requireAdmin: RequestHandler,
  json: RequestHandler,
  publicUrl?: string,
): Router {
  /** The volunteer page with the grid's code, on the public URL or the host the admin used. */
  const joinUrl = (req: Request, code: string): string => {
    const base = publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const url = new URL('/', base);
    url.searchParams.set('grid', code);
    return url.href;
  };
  const summarize = async (req: Request, grid: StoredGrid): Promise<GridSummary> => {
    const { paused, devices } = await grids.roster(grid.code);
    return {
      code: grid.code,
      name: grid.name,
      joinUrl: joinUrl(req, grid.code),
      createdAt: new Date(grid.createdAt).toISOString(),
      paused,
      devices,
    };
  };
  const router = Router();
  router.use('/api/grids', requireAdmin);

  router.post('/api/grids', json, async (req, res) => {
    const { name } = parse(GridSpec, req.body);
    const grid = await grids.create(name);
    res.status(201).json({
      code: grid.code,
      name: grid.name,
      joinUrl: joinUrl(req, grid.code),
    } satisfies GridCreated);
  });

  router.get('/api/grids', async (req, res) => {
    const all = await grids.list();
    res.json(await Promise.all(all.map((grid) => summarize(req, grid))));
  });

  router.get('/api/grids/:code', async (req, res) => {
    const grid = await grids.get(parseCode(req.params['code']));
    res.json(await summarize(req, grid));
  });

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    /** Body `{}` for the whole grid, `{ volunteerId }` for one tab. */
    router.post(`/api/grids/:code/${action}`, json, async (req, res) => {
      const grid = await grids.get(parseCode(req.params['code']));
      const { volunteerId } = parse(PauseTarget, req.body ?? {});
      const tabs = await grids.setPaused(
        { grid: grid.code, ...(volunteerId ? { volunteerId } : {}) },
        paused,
      );
      const answer: GridPauseResult = { ...(await summarize(req, grid)), changed: tabs };
      res.json(answer);
    });
  }
  return router;
}

function parseCode(raw: unknown): string {
  const parsed = GridCode.safeParse(raw);
  if (!parsed.success) throw new CoordinatorError('not_found', `[grids]: no grid ${String(raw)}`);
  return parsed.data;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { message, field } = describeIssue(parsed.error);
    throw new CoordinatorError('invalid_input', `[grids]: ${message}`, field ? { field } : {});
  }
  return parsed.data;
}
