import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useE2E } from '../support/e2e.ts';
import { resultLines, waitForJob } from '../support/start-coordinator.ts';

const e2e = useE2E();

/**
 * Each input names one way out of the sandbox; the map returns 'escaped' if it worked. The
 * other origin is the coordinator reached as localhost instead of 127.0.0.1; `asset` is a real
 * script there (served to any origin), so only the policy can stop it loading.
 */
const attempt = (port: number, asset: string) => `async (what) => {
  const own = 'http://127.0.0.1:${port}';
  const other = 'http://localhost:${port}';
  switch (what) {
    case 'fetch': await fetch(own + '/healthz'); return 'escaped';
    case 'fetch-other': await fetch(other + '/healthz'); return 'escaped';
    case 'xhr': {
      const xhr = new XMLHttpRequest();
      xhr.open('GET', own + '/healthz', false);
      xhr.send();
      return 'escaped';
    }
    case 'websocket': {
      const ws = new WebSocket('ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket');
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('websocket refused'));
      });
      return 'escaped';
    }
    case 'importScripts': importScripts(other + '${asset}'); return 'escaped';
    case 'import': await import(other + '${asset}'); return 'escaped';
    case 'indexedDB': {
      await new Promise((resolve, reject) => {
        const request = indexedDB.open('browsergrid');
        request.onsuccess = resolve;
        request.onerror = () => reject(request.error);
      });
      return 'escaped';
    }
    case 'caches': await caches.open('x'); return 'escaped';
    case 'localStorage': localStorage.getItem('browsergrid.tabId'); return 'escaped';
    case 'document': return document.title ? 'escaped' : 'escaped';
    case 'cookie': return document.cookie, 'escaped';
    default: return 'unknown';
  }
}`;

const ESCAPES = [
  'fetch',
  'fetch-other',
  'xhr',
  'websocket',
  'importScripts',
  'import',
  'indexedDB',
  'caches',
  'localStorage',
  'document',
  'cookie',
];

/**
 * Issue 10, finding 1: job code patches MessagePort.prototype.postMessage (and the getter the
 * runner reads messages through), calls ctx to catch the runner's port, then speaks on every port
 * it caught: comlink SETs on prototype paths (which polluted the page's Object.prototype with a
 * `checkpoint` whose forged outputs later tasks returned), and runner-protocol messages for
 * batches and keys it does not hold.
 */
const HOSTILE_MAP = `async (x, ctx) => {
  const ports = new Set();
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (...args) {
    ports.add(this);
    return Reflect.apply(post, this, args);
  };
  const data = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data');
  Object.defineProperty(MessageEvent.prototype, 'data', {
    configurable: true,
    get() {
      if (this.currentTarget instanceof MessagePort) ports.add(this.currentTarget);
      return data.get.call(this);
    },
  });
  ctx.progress(0.5);
  ctx.checkpoint({ at: 1 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const forged = { item: 1, state: null, done: [{ output: 'FORGED' }] };
  const raw = (value) => ({ type: 'RAW', value });
  for (const port of ports) {
    post.call(port, { id: 'a', type: 'SET', path: ['__proto__', 'checkpoint'], value: raw(forged) });
    post.call(port, { id: 'b', type: 'SET', path: ['constructor', 'prototype', 'checkpoint'], value: raw(forged) });
    post.call(port, { id: 'c', type: 'SET', path: ['__proto__', 'mapKind'], value: raw('module') });
    for (let batchId = 0; batchId < 20; batchId++) {
      post.call(port, { type: 'results', batchId, outcomes: [[{ output: 'FORGED' }]] });
      post.call(port, { type: 'checkpoint', batchId, key: 'not-mine', checkpoint: forged });
      post.call(port, { type: 'progress', batchId, key: 'not-mine', fraction: 1 });
    }
  }
  self.postMessage({ type: 'results', batchId: 1, outcomes: [[{ output: 'FORGED' }]] });
  MessagePort.prototype.postMessage = post;
  Object.defineProperty(MessageEvent.prototype, 'data', data);
  return { x, ports: ports.size };
}`;

describe('the job-code sandbox in Chromium', () => {
  it('stops job code from reaching the network, the site storage and the page, and the tab keeps working', async () => {
    const server = await e2e.coordinator();
    const page = await e2e.tab(server);
    const port = Number(new URL(server.url).port);
    const runner = readdirSync(path.join(e2e.staticDir, 'assets')).find((name) =>
      name.startsWith('task-runner.worker'),
    );
    expect(runner).toBeDefined();
    const job = await e2e.submit(server, {
      map: attempt(port, `/assets/${runner}`),
      inputs: ESCAPES,
      maxAttempts: 1,
      timeoutMs: 10_000,
    });
    await waitForJob(server, job.id, undefined, 30_000);
    const lines = await resultLines(server, job.id);
    expect(lines).toHaveLength(ESCAPES.length);
    lines.forEach((line, i) => {
      expect(line, `${ESCAPES[i]} must fail inside the task`).toMatchObject({
        index: i,
        error: expect.any(String),
      });
    });
    // A blocked fetch says what blocked it, naming the URL, not the browser's "Failed to fetch".
    expect(lines.slice(0, 2).map((line) => line['error'])).toEqual(
      [`http://127.0.0.1:${port}`, `http://localhost:${port}`].map(
        (origin) =>
          `[sandbox]: job code has no network access (fetch to ${origin}/healthz was blocked); give it what it needs in the job's inputs, or bundle it into the map`,
      ),
    );

    // The tab and its own storage are unharmed: the runtime still reads its IndexedDB and computes.
    const next = await e2e.submit(server, { map: '(x) => x + 1', inputs: [1, 2, 3] });
    expect(await waitForJob(server, next.id)).toMatchObject({ status: 'completed' });
    const deviceId = await page.evaluate(
      () =>
        new Promise<string | undefined>((resolve, reject) => {
          const request = indexedDB.open('browsergrid');
          request.onsuccess = () => {
            const get = request.result.transaction('meta').objectStore('meta').get('deviceId');
            get.onsuccess = () => resolve(get.result as string | undefined);
            get.onerror = () => reject(get.error);
          };
          request.onerror = () => reject(request.error);
        }),
    );
    expect(deviceId).toMatch(/^d-/);
  });

  it('turns outputs JSON cannot hold, huge outputs and throws into clear item errors', async () => {
    const server = await e2e.coordinator();
    await e2e.tab(server);
    const job = await e2e.submit(server, {
      map: `(what) => {
        if (what === 'undefined') return undefined;
        if (what === 'function') return () => 1;
        if (what === 'nan') return { value: NaN };
        if (what === 'cycle') { const o = {}; o.self = o; return o; }
        if (what === 'huge') return 'x'.repeat(2_000_000);
        if (what === 'throws') throw new RangeError('no such thing');
        return what;
      }`,
      inputs: ['undefined', 'function', 'nan', 'cycle', 'huge', 'throws', 'fine'],
      maxAttempts: 2,
    });
    await waitForJob(server, job.id, undefined, 30_000);
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['error'] ?? line['output'])).toEqual([
      expect.stringMatching(/output is undefined/),
      expect.stringMatching(/output is function/),
      expect.stringMatching(/output\.value is NaN/),
      expect.stringMatching(/cycle/),
      expect.stringMatching(/over the limit of 1000000/),
      'RangeError: no such thing',
      'fine',
    ]);
  });

  it("refuses job code an import() of the coordinator's own scripts, and the request never reaches it", async () => {
    const server = await e2e.coordinator();
    const requested: string[] = [];
    server.coordinator.httpServer.on('request', (req: { url?: string }) => {
      requested.push(req.url ?? '');
    });
    await e2e.tab(server);
    // A script the volunteer tab itself never loads, so any request for it came from job code.
    const asset = readdirSync(path.join(e2e.staticDir, 'assets')).find(
      (name) => name.startsWith('admin-') && name.endsWith('.js'),
    );
    expect(asset).toBeDefined();
    const job = await e2e.submit(server, {
      map: `async (how) => {
        const url = 'http://127.0.0.1:${new URL(server.url).port}/assets/${asset}';
        if (how === 'import') await import(url);
        else importScripts(url);
        return 'escaped';
      }`,
      inputs: ['import', 'importScripts'],
      maxAttempts: 1,
      timeoutMs: 10_000,
    });
    await waitForJob(server, job.id, undefined, 30_000);
    const lines = await resultLines(server, job.id);
    expect(lines.map((line) => line['output'] ?? 'failed')).toEqual(['failed', 'failed']);
    expect(requested.filter((url) => url.includes(asset as string))).toEqual([]);
  });

  it("runs a hostile job that attacks the runner's channel without letting it touch another submitter's results", async () => {
    const server = await e2e.coordinator();
    // Two browsers (devices), so redundancy 2 puts a copy of every task on each.
    await e2e.tab(server);
    await e2e.tab(server);
    const hostile = await e2e.submit(server, {
      map: HOSTILE_MAP,
      inputs: [0],
      redundancy: 2,
      maxAttempts: 1,
      submittedBy: 'mallory',
    });
    await waitForJob(server, hostile.id, undefined, 30_000);
    // The runner kept its port out of reach: job code found none to speak on.
    expect(await resultLines(server, hostile.id)).toEqual([
      { index: 0, output: { x: 0, ports: 0 } },
    ]);

    const honest = await e2e.submit(server, {
      map: '(x) => x * 2',
      inputs: [1, 2, 3],
      redundancy: 2,
      submittedBy: 'alice',
    });
    expect(await waitForJob(server, honest.id, undefined, 30_000)).toMatchObject({
      status: 'completed',
    });
    const lines = await resultLines(server, honest.id);
    expect(lines.map((line) => line['output'])).toEqual([2, 4, 6]);
  });

  it('serves the pages with a Content Security Policy and the sandbox frame with no network at all', async () => {
    const server = await e2e.coordinator();
    const volunteer = await fetch(`${server.url}/`);
    expect(volunteer.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(volunteer.headers.get('x-content-type-options')).toBe('nosniff');
    const sandbox = await fetch(`${server.url}/sandbox/`);
    const sandboxCsp = sandbox.headers.get('content-security-policy') ?? '';
    expect(sandboxCsp).toMatch(/connect-src 'none'/);
    // Its one script by hash, and no URL: job code can import() nothing from any origin.
    expect(sandboxCsp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*' blob: 'unsafe-eval';/);
    expect((await fetch(`${server.url}/admin`)).headers.get('content-security-policy')).toMatch(
      /default-src 'self'/,
    );
  });
});
