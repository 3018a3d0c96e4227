/**
 * @module What a simulated tab answers for a copy it runs: the job's own map run in-process (an
 * honest tab), the same wrong output for every item (a forger), an error for the whole copy (a
 * device failing on purpose), or nothing at all (a hung tab). Imports only `shared/`, so it runs
 * in a bench's worker thread or child process without loading the coordinator.
 */
import type { ItemOutcome } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { notJsonReason } from '../../shared/json-checks.ts';
import type { Assignment, JobCode, TaskOutcome } from '../../shared/protocol.ts';

export type MapFunction = (input: JsonValue) => unknown;

/**
 * `honest` runs the map; `silent` takes the copy and never answers it; `failing` answers
 * `{ status: 'error' }`; `{ output }` answers every item with that output. A function decides by
 * itself (`undefined`: never answered).
 */
export type SimAnswer =
  | 'honest'
  | 'silent'
  | 'failing'
  | { output: JsonValue }
  | ((task: Assignment, map: MapFunction | undefined) => TaskOutcome | undefined);

/** Compiles a function-expression map, once per job, as the tab's worker does. */
export function compileMap(job: JobCode): MapFunction {
  return new Function(`"use strict"; return (${job.map}\n);`)() as MapFunction;
}

/** The outcome a tab giving `answer` reports for `task`; undefined when it never answers. */
export function answerFor(
  answer: SimAnswer,
  task: Assignment,
  map: MapFunction | undefined,
): TaskOutcome | undefined {
  if (typeof answer === 'function') return answer(task, map);
  if (answer === 'silent') return undefined;
  if (answer === 'failing') return { status: 'error', message: 'sim tab: failing on purpose' };
  if (answer !== 'honest') {
    return { status: 'ok', items: task.inputs.map(() => ({ output: answer.output })) };
  }
  const items: ItemOutcome[] = task.inputs.map((input) => {
    try {
      // What the page's worker checks (task-runner.worker.ts): over the bounds is an item error.
      const output = map?.(input);
      const reason = notJsonReason(output);
      return reason ? { error: `[runner]: ${reason}` } : { output: output as JsonValue };
    } catch (error) {
      return { error: String(error) };
    }
  });
  return { status: 'ok', items };
}
