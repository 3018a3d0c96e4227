/**
 * @module The reader of a job's input items, by index. The store implements it for uploads
 * (`JobStore.uploadInputs`), the sharder for inline arrays and ranges (`inlineInputs`), and
 * dispatch reads a task's items through it.
 *
 * It is an interface and not a shared schema because it is behaviour, not data: it never crosses
 * the wire (a tab receives the items, in `Assignment.inputs`). It lives with the store because
 * the store is its one implementation that does I/O, and the store may import no policy; the
 * scheduler depends on this contract, never on a backend.
 */
import type { JsonValue } from '../../shared/json.ts';

/** Items `[start, start + count)` of a job's inputs (a task's span, see sharder.ts). */
export interface ItemSpan {
  start: number;
  count: number;
}

/**
 * Dispatch is synchronous, so `slice` is too: arrays and ranges answer from memory, an upload
 * from the store (an indexed range read).
 */
export interface InputSource {
  readonly items: number;
  /** Average JSON bytes of one item, estimated: what a task costs a tab's prefetch budget. */
  readonly itemBytes: number;
  /** The values of the items `[span.start, span.start + span.count)`. */
  slice(span: ItemSpan): JsonValue[];
}
