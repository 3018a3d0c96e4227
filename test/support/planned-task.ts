/** Reading a planned task's items in a unit test, where every job's inputs are inline. */
import type { JsonValue } from '../../shared/json.ts';
import type { PlannedTask } from '../../server/scheduling/effects.ts';
import type { InlineInputs } from '../../server/jobs/inline-inputs.ts';

export function itemsOf(task: PlannedTask): JsonValue[] {
  const source = task.source as Partial<InlineInputs>;
  if (typeof source.slice !== 'function') throw new Error('itemsOf: the task reads from a store');
  return source.slice(task.span);
}
