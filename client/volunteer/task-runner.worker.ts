/**
 * @module The Web Worker that runs job code, started inside the sandbox frame (opaque origin, no
 * network: see client/sandbox/sandbox.ts). It speaks plain messages with the page
 * (shared/runner-protocol.ts): a batch's job is compiled once per worker, then its map runs over
 * each task's inputs, one outcome per item. The pool terminates and replaces this worker when a
 * task goes `timeoutMs` without progress, so nothing here needs to be interruptible.
 *
 * Job code shares this realm and may patch any global. The page does not trust what this worker
 * sends (it checks every message), so what is guarded here is only that job code cannot get hold
 * of the page's port to speak for other tasks of its batch: everything the runner uses to talk
 * is captured before any job code runs. Job code does not run in a further nested worker: it
 * could only lie about its own job's tasks, which its map can do anyway by returning anything,
 * and a second hop per batch is the cost batching exists to avoid.
 */
import type { ItemOutcome } from '../../shared/job.ts';
import type { JsonValue } from '../../shared/json.ts';
import { notJsonReason } from '../../shared/json-checks.ts';
import { MAX_ITEM_OUTPUT_CHARS } from '../../shared/limits.ts';
import type { MapKind, TaskCheckpoint } from '../../shared/protocol.ts';
import type { RunBatch, RunnerMessage, RunnerTask } from '../../shared/runner-protocol.ts';
import { explainNetworkBlock, NETWORK_BLOCK_PREFIX } from './network-block.ts';

export interface MapContext {
  /** Reports how far the current item is, 0..1; also tells the coordinator the task is alive. */
  progress(fraction: number): void;
  /** Saves state for the current item; a copy re-run after a reload, drop or timeout resumes there. */
  checkpoint(state: JsonValue): void;
  /** The state last saved by `checkpoint` for the current item, or undefined. */
  restore(): JsonValue | undefined;
}

type MapFunction = (input: JsonValue, ctx: MapContext) => unknown;

// Captured before job code can replace them: the port is reached only through these.
const apply = Reflect.apply;
const postMessage = MessagePort.prototype.postMessage;
const dataOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data')?.get;
const { stringify, parse } = JSON;
const createObjectURL = URL.createObjectURL;
const revokeObjectURL = URL.revokeObjectURL;

explainNetworkBlock(self);

let port: MessagePort | undefined;
const loaded = new Map<string, MapFunction>();

function send(message: RunnerMessage): void {
  if (port) apply(postMessage, port, [message]);
}

async function compile(kind: MapKind, source: string): Promise<MapFunction> {
  if (kind === 'module') {
    const url = createObjectURL(new Blob([source], { type: 'text/javascript' }));
    try {
      const module = (await import(/* @vite-ignore */ url)) as { default?: unknown };
      if (typeof module.default !== 'function') {
        throw new Error('the module has no default export function');
      }
      return module.default as MapFunction;
    } finally {
      revokeObjectURL(url);
    }
  }
  // Job code is compiled on purpose, here and only here.
  const fn = new Function(`"use strict"; return (${source}\n);`)() as unknown;
  if (typeof fn !== 'function') throw new Error('map is not a function');
  return fn as MapFunction;
}

/**
 * The output as a fresh copy of plain data (no getters left to run when it is cloned for the
 * page), or why it cannot be one.
 */
function snapshot(output: unknown): ItemOutcome {
  const reason = notJsonReason(output);
  if (reason) return { error: `[runner]: ${reason}` };
  const text = stringify(output);
  if (text.length > MAX_ITEM_OUTPUT_CHARS) {
    return {
      error: `[runner]: output is ${text.length} characters of JSON, over the limit of ${MAX_ITEM_OUTPUT_CHARS}`,
    };
  }
  const copy = parse(text) as JsonValue;
  // Checked again on the copy, with the coordinator's bounds: getters may have answered the
  // stringify differently from the check above.
  const changed = notJsonReason(copy);
  return changed ? { error: `[runner]: ${changed}` } : { output: copy };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return `threw ${String(error)}`;
  // The sandbox's own words stand alone: "TypeError:" before them would say nothing more.
  return error.message.startsWith(NETWORK_BLOCK_PREFIX)
    ? error.message
    : `${error.name}: ${error.message}`;
}

/**
 * Runs the map over a task's inputs in order, from `checkpoint.item` when resuming; an item whose
 * map throws carries the error. `ctx` speaks only while its own item runs, so job code that
 * calls it later cannot report for another task.
 */
async function runTask(batchId: number, fn: MapFunction, task: RunnerTask): Promise<ItemOutcome[]> {
  const { key, inputs } = task;
  const checkpoint = task.checkpoint;
  const resume = checkpoint && checkpoint.item <= inputs.length ? checkpoint : undefined;
  const outcomes: ItemOutcome[] = resume ? resume.done.slice(0, resume.item) : [];
  for (let i = outcomes.length; i < inputs.length; i++) {
    let current = true;
    const ctx: MapContext = {
      progress: (fraction) => {
        if (!current) return;
        const clamped = Math.min(1, Math.max(0, Number(fraction) || 0));
        send({ type: 'progress', batchId, key, fraction: (i + clamped) / inputs.length });
      },
      checkpoint: (state) => {
        if (!current) return;
        const reason = notJsonReason(state, 'checkpoint state');
        if (reason) throw new TypeError(`[runner]: ${reason}`);
        const copy = parse(stringify(state)) as JsonValue;
        const changed = notJsonReason(copy, 'checkpoint state');
        if (changed) throw new TypeError(`[runner]: ${changed}`);
        const saved: TaskCheckpoint = { item: i, state: copy, done: outcomes.slice() };
        send({ type: 'checkpoint', batchId, key, checkpoint: saved });
      },
      restore: () => (resume && resume.item === i ? resume.state : undefined),
    };
    try {
      outcomes.push(snapshot(await fn(inputs[i] as JsonValue, ctx)));
    } catch (error) {
      outcomes.push({ error: describe(error) });
    } finally {
      current = false;
    }
  }
  return outcomes;
}

async function runBatch(request: RunBatch): Promise<void> {
  const { batchId, jobId } = request;
  try {
    let fn = loaded.get(jobId);
    if (!fn) {
      if (request.source === undefined)
        throw new Error(`job ${jobId} is not loaded in this worker`);
      fn = await compile(request.mapKind, request.source);
      loaded.set(jobId, fn);
    }
    const outcomes: ItemOutcome[][] = [];
    for (const task of request.tasks) outcomes.push(await runTask(batchId, fn, task));
    send({ type: 'results', batchId, outcomes });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    send({ type: 'failed', batchId, message: message.slice(0, 4000) });
  }
}

// The sandbox frame that started this worker sends the page's end of a MessageChannel first, before
// any job code exists; the runner speaks only on that port, never on the worker's global scope.
self.addEventListener(
  'message',
  (event: MessageEvent<{ type?: string; port?: MessagePort }>) => {
    if (event.data?.type !== 'browsergrid:port' || !event.data.port) return;
    port = event.data.port;
    port.onmessage = (message: MessageEvent) => {
      // Read through the captured getter: a patched MessageEvent.prototype.data would be handed
      // the event, and through it the port.
      const request = (dataOf ? apply(dataOf, message, []) : undefined) as RunBatch | undefined;
      if (request?.type === 'run') void runBatch(request);
    };
  },
  { once: true },
);
