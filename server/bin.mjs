#!/usr/bin/env node
// The package's bin, so `npx browsergrid …` works both in a checkout and where the package is
// installed. A checkout has the TypeScript sources and tsx; the packed package ships only the built
// JavaScript (dist/), so it runs that on plain Node.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./cli.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli.ts');
} else {
  await import('../dist/server/cli.js');
}
