#!/usr/bin/env node
/**
 * @module `npm run build:package` (and `prepack`): what the packed package runs on plain Node,
 * since a checkout runs the TypeScript sources through tsx but an installed package has neither.
 * Writes the pages (vite build) to dist/client, the server and SDK as JavaScript with type
 * declarations (tsconfig.build.json) to dist/server and dist/shared, and the SQL migrations the
 * stores read at start beside their built code.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (part) => fileURLToPath(new URL(`../dist/${part}`, import.meta.url));
const require = createRequire(import.meta.url);

// A file deleted from the sources must not live on in the package.
for (const part of ['server', 'shared']) rmSync(dist(part), { recursive: true, force: true });

const { build } = await import('vite');
await build({
  configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
  logLevel: 'warn',
});

execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

for (const dir of ['migrations', 'pg-migrations']) {
  cpSync(new URL(`../server/store/${dir}/`, import.meta.url), dist(`server/store/${dir}`), {
    recursive: true,
  });
}
