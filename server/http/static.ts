/** @module Serves the built pages: the volunteer page at `/`, the admin page at `/admin`. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { CoordinatorError } from '../errors.ts';

export function createStaticRouter(staticDir: string): Router {
  const router = Router();
  const page = (name: string) => path.join(staticDir, name, 'index.html');
  const send =
    (name: string): express.RequestHandler =>
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
      res.sendFile(page(name));
    };
  router.get('/', send('volunteer'));
  router.get(['/admin', '/admin/'], send('admin'));
  router.use(
    '/assets',
    express.static(path.join(staticDir, 'assets'), { immutable: true, maxAge: '1y' }),
  );
  return router;
}
