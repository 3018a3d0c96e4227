/**
 * @module The page's reading of what a task-runner worker sends. The worker runs job code, so a
 * message counts only if it is the runner's: a tree no deeper than the runner sends (checked
 * without recursion, before the schema), valid against RunnerMessage, about the batch the worker
 * runs, naming tasks of that batch with item counts that fit. Pure: the pool acts on the verdict.
 */
import { isTreeWithin } from '../../shared/json-checks.ts';
import { MAX_ITEM_OUTPUT_DEPTH } from '../../shared/limits.ts';
import { RunnerMessage } from '../../shared/runner-protocol.ts';

/** What the page asked the worker to run. */
export interface ExpectedBatch {
  batchId: number;
  /** Items of each task, by key. */
  items: ReadonlyMap<string, number>;
  /** Items of each task, in the batch's order. */
  counts: readonly number[];
}

/** A message that passed every check, or `tampered`. */
export type RunnerVerdict = RunnerMessage | { type: 'tampered' };

/** Levels a runner message wraps an item's output or checkpoint state in. */
const MESSAGE_DEPTH = 4;

const TAMPERED = { type: 'tampered' } as const;

export function readRunnerMessage(data: unknown, expected?: ExpectedBatch): RunnerVerdict {
  let parsed: ReturnType<typeof RunnerMessage.safeParse>;
  try {
    if (!isTreeWithin(data, MAX_ITEM_OUTPUT_DEPTH + MESSAGE_DEPTH)) return TAMPERED;
    parsed = RunnerMessage.safeParse(data);
  } catch {
    // Whatever the schema throws on is not a message the runner sends.
    return TAMPERED;
  }
  if (!parsed.success || !expected || parsed.data.batchId !== expected.batchId) return TAMPERED;
  const message = parsed.data;
  switch (message.type) {
    case 'progress':
      return expected.items.has(message.key) ? message : TAMPERED;
    case 'checkpoint': {
      const items = expected.items.get(message.key);
      const { item, done } = message.checkpoint;
      return items !== undefined && item < items && done.length === item ? message : TAMPERED;
    }
    case 'results': {
      const { outcomes } = message;
      const fits =
        outcomes.length === expected.counts.length &&
        expected.counts.every((count, i) => outcomes[i]?.length === count);
      return fits ? message : TAMPERED;
    }
    case 'failed':
      return message;
  }
}
