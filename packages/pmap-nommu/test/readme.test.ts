import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const root = new URL('../', import.meta.url);
// Static imports, which vite resolves (a template-string import is refused).
const examples: Record<string, () => Promise<unknown>> = {
  basic: () => import('../examples/basic.js'),
  armv8m: () => import('../examples/armv8m.js'),
};

describe.each(Object.keys(examples))('README: examples/%s.ts', (name) => {
  it('is shown verbatim in a ts block', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const example = readFileSync(new URL(`examples/${name}.ts`, root), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```\n');
  });

  it('runs (its asserts are the checks)', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await examples[name]();
      expect(log).toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});
