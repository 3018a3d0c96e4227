/**
 * @module Reads a record's field only when the record itself holds it. An optional field that is
 * absent would otherwise be looked up on Object.prototype, which is exactly where a polluted value
 * would wait (issue 10: a forged `checkpoint` there was read by every later assignment).
 */

/** `record[key]` if `record` has that own property, else undefined. */
export function own<T extends object, K extends keyof T>(record: T, key: K): T[K] | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
