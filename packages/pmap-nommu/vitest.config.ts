import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The README example imports the package by name; tests run it against the sources.
    alias: { '@vmlayers/pmap-nommu': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Property tests on a loaded 2-core CI machine need more than vitest's 5 s default.
    testTimeout: 60_000,
    passWithNoTests: true,
  },
});
