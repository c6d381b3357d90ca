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
    expect(lines[0]).toEqual(['parent heap', '|', 'child! heap', '|', 1]);
    expect(lines[1]).toEqual(['hello']);
    expect(lines[2]).toEqual(['EACCES']);
    expect(lines[3]).toEqual(['EFAULT']);
    expect(lines[4]).toEqual(['1000-5000 [anon], 5000-6000 [shared anon], 10000-11000 [image], 20000-22000 [image]']);
    expect(lines[5]).toEqual([true, true]);
  });
});
