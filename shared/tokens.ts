/** @module Admin token shapes of `/api/tokens`: the create request, a listed token, a new one. */
import { z } from 'zod';

export const TokenSpec = z.strictObject({ name: z.string().trim().min(1).max(100) });
export type TokenSpec = z.infer<typeof TokenSpec>;

/** A named token as listed: never the token itself, which is shown once at creation. */
export const TokenInfo = z.object({
  tokenId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const TokenCreated = TokenInfo.extend({ token: z.string() });
export type TokenCreated = z.infer<typeof TokenCreated>;
