/**
 * @module The sandbox frame: starts task-runner Web Workers for the volunteer page. It runs in
 * an opaque origin (a sandboxed iframe without allow-same-origin), so its workers cannot open the
 * site's IndexedDB, cookies or caches, and under a CSP with `connect-src 'none'`, which they
 * inherit (workers from blob: URLs take their creator's policy), so they cannot reach the network.
 *
 * Protocol with the page (window messages, only from the parent):
 *   page -> frame  { type: 'spawn', workerId, source, port }   start a worker; `port` is its channel to the page
 *   page -> frame  { type: 'terminate', workerId }
 *   frame -> page  { type: 'ready' }
 */
import type { SandboxRequest } from '../volunteer/sandbox-host.ts';

const workers = new Map<number, Worker>();
const urls = new Map<string, string>();

function blobUrl(source: string): string {
  let url = urls.get(source);
  if (!url) {
    url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    urls.set(source, url);
  }
  return url;
}

window.addEventListener('message', (event: MessageEvent<SandboxRequest>) => {
  if (event.source !== window.parent) return;
  const request = event.data;
  if (request.type === 'spawn') {
    const worker = new Worker(blobUrl(request.source), { name: 'browsergrid-task-runner' });
    worker.postMessage({ type: 'browsergrid:port', port: request.port }, [request.port]);
    workers.set(request.workerId, worker);
  } else if (request.type === 'terminate') {
    workers.get(request.workerId)?.terminate();
    workers.delete(request.workerId);
  }
});

window.parent.postMessage({ type: 'ready' }, '*');
