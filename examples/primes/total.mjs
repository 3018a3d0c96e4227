/**
 * Adds up the counts in a prime-count job's results (the NDJSON that `browsergrid submit --out`
 * or `browsergrid results` wrote): `node examples/primes/total.mjs primes.ndjson`.
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node examples/primes/total.mjs <results.ndjson>\n');
  process.exit(2);
}
let total = 0;
let below = 0;
let ranges = 0;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const result = JSON.parse(line);
  if ('error' in result) {
    process.stderr.write(`item ${result.index} failed: ${result.error}\n`);
    process.exit(1);
  }
  total += result.output.count;
  below = Math.max(below, result.output.to);
  ranges++;
}
process.stdout.write(`${total} primes in ${ranges} ranges below ${below}\n`);
