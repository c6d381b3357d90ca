import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The README example imports this package by name; tests run it against the sources.
    alias: { '@vmlayers/pmap-mmu': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
  },
});
