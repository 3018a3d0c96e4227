/**
 * @module The Web Worker that runs job code. Each job's source is compiled once per worker
 * (`load`), then `run` maps it over a task's inputs, one outcome per item. The pool terminates
 * and replaces this worker when a task outlives its timeout, so nothing here needs to be
 * interruptible.
 */
import { expose } from 'comlink';
import type { ItemOutcome } from '../../shared/job.ts';
import { notJsonReason, type JsonValue } from '../../shared/json.ts';

export interface MapContext {
  /** Reports how far the current item is, 0..1. */
  progress(fraction: number): void;
}

type MapFunction = (input: JsonValue, ctx: MapContext) => unknown;

const loaded = new Map<string, MapFunction>();

async function compile(source: string): Promise<MapFunction> {
  if (/\bexport\s+default\b/.test(source)) {
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    try {
      const module = (await import(/* @vite-ignore */ url)) as { default?: unknown };
      if (typeof module.default !== 'function')
        throw new Error('the module has no default export function');
      return module.default as MapFunction;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- job code is compiled on purpose, here and only here
  const fn = new Function(`"use strict"; return (${source}\n);`)() as unknown;
  if (typeof fn !== 'function') throw new Error('map is not a function');
  return fn as MapFunction;
}

const api = {
  /** Compiles a job's code in this worker. Rejects with the compiler's message. */
  async load(jobId: string, source: string): Promise<void> {
    if (!loaded.has(jobId)) loaded.set(jobId, await compile(source));
  },

  unload(jobId: string): void {
    loaded.delete(jobId);
  },

  /** Runs the job's map over `inputs` in order; an item whose map throws carries the error. */
  async run(
    jobId: string,
    inputs: JsonValue[],
    onProgress?: (fraction: number) => void,
  ): Promise<ItemOutcome[]> {
    const fn = loaded.get(jobId);
    if (!fn) throw new Error(`[runner]: job ${jobId} is not loaded in this worker`);
    const outcomes: ItemOutcome[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const ctx: MapContext = {
        progress: (fraction) =>
          onProgress?.((i + Math.min(1, Math.max(0, Number(fraction) || 0))) / inputs.length),
      };
      try {
        const output = await fn(inputs[i] as JsonValue, ctx);
        const reason = notJsonReason(output);
        outcomes.push(reason ? { error: `[runner]: ${reason}` } : { output: output as JsonValue });
      } catch (error) {
        outcomes.push({
          error:
            error instanceof Error ? `${error.name}: ${error.message}` : `threw ${String(error)}`,
        });
      }
    }
    return outcomes;
  },
};

export type TaskRunnerApi = typeof api;

expose(api);
