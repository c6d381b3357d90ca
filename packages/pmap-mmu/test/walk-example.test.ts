import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);

describe('walkers: the toy CPU example', () => {
  it('the README shows examples/toy-cpu.ts verbatim', () => {
    const doc = readFileSync(new URL('README.md', root), 'utf8');
    const example = readFileSync(new URL('examples/toy-cpu.ts', root), 'utf8');
    expect(doc).toContain('```ts\n' + example + '```');
  });

  it('runs: the program loads, adds, stores, and its store to an unmapped page is served by the fault handler', async () => {
    const { result } = await import('../examples/toy-cpu.js');
    expect(result).toEqual({
      r1: 42,
      data: 42,
      heap: 42,
      faults: ['scause 15 stval 0x30000 (invalid)'],
      // Six fetches (the faulting store's twice) in one text page: one miss, five hits. Data: the load fills a
      // clean entry, so the store walks again to set D; the heap store faults, and walks again after the fix.
      stats: { hits: 5, misses: 5, flushes: 1, faults: 1, entries: 3 },
    });
  });
});
