/**
 * @module The reader of a job's input items, by index. The store implements it for uploads
 * (`JobStore.uploadInputs`), `jobs/inline-inputs.ts` for inline arrays and ranges, and
 * the engine reads a planned task's items through it.
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
 * The scheduler only plans spans; the engine reads them here, asynchronously, before it sends an
 * assignment. Arrays and ranges answer from memory, an upload from the store (one range read).
 */
export interface InputSource {
  readonly items: number;
  /** Average JSON bytes of one item, estimated: what a task costs a tab's prefetch budget. */
  readonly itemBytes: number;
  /** The values of the items `[span.start, span.start + span.count)`. */
  read(span: ItemSpan): Promise<JsonValue[]>;
}
