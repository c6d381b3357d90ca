import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('README example', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the README verbatim', () => {
    expect(read('../README.md')).toContain('```ts\n' + read('../examples/basic.ts') + '```');
  });

  it('runs and prints what the README says', async () => {
    const lines: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args));
    await import('../examples/basic.js');
    expect(lines[0]).toEqual(['0x3fc0101000', 'a kernel list node']);
    expect(lines[1]).toEqual([
      ['64B: 2 used, 62 free, 1 zone(s)', '128B: 1 used, 31 free, 1 zone(s)', '16384B: 1 used, 0 free, 1 zone(s)'],
    ]);
    expect(lines[2]).toEqual([1, 0]);
  });
});
