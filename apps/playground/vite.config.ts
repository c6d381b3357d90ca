import { defineConfig } from 'vite';

// A static site: relative asset URLs, so `dist/` can be hosted under any path.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
