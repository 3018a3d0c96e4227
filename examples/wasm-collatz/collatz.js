/**
 * The longest Collatz chain starting in one block of numbers, the chain lengths computed by a
 * WebAssembly function. Input `n` stands for the starting numbers [n * BLOCK, (n + 1) * BLOCK).
 *
 * The module is 97 bytes, written by hand from this WebAssembly text and kept here as base64
 * (job code loads no files, so the bytes travel inside it):
 *
 *   (module
 *     (func (export "steps") (param $n i32) (result i32)
 *       (local $x i64) (local $steps i32)
 *       (local.set $x (i64.extend_i32_u (local.get $n)))   ;; 64 bits: chains climb past 2^32
 *       (block $done
 *         (loop $next
 *           (br_if $done (i64.le_u (local.get $x) (i64.const 1)))
 *           (if (i64.eqz (i64.and (local.get $x) (i64.const 1)))
 *             (then (local.set $x (i64.shr_u (local.get $x) (i64.const 1))))
 *             (else (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)))))
 *           (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
 *           (br $next)))
 *       (local.get $steps)))
 */
const WASM_BASE64 =
  'AGFzbQEAAAABBgFgAX8BfwMCAQAHCQEFc3RlcHMAAApAAT4CAX4BfyAArSEBAkADQCABQgFYDQEgAUIBg1AEQCABQgGIIQEFIAFCA35CAXwhAQsgAkEBaiECDAALCyACCw==';
const BLOCK = 100_000;

// Compiled once per Web Worker, when the job's module is first loaded there.
const bytes = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
const { steps } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;

export default function longestChain(n, ctx) {
  const from = Math.max(1, n * BLOCK);
  const to = (n + 1) * BLOCK;
  let best = { start: from, steps: steps(from) };
  for (let start = from + 1; start < to; start++) {
    const length = steps(start);
    if (length > best.steps) best = { start, steps: length };
    if (start % 10_000 === 0) ctx.progress((start - from) / (to - from));
  }
  return { from, to, ...best };
}
