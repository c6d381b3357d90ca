import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property tests on a loaded 2-core CI machine need more than vitest's 5 s default.
    testTimeout: 60_000,
    passWithNoTests: true,
  },
});
