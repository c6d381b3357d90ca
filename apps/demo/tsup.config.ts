import { defineConfig } from 'tsup';

export default defineConfig([
  // The `vmlayers` command: one ESM executable.
  {
    entry: ['src/cli.ts'],
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  // `@vmlayers/demo/lib`: the engine other front ends (the playground) reuse; no Node-only API, so it bundles for
  // the browser too.
  {
    entry: ['src/lib.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
  },
]);
