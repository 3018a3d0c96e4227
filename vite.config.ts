import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./client', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        volunteer: `${root}/volunteer/index.html`,
        admin: `${root}/admin/index.html`,
        sandbox: `${root}/sandbox/index.html`,
      },
    },
  },
  // One self-contained classic script: the sandbox frame starts it from a blob: URL, where a
  // module worker's relative imports would not resolve.
  worker: { format: 'iife' },
  server: {
    proxy: {
      '/api': 'http://localhost:8080',
      '/socket.io': { target: 'http://localhost:8080', ws: true },
    },
  },
});
