/** @module vitest globalSetup for e2e: builds the pages once into a temp dir the tests serve. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    staticDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const staticDir = mkdtempSync(path.join(tmpdir(), 'browsergrid-pages-'));
  await build({
    configFile: fileURLToPath(new URL('../../vite.config.ts', import.meta.url)),
    logLevel: 'warn',
    build: { outDir: staticDir, emptyOutDir: true },
  });
  project.provide('staticDir', staticDir);
  return () => rmSync(staticDir, { recursive: true, force: true });
}
