/**
 * The shipped reverse-proxy example (deploy/nginx/browsergrid.conf) run by Debian's nginx in front
 * of a real coordinator, with a self-signed certificate made for the test: the CLI uploads a file,
 * submits, follows and downloads results over https, a simulated tab works over wss (a WebSocket
 * upgraded through nginx), and every result comes back. Only ports, the upstream and the
 * certificate paths differ from the example (test/support/nginx.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-process.ts';
import { useHarness } from '../support/harness.ts';
import { EXAMPLE_CONF, missingTools, startNginx, templateExample } from '../support/nginx.ts';
import { SimTab } from '../support/sim-tab.ts';

const { coordinator, defer } = useHarness();

describe('browsergrid behind nginx', () => {
  it('runs a job end to end through the example config: CLI over https, a tab over wss', async () => {
    // Never skipped: .ci/run installs both.
    expect(missingTools()).toBeUndefined();
    // Set up as docs/operations.md says.
    const server = await coordinator({ config: { trustedProxies: ['127.0.0.1'] } });
    const nginx = await startNginx(server.url);
    defer(() => nginx.stop());

    const redirect = await fetch(`${nginx.httpUrl}/admin?x=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('https://127.0.0.1/admin?x=1');

    const tab = await SimTab.connect(nginx.httpsUrl, { slots: 4, ca: nginx.certPem });
    defer(() => tab.close());
    expect(tab.socket.io.engine.transport.name).toBe('websocket');

    const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-nginx-job-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const mapFile = path.join(dir, 'triple.js');
    writeFileSync(mapFile, '(item) => item.n * 3');
    const inputsFile = path.join(dir, 'inputs.ndjson');
    const count = 500;
    writeFileSync(
      inputsFile,
      Array.from({ length: count }, (_, n) => `${JSON.stringify({ n })}\n`).join(''),
    );
    const outFile = path.join(dir, 'results.ndjson');
    const trusted = { NODE_EXTRA_CA_CERTS: nginx.certFile };
    const remote = ['--url', nginx.httpsUrl, '--token', server.token];

    const run = await runCli(
      [
        'submit',
        ...remote,
        '--map',
        mapFile,
        '--inputs',
        inputsFile,
        '--chunk-size',
        '10',
        '--name',
        'through nginx',
        '--out',
        outFile,
      ],
      { env: trusted, timeoutMs: 60_000 },
    );
    expect(run.code, `${run.stderr}\n${nginx.output()}`).toBe(0);
    const created = JSON.parse(run.stdout.split('\n')[0] ?? '') as { id: string; items: number };
    expect(created.items).toBe(count);
    const lines = readFileSync(outFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual(Array.from({ length: count }, (_, n) => ({ index: n, output: n * 3 })));
    expect(tab.stats).toMatchObject({ computed: count / 10, acked: count / 10 });

    const status = await runCli(['status', created.id, ...remote], { env: trusted });
    expect(status.stdout).toMatch(/completed\s+50\/50 tasks done, 0 failed/);
    // The certificate is checked for real: without it trusted, the CLI refuses the proxy.
    const untrusted = await runCli(['status', created.id, ...remote]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/certificate/i);
  }, 90_000);

  it('is tested as shipped: each value the test swaps appears once in the example', () => {
    const example = readFileSync(EXAMPLE_CONF, 'utf8');
    const conf = templateExample(example, {
      upstreamPort: 1,
      httpPort: 2,
      httpsPort: 3,
      dir: '/d',
    });
    expect(conf).toContain('server 127.0.0.1:1;');
    expect(conf).toContain('listen 127.0.0.1:3 ssl;');
    // Nothing else differs.
    const lines = (text: string): string[] => text.split('\n');
    const changed = lines(conf).filter((line, i) => line !== lines(example)[i]);
    expect(changed).toHaveLength(5);
  });
});
