import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./console', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/console', import.meta.url));
/** Where `vite` (the dev server) forwards API calls: a `serve --dev` on port 8471. */
const api = process.env.COUNTERSIGN_URL ?? 'http://127.0.0.1:8471';

/**
 * The approver console: built into dist/console, which the server serves at `/`. The
 * output has no inline script or style (the server's CSP is `script-src 'self'`,
 * `style-src 'self'`): the entry is one hashed module, the CSS one hashed file.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Inlined assets would be data: URLs; keep every asset a file the CSP allows.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(
      ['/v1', '/auth'].map((p) => [p, { target: api, changeOrigin: false }]),
    ),
  },
});
