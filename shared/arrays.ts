/**
 * @module Arrays checked up to their first bad element. zod's own array schema checks every
 * element and keeps an issue for each: 1,000,000 bad elements took 10 s, and spreading that many
 * issues into one array overflowed the stack. Here the length is checked first, then elements in
 * order until one fails, whose issues are the answer.
 */
import { z } from 'zod';

/**
 * An array of `item`, at most `max` long, refused at its first bad element. The value passes
 * through as it arrived, so `item` must not transform (no defaults, no stripped keys): strict
 * objects, unions of them, and JsonValue qualify.
 *
 * @example const Outcomes = arrayToFirstIssue(ItemOutcome, MAX_CHUNK_SIZE);
 */
export function arrayToFirstIssue<T extends z.ZodType>(
  item: T,
  max: number,
): z.ZodType<Array<z.output<T>>, Array<z.input<T>>> {
  return z.custom<Array<z.output<T>>>().superRefine((value, ctx) => {
    if (!Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'expected an array' });
      return;
    }
    if (value.length > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected at most ${max} elements, got ${value.length}`,
      });
      return;
    }
    for (let i = 0; i < value.length; i++) {
      const parsed = item.safeParse(value[i]);
      if (parsed.success) continue;
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: [i, ...issue.path] });
      }
      return;
    }
  }) as unknown as z.ZodType<Array<z.output<T>>, Array<z.input<T>>>;
}
