/**
 * @module The optional reduce of a finished job: `(acc, output, index) => acc` folded over the
 * outputs in input order, in a worker thread with a time and memory limit, fed in pages from the
 * store so a large job's results never sit whole in memory. The code is the admin's own (it
 * comes with the job), so a worker thread bounds its time and memory; it is not a sandbox.
 */
import { Worker } from 'node:worker_threads';
import { formatJsonPath, jsonShapeIssue } from '../../shared/json-bounds.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { StoredTaskResult } from '../store/store.ts';

export type ReduceOutcome = { value: JsonValue } | { error: string };

/** The worker: compiles the reducer, folds each page it is sent, answers with the total. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let acc = workerData.initial;
let fn;
try {
  fn = new Function('"use strict"; return (' + workerData.source + '\\n);')();
  if (typeof fn !== 'function') throw new Error('reduce is not a function');
} catch (error) {
  parentPort.postMessage({ type: 'error', message: 'reduce does not compile: ' + error.message });
}
parentPort.on('message', (message) => {
  try {
    if (message.type === 'page') {
      for (const [index, output] of message.items) acc = fn(acc, output, index);
      parentPort.postMessage({ type: 'ack' });
    } else if (message.type === 'end') {
      const text = JSON.stringify(acc);
      if (text === undefined) throw new Error('reduce returned undefined');
      parentPort.postMessage({ type: 'done', value: JSON.parse(text) });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: 'reduce threw: ' + (error && error.message) });
  }
});
`;

export interface ReduceOptions {
  source: string;
  initial: JsonValue;
  timeLimitMs: number;
  /** Heap limit of the worker thread. */
  memoryLimitMb?: number;
}

/**
 * Folds `results` (pages of settled tasks, in task order) with the job's reducer. Never throws:
 * compile errors, throws, timeouts and items that failed end as `{ error }`.
 */
export async function runReduce(
  results: AsyncIterable<StoredTaskResult>,
  start: (taskIndex: number) => number,
  options: ReduceOptions,
): Promise<ReduceOutcome> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { source: options.source, initial: options.initial },
    resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb ?? 256 },
  });
  let timer: NodeJS.Timeout | undefined;
  const reply = (): Promise<{ type: string; value?: JsonValue; message?: string }> =>
    new Promise((resolve) => {
      const onMessage = (message: { type: string; value?: JsonValue; message?: string }): void => {
        cleanup();
        resolve(message);
      };
      const onError = (error: Error): void => {
        cleanup();
        resolve({ type: 'error', message: `reduce crashed: ${error.message}` });
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
  const deadline = new Promise<{ type: string; message: string }>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({ type: 'error', message: `reduce took longer than ${options.timeLimitMs} ms` }),
      options.timeLimitMs,
    );
  });
  try {
    for await (const { taskIndex, items } of results) {
      const page: Array<[number, JsonValue]> = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (!item || 'error' in item) {
          return {
            error: `reduce skipped: item ${start(taskIndex) + i} has no output (${item?.error ?? 'missing'})`,
          };
        }
        page.push([start(taskIndex) + i, item.output]);
      }
      worker.postMessage({ type: 'page', items: page });
      const answer = await Promise.race([reply(), deadline]);
      if (answer.type === 'error') return { error: String(answer.message) };
    }
    worker.postMessage({ type: 'end' });
    const answer = await Promise.race([reply(), deadline]);
    if (answer.type !== 'done') return { error: String(answer.message) };
    const { value } = answer as { value: JsonValue };
    // The value is stored, sent to admin pages and served like any result: the same bounds.
    const issue = jsonShapeIssue(value);
    return issue
      ? {
          error: `reduce's value is refused: ${formatJsonPath('value', issue.path)} ${issue.message}`,
        }
      : { value };
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
