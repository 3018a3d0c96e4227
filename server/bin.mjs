#!/usr/bin/env node
// The package's bin: loads the TypeScript CLI through tsx, so `npx browsergrid …` works in a checkout.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
