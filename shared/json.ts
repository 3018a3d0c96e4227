/**
 * @module The JSON value schema. zod never walks the value itself: its recursive `z.json()` ran
 * out of stack on deep values (a crash), took minutes on wide ones, and rebuilt objects in a way
 * that dropped `__proto__` keys. Here one iterative check (json-bounds.ts) bounds the shape and the
 * value passes through as it arrived, `__proto__` keys kept as own data properties.
 */
import { z } from 'zod';
import { jsonShapeIssue } from './json-bounds.ts';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const JsonValue = z.custom<JsonValue>().superRefine((value, ctx) => {
  const issue = jsonShapeIssue(value);
  if (issue) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});
