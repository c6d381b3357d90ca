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
    expect(lines[0]).toEqual(['hello, pages', 5]);
    expect(lines[1][0]).toBe(
      '0000001000-0000002000 rw-p 00001000 [anon]\n' +
        '0000002000-0000003000 r--p 00002000 [anon]\n' +
        '0000003000-0000005000 rw-p 00003000 [anon]\n',
    );
    expect(lines[2]).toEqual(['EACCES']);
    expect(lines[3]).toEqual([0, 42]);
    expect(lines[4]).toEqual(['cafe']);
    expect(lines[5]).toEqual([true]);
  });
});
