import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/layering-cli.ts', 'src/consumer-cli.ts', 'src/test-summary-cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
