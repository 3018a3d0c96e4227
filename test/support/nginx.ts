/**
 * @module Debian's nginx in front of a coordinator, for tests: the shipped
 * deploy/nginx/browsergrid.conf with only its ports, upstream and certificate swapped (each swap
 * must match the file exactly once, so the example cannot drift from what is tested), a
 * throwaway self-signed certificate for 127.0.0.1 made with the openssl CLI, and every path nginx
 * writes (pid, logs, temp files) in a temp dir. Runs in the foreground, stopped by `stop`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { within } from './events.ts';

export const NGINX = '/usr/sbin/nginx';
export const EXAMPLE_CONF = fileURLToPath(
  new URL('../../deploy/nginx/browsergrid.conf', import.meta.url),
);

export interface Nginx {
  /** https://127.0.0.1:port, TLS ending in nginx. */
  httpsUrl: string;
  /** http://127.0.0.1:port, which redirects to https. */
  httpUrl: string;
  /** The certificate nginx serves (PEM), to trust as a CA. */
  certPem: string;
  certFile: string;
  /** The config nginx runs, as templated from the example. */
  conf: string;
  /** Everything nginx logged (its error log is stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** What a test needs installed; undefined when it is all there. */
export function missingTools(): string | undefined {
  if (!existsSync(NGINX)) return `${NGINX} (apt-get install nginx-light)`;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'the openssl CLI (apt-get install openssl)';
  }
  return undefined;
}

/** `count` distinct ports free on 127.0.0.1 right now (nginx cannot be told to pick one). */
async function freePorts(count: number): Promise<number[]> {
  // Held open together, so the system cannot hand out one port twice.
  const servers = Array.from({ length: count }, () => createServer());
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  return ports;
}

/** Replaces `from` in `text`, which must hold it exactly once. */
function swapOnce(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  if (count !== 1) {
    throw new Error(
      `[nginx test]: expected ${JSON.stringify(from)} once in ${EXAMPLE_CONF}, found it ${count} times`,
    );
  }
  return text.replace(from, to);
}

/** The example with this test's ports, upstream and certificate. */
export function templateExample(
  example: string,
  options: { upstreamPort: number; httpPort: number; httpsPort: number; dir: string },
): string {
  let conf = example;
  conf = swapOnce(conf, 'server 127.0.0.1:8080;', `server 127.0.0.1:${options.upstreamPort};`);
  conf = swapOnce(conf, 'listen 80;', `listen 127.0.0.1:${options.httpPort};`);
  conf = swapOnce(conf, 'listen 443 ssl;', `listen 127.0.0.1:${options.httpsPort} ssl;`);
  conf = swapOnce(
    conf,
    '/etc/letsencrypt/live/grid.example.org/fullchain.pem',
    path.join(options.dir, 'cert.pem'),
  );
  conf = swapOnce(
    conf,
    '/etc/letsencrypt/live/grid.example.org/privkey.pem',
    path.join(options.dir, 'key.pem'),
  );
  return conf;
}

export async function startNginx(upstreamUrl: string): Promise<Nginx> {
  const dir = mkdtempSync(path.join(tmpdir(), 'browsergrid-nginx-'));
  const certFile = path.join(dir, 'cert.pem');
  // The address clients connect to is in the certificate, so it verifies without skipping checks.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const [httpPort = 0, httpsPort = 0] = await freePorts(2);
  const conf = templateExample(readFileSync(EXAMPLE_CONF, 'utf8'), {
    upstreamPort: Number(new URL(upstreamUrl).port),
    httpPort,
    httpsPort,
    dir,
  });
  writeFileSync(path.join(dir, 'browsergrid.conf'), conf);
  // As Debian's nginx.conf includes conf.d/*.conf inside http; everything it writes under `dir`.
  // As root, the workers stay root too: the default (nobody) could not write the temp dir.
  const main = [
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    // Notices included: "start worker process" says the ports are bound.
    'error_log stderr notice;',
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${path.join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `  ${kind}_temp_path ${path.join(dir, `${kind}-temp`)};`,
    ),
    `  include ${path.join(dir, 'browsergrid.conf')};`,
    '}',
  ].join('\n');
  const mainFile = path.join(dir, 'nginx.conf');
  writeFileSync(mainFile, `${main}\n`);

  const child = spawn(NGINX, ['-p', dir, '-e', 'stderr', '-c', mainFile, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const started = new Promise<void>((resolve) =>
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('start worker process')) resolve();
    }),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = (): string => stderr;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // graceful: open connections finish first
      await within(exited, 10_000, 'nginx to stop').catch(() => child.kill('SIGKILL'));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Its ports are bound before it starts workers; an exit first is a failed start.
  const httpsUrl = `https://127.0.0.1:${httpsPort}`;
  try {
    await within(
      Promise.race([
        exited.then(() => {
          throw new Error(`[nginx test]: nginx exited at start:\n${output()}`);
        }),
        started,
      ]),
      10_000,
      'nginx to listen',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    httpsUrl,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    certPem: readFileSync(certFile, 'utf8'),
    certFile,
    conf,
    output,
    stop,
  };
}
