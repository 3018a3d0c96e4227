/** @module The JSON value schema. Checks on JSON values, free of zod, are in json-checks.ts. */
import { z } from 'zod';

export const JsonValue = z.json();
export type JsonValue = z.infer<typeof JsonValue>;
