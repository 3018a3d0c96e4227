/**
 * @module REST routes for devices: trust state (adaptive trust) across the cluster, ban and
 * unban.
 */
import { Router, type RequestHandler } from 'express';
import { DeviceId } from '../../shared/protocol.ts';
import type { Devices } from '../engine/devices.ts';
import { CoordinatorError } from '../errors.ts';

export function createDevicesRouter(devices: Devices, requireAdmin: RequestHandler): Router {
  const router = Router();
  router.use('/api/devices', requireAdmin);

  router.get('/api/devices', async (_req, res) => {
    res.json(await devices.list());
  });

  router.post('/api/devices/:deviceId/ban', async (req, res) => {
    await devices.ban(deviceId(req.params['deviceId']));
    res.status(204).end();
  });

  router.post('/api/devices/:deviceId/unban', async (req, res) => {
    await devices.unban(deviceId(req.params['deviceId']));
    res.status(204).end();
  });
  return router;
}

function deviceId(raw: string | undefined): string {
  const parsed = DeviceId.safeParse(raw);
  if (!parsed.success)
    throw new CoordinatorError('not_found', `[devices]: no device ${String(raw)}`);
  return parsed.data;
}
