/**
 * Estimates π by Monte Carlo on a browsergrid: submits `map.js` over `items` seeds with
 * a reduce that adds the counts up on the coordinator, waits for the job and its reduce, and
 * prints the estimate. `npx tsx examples/monte-carlo-pi/run.ts [items] [dartsPerItem]`.
 *
 * The coordinator is BROWSERGRID_URL (default http://localhost:8080); the token
 * BROWSERGRID_ADMIN_TOKEN, else the one `npm start` saved in ./data/admin-token.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'browsergrid/sdk';

const items = Number(process.argv[2] ?? 100);
const darts = Number(process.argv[3] ?? 250_000);
if (!Number.isSafeInteger(items) || items < 1 || !Number.isSafeInteger(darts) || darts < 1) {
  throw new Error('usage: run.ts [items] [dartsPerItem], both whole numbers above 0');
}

interface Tally {
  inside: number;
  darts: number;
}

/**
 * Folded over the outputs in input order, on the coordinator, once the job has ended. It is sent
 * as its source text, so it must use nothing from around it.
 */
const addUp = (total: Tally, item: Tally): Tally => ({
  inside: total.inside + item.inside,
  darts: total.darts + item.darts,
});

const here = (file: string): string => readFileSync(new URL(file, import.meta.url), 'utf8');
const url = process.env['BROWSERGRID_URL'] ?? 'http://localhost:8080';
const token = process.env['BROWSERGRID_ADMIN_TOKEN'] ?? readFileSync('data/admin-token', 'utf8');
const client = connect(url, { token: token.trim() });

const job = await client.submit({
  name: `monte-carlo-pi ${items} x ${darts}`,
  map: here('./map.js'),
  inputs: Array.from({ length: items }, (_, seed) => ({ seed, darts })),
  reduce: { fn: String(addUp), initial: { inside: 0, darts: 0 } },
});
process.stderr.write(`job ${job.id}: ${items} items of ${darts} darts\n`);
job.onProgress((summary) => process.stderr.write(`${summary.done}/${summary.tasks} tasks\r`));
const summary = await job.done();
if (summary.status !== 'completed') throw new Error(`job ${job.id} ended ${summary.status}`);

// The reduce runs on the coordinator once the job has ended: wait for its value.
let reduce = summary.reduce;
while (reduce?.status === 'pending') {
  await new Promise((resolve) => setTimeout(resolve, 200));
  reduce = (await job.status()).reduce;
}
if (reduce?.status !== 'done') throw new Error(`reduce: ${reduce?.error ?? 'none'}`);
const total = reduce.value as unknown as Tally;
const pi = (4 * total.inside) / total.darts;
process.stdout.write(
  `${JSON.stringify({ pi, inside: total.inside, darts: total.darts, error: Math.abs(pi - Math.PI) })}\n`,
);
