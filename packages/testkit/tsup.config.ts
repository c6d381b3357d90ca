import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/layering-cli.ts', 'src/consumer-cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
