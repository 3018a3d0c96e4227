/** @module JSON values and the canonical encoding used to compare results. */
import { z } from 'zod';

export const JsonValue = z.json();
export type JsonValue = z.infer<typeof JsonValue>;

/**
 * Serializes a JSON value with object keys sorted, so two results that are equal as data are
 * equal as strings (the comparison redundancy and duplicate detection rely on).
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) === '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const entry = value[key];
    if (entry !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(entry)}`);
  }
  return `{${parts.join(',')}}`;
}
