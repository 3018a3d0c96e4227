/** @module Error codes and the wire shape every boundary (REST, socket acks) uses for errors. */
import { z } from 'zod';

export const ERROR_CODES = [
  'invalid_input',
  'map_compile_error',
  'unauthorized',
  'not_found',
  'conflict',
  'payload_too_large',
  'protocol_mismatch',
  'not_registered',
  'rate_limited',
  'fenced',
  'internal',
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const WireError = z.object({
  code: ErrorCode,
  message: z.string(),
  /** Dotted path of the offending field in the request, when one field is to blame. */
  field: z.string().optional(),
});
export type WireError = z.infer<typeof WireError>;

/** Body of every 4xx/5xx REST response. */
export const ErrorResponse = z.object({ error: WireError });
export type ErrorResponse = z.infer<typeof ErrorResponse>;
