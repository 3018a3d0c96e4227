/**
 * Counts the primes in one block of numbers: input `n` stands for [n * BLOCK, (n + 1) * BLOCK).
 * A segmented sieve of Eratosthenes, one SEGMENT at a time, saving a checkpoint after each, so a
 * copy re-run after a closed tab or a timeout picks up where the last one stopped.
 */
const BLOCK = 1_000_000;
const SEGMENT = 100_000;

/** The primes up to and including `limit`, by a plain sieve. */
function primesUpTo(limit) {
  const composite = new Uint8Array(limit + 1);
  const primes = [];
  for (let i = 2; i <= limit; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j <= limit; j += i) composite[j] = 1;
  }
  return primes;
}

/** How many primes lie in [from, to), given every prime up to sqrt(to). */
function countInSegment(from, to, basePrimes) {
  const composite = new Uint8Array(to - from);
  for (const p of basePrimes) {
    if (p * p >= to) break;
    const first = Math.max(p * p, Math.ceil(from / p) * p);
    for (let m = first; m < to; m += p) composite[m - from] = 1;
  }
  let count = 0;
  for (let i = Math.max(from, 2); i < to; i++) if (!composite[i - from]) count++;
  return count;
}

export default function countPrimes(n, ctx) {
  const from = n * BLOCK;
  const to = from + BLOCK;
  const basePrimes = primesUpTo(Math.ceil(Math.sqrt(to)));
  const saved = ctx.restore();
  let next = saved ? saved.next : from;
  let count = saved ? saved.count : 0;
  while (next < to) {
    const end = Math.min(next + SEGMENT, to);
    count += countInSegment(next, end, basePrimes);
    next = end;
    ctx.checkpoint({ next, count });
    ctx.progress((next - from) / BLOCK);
  }
  return { from, to, count };
}
