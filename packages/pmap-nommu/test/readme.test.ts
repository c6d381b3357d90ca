import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const root = new URL('../', import.meta.url);

describe('README', () => {
  it('shows examples/basic.ts verbatim in a ts block', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const example = readFileSync(new URL('examples/basic.ts', root), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```\n');
  });

  it('runs examples/basic.ts (its asserts are the checks)', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../examples/basic.js');
      expect(log).toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });
});
