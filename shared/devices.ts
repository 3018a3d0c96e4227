/** @module A device as `GET /api/devices` reports it: its adaptive-trust standing and live tabs. */
import { z } from 'zod';
import { DeviceId } from './protocol.ts';

export const DeviceView = z.object({
  deviceId: DeviceId,
  /** Its tabs connected now. */
  tabs: z.number().int().min(0),
  /** Results in a row its peers agreed with. */
  streak: z.number().int().min(0),
  trusted: z.boolean(),
  disagreements: z.number().int().min(0),
  banned: z.boolean(),
});
export type DeviceView = z.infer<typeof DeviceView>;
