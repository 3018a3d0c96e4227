/** @module Defaults and hard limits shared by the coordinator, the pages and the SDK. Units are in the names. */

export const DEFAULT_PORT = 8080;

/** Default items per task when a job does not say. One item keeps results fine-grained; dispatch batches tasks anyway. */
export const DEFAULT_CHUNK_SIZE = 1;
/** How long one task may run in a tab before its Web Worker is terminated and the attempt counts as failed. */
export const DEFAULT_TASK_TIMEOUT_MS = 30_000;
export const MIN_TASK_TIMEOUT_MS = 50;
/**
 * When a job sets no `maxRuntimeMs`, a copy may run this many times its `timeoutMs` from its
 * start, however much progress it reports: progress restarts `timeoutMs`, and without a cap a
 * tab that reports progress and never answers would hold its copies for ever.
 */
export const DEFAULT_MAX_RUNTIME_TIMEOUTS = 20;
export const MAX_TASK_TIMEOUT_MS = 24 * 60 * 60_000;
/** Failed attempts (map threw, timed out, returned non-JSON) before a task's items are recorded as errors. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_MAX_ATTEMPTS = 20;
export const MAX_REDUNDANCY = 10;
/** Items one job may hold (array, range or upload). */
export const MAX_JOB_ITEMS = 10_000_000;
export const MAX_CHUNK_SIZE = 100_000;
/** Job source code, in UTF-16 code units. */
export const MAX_MAP_CODE_CHARS = 256 * 1024;
/** Largest HTTP JSON body accepted by the REST API. */
export const MAX_HTTP_BODY_BYTES = 64 * 1024 * 1024;
/** Largest upload (`POST /api/uploads`): it streams to the store, so this bounds disk, not memory. */
export const MAX_UPLOAD_BYTES = 16 * 1024 * 1024 * 1024;
/** One uploaded item (an NDJSON line or a CSV row), in bytes. */
export const MAX_UPLOAD_ITEM_BYTES = 1024 * 1024;
/** Input JSON one task may carry (chunkSize x average item size), checked at submit. */
export const MAX_TASK_INPUT_BYTES = 8 * 1024 * 1024;
/** Largest socket.io message accepted from a tab (socket.io's maxHttpBufferSize). */
export const MAX_SOCKET_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Web Workers a tab may run. */
export const MAX_SLOTS_PER_TAB = 64;
/** Results a tab may report in one message. */
export const MAX_RESULTS_PER_MESSAGE = 1_000;
/** Coordinator URLs a welcome lists for a tab to move to if its own is lost. */
export const MAX_ANNOUNCED_NODES = 32;

/** One item's output, as JSON text: larger outputs are an item error (store big data elsewhere). */
export const MAX_ITEM_OUTPUT_CHARS = 1_000_000;
/** A tab sends at most this much JSON in one results message (well under the message limit). */
export const RESULTS_MESSAGE_TARGET_CHARS = 4 * 1024 * 1024;

/*
 * The shape every JSON value that enters may have (inputs, outputs, checkpoint states, reduce
 * values), checked without recursion before any schema runs (see shared/json-bounds.ts). Each
 * bound admits everything the byte limits above admit in practice, and no more work than that:
 */
/** Nested arrays and objects. Data nests a handful of levels; 64 keeps every recursive walk
 * (JSON.stringify, structured clone, canonicalJson, socket.io's binary scan) far from the stack's
 * end, which 10,000 levels already reach. */
export const MAX_JSON_DEPTH = 64;
/**
 * Nesting of one item's output or checkpoint state, in a tab: deeper values are an item error in
 * the worker. The coordinator's own bound, so that nothing a tab's worker accepts is refused at
 * the coordinator, where a results frame too deep closes the tab's connection.
 */
export const MAX_ITEM_OUTPUT_DEPTH = MAX_JSON_DEPTH;
/** Values in one JSON value, containers included. An item output (MAX_ITEM_OUTPUT_CHARS) or an
 * upload line (MAX_UPLOAD_ITEM_BYTES) holds at most about 525,000 (`[0,0,…]`, two characters
 * each), so twice that refuses none of them; it bounds what a checkpoint state, which has no
 * character limit of its own, makes the coordinator copy, store and send. */
export const MAX_JSON_NODES = 1_000_000;
/** One string, in UTF-16 code units: any string one task's input may carry (MAX_TASK_INPUT_BYTES).
 * A string costs one allocation, not a walk, so this bound is about memory, and messages bound
 * that too. */
export const MAX_JSON_STRING_CHARS = MAX_TASK_INPUT_BYTES;
/** One object key, in UTF-16 code units: keys are names (words, ids, URLs), not data. */
export const MAX_JSON_KEY_CHARS = 4096;
/** Nesting of the protocol's own envelope around a JSON value (`results[i].outcome.items[j].output`). */
export const MAX_ENVELOPE_DEPTH = 8;
/** A message from a connection that has not said hello (or authenticated as an admin): a hello
 * is well under 1 KiB, so anything larger is refused before socket.io parses it. This bounds
 * parsing, not buffering: the transport has already assembled the frame, up to
 * MAX_SOCKET_MESSAGE_BYTES, by the time it is checked. */
export const MAX_UNREGISTERED_MESSAGE_BYTES = 16 * 1024;
/** Messages refused as malformed after which a connection is closed: a tab never sends one. */
export const MAX_REFUSED_MESSAGES = 16;
