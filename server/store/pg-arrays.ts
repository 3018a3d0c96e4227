/**
 * @module A batch's columns as PostgreSQL array literals, for `unnest($n::int[], …)`: one
 * parameter per column, whatever the batch's size. node-postgres would quote and escape every
 * element of every array itself, numbers included; at tens of thousands of rows a batch that
 * cost more of the coordinator's time than the database's work. Strings repeated on every row
 * (job ids, tab ids, statuses) go once in a `Dictionary`, the rows carrying only their index.
 */

/** `{1,2,NULL}`: integers, BIGINT milliseconds or floats; `null` is SQL NULL. */
/**
 * Times in whole milliseconds, for bigint columns: a time worked out from what a tab measured
 * (`performance.now()` differences) may carry a fraction, which PostgreSQL would refuse, failing
 * the whole batch.
 */
export function msArray(values: ReadonlyArray<number | null | undefined>): string {
  return numberArray(values.map((value) => (value == null ? null : Math.round(value))));
}

export function numberArray(values: ReadonlyArray<number | null>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out += (i === 0 ? '' : ',') + (value === null || value === undefined ? 'NULL' : String(value));
  }
  return `${out}}`;
}

export function boolArray(values: readonly boolean[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + (values[i] ? 't' : 'f');
  return `${out}}`;
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/** `{"a","b"}`: every element quoted, so empty strings, `NULL`, commas and braces stay text. */
export function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string;
    const body = NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, '\\$&') : value;
    out += `${i === 0 ? '' : ','}"${body}"`;
  }
  return `${out}}`;
}

/**
 * Distinct strings of a batch, numbered from 1 (PostgreSQL arrays start there). SQL reads a row's
 * string back as `d.v[s.column]` with `(SELECT $1::text[] AS v) d`.
 */
export class Dictionary {
  readonly values: string[] = [];
  readonly #index = new Map<string, number>();

  of(value: string): number {
    let index = this.#index.get(value);
    if (index === undefined) {
      this.values.push(value);
      index = this.values.length;
      this.#index.set(value, index);
    }
    return index;
  }
}
