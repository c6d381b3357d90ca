import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The README example imports the package by name; test it against the sources.
    alias: [{ find: /^@vmlayers\/mapper$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    passWithNoTests: true,
    // Model tests run many steps with check() after each; a loaded CI machine needs headroom.
    testTimeout: 60_000,
  },
});
