/**
 * @module Serves the built pages, each with a strict Content Security Policy: the volunteer page
 * at `/`, the admin page at `/admin`, and the job-code sandbox frame at `/sandbox/`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { CoordinatorError } from '../errors.ts';

/**
 * A page's policy. socket.io's WebSocket goes to this origin ('self' covers ws: and wss: to it)
 * and, on the volunteer page, to the other coordinator nodes a tab may move to.
 */
function pageCsp(otherNodes: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ['connect-src', "'self'", ...otherNodes].join(' '),
    "frame-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** CSP sources for the nodes' URLs: each origin over HTTP and WebSocket; anything else dropped. */
export function nodeSources(urls: readonly string[]): string[] {
  const sources = new Set<string>();
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') continue;
    const socket = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
    sources.add(parsed.origin);
    sources.add(`${socket}//${parsed.host}`);
  }
  return [...sources];
}

/**
 * The sandbox frame runs in an opaque origin (iframe sandbox="allow-scripts"); its workers are
 * started from blob: URLs and inherit this policy. `connect-src 'none'` leaves job code no
 * fetch, XHR, WebSocket or EventSource. script-src admits the frame's own inline script by hash
 * (the build inlines it, see vite.config.ts) and blob: (the runner, ES-module map functions), and
 * no URL of any origin: importScripts and import() reach nowhere, not even this site's assets,
 * which would be a request to the coordinator. eval is allowed because compiling job code is the
 * point.
 */
function sandboxCsp(scriptHashes: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src ${[...scriptHashes.map((hash) => `'${hash}'`), 'blob:', "'unsafe-eval'"].join(' ')}`,
    'worker-src blob:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** CSP source hashes of a page's inline scripts (those without `src`). */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    const [, attributes = '', code = ''] = match;
    if (/\bsrc\s*=/i.test(attributes)) continue;
    hashes.push(`sha256-${createHash('sha256').update(code, 'utf8').digest('base64')}`);
  }
  return hashes;
}

function secure(res: Response, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

/** `nodeUrls`: where the live coordinator nodes listen, which the volunteer page may connect to. */
export function createStaticRouter(
  staticDir: string,
  nodeUrls: () => readonly string[] = () => [],
): Router {
  const router = Router();
  const page = (name: string) => path.join(staticDir, name, 'index.html');
  const send =
    (name: string, csp: () => string): express.RequestHandler =>
    (_req, res, next) => {
      if (!existsSync(page(name))) {
        next(
          new CoordinatorError(
            'not_found',
            `[http]: pages are not built in ${staticDir}; run npm run build`,
          ),
        );
        return;
      }
      secure(res, csp());
      res.sendFile(page(name));
    };
  router.get(
    '/',
    send('volunteer', () => pageCsp(nodeSources(nodeUrls()))),
  );
  router.get(
    ['/admin', '/admin/'],
    send('admin', () => pageCsp()),
  );
  router.get(['/sandbox', '/sandbox/'], (_req, res, next) => {
    // Read per request (once per volunteer tab): the policy must name the hash of the page served.
    readFile(page('sandbox'), 'utf8').then(
      (html) => {
        secure(res, sandboxCsp(inlineScriptHashes(html)));
        res.type('html').send(html);
      },
      () =>
        next(
          new CoordinatorError(
            'not_found',
            `[http]: pages are not built in ${staticDir}; run npm run build`,
          ),
        ),
    );
  });
  router.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  router.use(
    '/assets',
    express.static(path.join(staticDir, 'assets'), {
      immutable: true,
      maxAge: '1y',
      setHeaders: (res) => {
        res.setHeader('X-Content-Type-Options', 'nosniff');
        // The sandbox frame has an opaque origin, and module scripts load with CORS; the assets
        // are the public pages' code, so any origin may read them.
        res.setHeader('Access-Control-Allow-Origin', '*');
      },
    }),
  );
  return router;
}
