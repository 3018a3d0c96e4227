import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('./client', import.meta.url));

/**
 * Puts the sandbox frame's script inside its page, so the frame's policy admits that one script
 * by hash (server/http/static.ts) and no same-origin URL at all: with `script-src 'self'`, job
 * code could import() any /assets/*.js, which is a GET to the coordinator (issue 10, finding 12).
 */
function inlineSandboxScript(): Plugin {
  return {
    name: 'browsergrid:inline-sandbox-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const chunk = ctx.chunk;
        if (!ctx.path.endsWith('/sandbox/index.html') || !chunk || !ctx.bundle) return html;
        if (chunk.imports.length > 0 || chunk.dynamicImports.length > 0) {
          throw new Error(
            `[build]: the sandbox frame's script must be one chunk, but it imports ${[...chunk.imports, ...chunk.dynamicImports].join(', ')}`,
          );
        }
        const tag = `<script type="module" crossorigin src="/${chunk.fileName}"></script>`;
        if (!html.includes(tag)) {
          throw new Error(`[build]: no ${tag} in the sandbox page to inline`);
        }
        delete ctx.bundle[chunk.fileName];
        const code = chunk.code.replace(/<\/script/gi, '<\\/script');
        return html.replace(tag, () => `<script type="module">${code}</script>`);
      },
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  plugins: [inlineSandboxScript()],
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    // The polyfill would be an import of its own in every entry, the sandbox's too; browsers
    // without native modulepreload merely skip the preload hint.
    modulePreload: { polyfill: false },
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
