/** @module REST routes for admin tokens: create (shown once), list, revoke. */
import { Router, type RequestHandler } from 'express';
import { TokenSpec } from '../../shared/tokens.ts';
import type { AdminTokens } from '../admin-tokens.ts';
import type { Clock } from '../engine/clock.ts';
import { CoordinatorError } from '../errors.ts';
import { describeIssue } from '../realtime/validate.ts';

export function createTokensRouter(
  tokens: AdminTokens,
  requireAdmin: RequestHandler,
  json: RequestHandler,
  clock: Clock,
): Router {
  const router = Router();
  router.use('/api/tokens', requireAdmin);

  router.post('/api/tokens', json, async (req, res) => {
    const parsed = TokenSpec.safeParse(req.body);
    if (!parsed.success) {
      const { message, field } = describeIssue(parsed.error);
      throw new CoordinatorError('invalid_input', `[tokens]: ${message}`, field ? { field } : {});
    }
    res.status(201).json(await tokens.create(parsed.data.name, clock.now()));
  });

  router.get('/api/tokens', async (_req, res) => {
    res.json(await tokens.list());
  });

  router.delete('/api/tokens/:tokenId', async (req, res) => {
    await tokens.revoke(String(req.params['tokenId']), clock.now());
    res.status(204).end();
  });
  return router;
}
