import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const e2e = useE2E();

const FIXTURE = fileURLToPath(new URL('../fixtures/map-functions/zod-job.js', import.meta.url));

describe('job code bundled from npm libraries, in Chromium', () => {
  it('runs a real npm library bundled by esbuild into one ES module, in two tabs', async () => {
    const { outputFiles } = await build({
      entryPoints: [FIXTURE],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const map = outputFiles[0]?.text ?? '';
    // What the issue saw refused: no `export default`, only the bundler's closing export list.
    expect(map).not.toMatch(/\bexport\s+default\b/);
    expect(map).toMatch(/export \{\n\s+\w+ as default\n\};\n$/);

    const server = await e2e.coordinator();
    await e2e.tab(server);
    await e2e.tab(server);
    const inputs = [
      { sku: 'ABC-1', quantity: 3 },
      { sku: 'abc', quantity: 2 },
      { sku: 'XYZ-42', quantity: -1 },
      { quantity: 1.5 },
    ];
    const job = await e2e.submit(server, { map, inputs, redundancy: 2 });
    expect(await waitForJob(server, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
    });
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'])).toEqual([
      { ok: true, total: 3 },
      { ok: false, fields: ['sku'] },
      { ok: false, fields: ['quantity'] },
      { ok: false, fields: ['sku', 'quantity'] },
    ]);
  });

  it('compiles a function whose text mentions `export default` as the function it is', async () => {
    const server = await e2e.coordinator();
    await e2e.tab(server);
    // The tab used to guess the kind from the text; the coordinator's parser decides it now.
    const job = await e2e.submit(server, {
      map: "(x) => 'export default ' + x",
      inputs: ['a', 'b'],
      maxAttempts: 1,
    });
    expect(await waitForJob(server, job.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
    });
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'])).toEqual(['export default a', 'export default b']);
  });
});
