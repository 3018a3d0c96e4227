/**
 * @module The Web Worker that runs job code, started inside the sandbox frame (opaque origin, no
 * network: see client/sandbox/sandbox.ts). Each job's source is compiled once per worker
 * (`load`), then `run` maps it over a task's inputs, one outcome per item. The pool terminates
 * and replaces this worker when a task goes `timeoutMs` without progress, so nothing here needs
 * to be interruptible.
 */
import { expose } from 'comlink';
import type { ItemOutcome } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { notJsonReason } from '../../shared/json-checks.ts';
import { MAX_ITEM_OUTPUT_CHARS } from '../../shared/limits.ts';
import type { TaskCheckpoint } from '../../shared/protocol.ts';

export interface MapContext {
  /** Reports how far the current item is, 0..1; also tells the coordinator the task is alive. */
  progress(fraction: number): void;
  /** Saves state for the current item; a copy re-run after a reload, drop or timeout resumes there. */
  checkpoint(state: JsonValue): void;
  /** The state last saved by `checkpoint` for the current item, or undefined. */
  restore(): JsonValue | undefined;
}

/** Calls back into the pool, set once per worker (one comlink proxy, not one per task). */
export interface RunnerHooks {
  progress(key: string, fraction: number): void | Promise<void>;
  checkpoint(key: string, checkpoint: TaskCheckpoint): void | Promise<void>;
}

type MapFunction = (input: JsonValue, ctx: MapContext) => unknown;

const loaded = new Map<string, MapFunction>();
let hooks: RunnerHooks | undefined;

async function compile(source: string): Promise<MapFunction> {
  if (/\bexport\s+default\b/.test(source)) {
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    try {
      const module = (await import(/* @vite-ignore */ url)) as { default?: unknown };
      if (typeof module.default !== 'function') {
        throw new Error('the module has no default export function');
      }
      return module.default as MapFunction;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  // Job code is compiled on purpose, here and only here.
  const fn = new Function(`"use strict"; return (${source}\n);`)() as unknown;
  if (typeof fn !== 'function') throw new Error('map is not a function');
  return fn as MapFunction;
}

function tooLarge(output: unknown): string | undefined {
  const chars = JSON.stringify(output).length;
  return chars > MAX_ITEM_OUTPUT_CHARS
    ? `output is ${chars} characters of JSON, over the limit of ${MAX_ITEM_OUTPUT_CHARS}`
    : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `threw ${String(error)}`;
}

const api = {
  setHooks(next: RunnerHooks): void {
    hooks = next;
  },

  /** Compiles a job's code in this worker. Rejects with the compiler's message. */
  async load(jobId: string, source: string): Promise<void> {
    if (!loaded.has(jobId)) loaded.set(jobId, await compile(source));
  },

  unload(jobId: string): void {
    loaded.delete(jobId);
  },

  /**
   * Runs the job's map over `inputs` in order, from `checkpoint.item` when resuming; an item whose
   * map throws carries the error.
   */
  async run(
    key: string,
    jobId: string,
    inputs: JsonValue[],
    checkpoint?: TaskCheckpoint,
  ): Promise<ItemOutcome[]> {
    const fn = loaded.get(jobId);
    if (!fn) throw new Error(`[runner]: job ${jobId} is not loaded in this worker`);
    const resume = checkpoint && checkpoint.item <= inputs.length ? checkpoint : undefined;
    const outcomes: ItemOutcome[] = resume ? resume.done.slice(0, resume.item) : [];
    for (let i = outcomes.length; i < inputs.length; i++) {
      const ctx: MapContext = {
        progress: (fraction) => {
          const clamped = Math.min(1, Math.max(0, Number(fraction) || 0));
          void hooks?.progress(key, (i + clamped) / inputs.length);
        },
        checkpoint: (state) => {
          const reason = notJsonReason(state, 'checkpoint state');
          if (reason) throw new TypeError(`[runner]: ${reason}`);
          void hooks?.checkpoint(key, { item: i, state, done: outcomes.slice() });
        },
        restore: () => (resume && resume.item === i ? resume.state : undefined),
      };
      try {
        const output = await fn(inputs[i] as JsonValue, ctx);
        const reason = notJsonReason(output) ?? tooLarge(output);
        outcomes.push(reason ? { error: `[runner]: ${reason}` } : { output: output as JsonValue });
      } catch (error) {
        outcomes.push({ error: describe(error) });
      }
    }
    return outcomes;
  },

  /** Runs several tasks of one job in order, one message for all (tiny tasks, see the pool). */
  async runBatch(
    jobId: string,
    tasks: Array<{ key: string; inputs: JsonValue[]; checkpoint?: TaskCheckpoint }>,
  ): Promise<ItemOutcome[][]> {
    const outcomes: ItemOutcome[][] = [];
    for (const task of tasks)
      outcomes.push(await api.run(task.key, jobId, task.inputs, task.checkpoint));
    return outcomes;
  },
};

export type TaskRunnerApi = typeof api;

// The sandbox frame that started this worker sends the page's end of a MessageChannel first;
// the API is served only on that port, never on the worker's own global scope.
self.addEventListener(
  'message',
  (event: MessageEvent<{ type?: string; port?: MessagePort }>) => {
    if (event.data?.type === 'browsergrid:port' && event.data.port) expose(api, event.data.port);
  },
  { once: true },
);
