/**
 * @module A job's inline inputs (an array in the spec, or a range) as an `InputSource`. Uploads
 * are the store's (`JobStore.uploadInputs`). Both are read by the engine, a task's span at a time.
 */
import type { JobInputs } from '../../shared/job.ts';
import { rangeLength } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { InputSource, ItemSpan } from '../store/input-source.ts';

/** Inline inputs are in memory, so they can also be sliced synchronously. */
export interface InlineInputs extends InputSource {
  slice(span: ItemSpan): JsonValue[];
}

/** The source of a job's inline inputs: an array or a range. Uploads come from the store. */
export function inlineInputs(inputs: JobInputs): InlineInputs {
  if (Array.isArray(inputs)) {
    const slice = (span: ItemSpan) => inputs.slice(span.start, span.start + span.count);
    return {
      items: inputs.length,
      itemBytes: sampleItemBytes(inputs),
      slice,
      read: (span) => Promise.resolve(slice(span)),
    };
  }
  if ('upload' in inputs) {
    throw new Error(`[sharder]: upload ${inputs.upload} is read from the store, not inline`);
  }
  const { start, step } = inputs.range;
  return {
    items: rangeLength(inputs.range),
    itemBytes: 8,
    slice(span) {
      const values: number[] = new Array<number>(span.count);
      for (let i = 0; i < span.count; i++) values[i] = start + (span.start + i) * step;
      return values;
    },
    read(span) {
      return Promise.resolve(this.slice(span));
    },
  };
}

/** Mean JSON length of up to 64 items spread over the array. */
function sampleItemBytes(inputs: readonly JsonValue[]): number {
  if (inputs.length === 0) return 0;
  const samples = Math.min(64, inputs.length);
  const stride = inputs.length / samples;
  let total = 0;
  for (let i = 0; i < samples; i++) total += JSON.stringify(inputs[Math.floor(i * stride)]).length;
  return total / samples;
}
