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
    const MiB = 1 << 20;
    expect(lines[0]).toEqual([2, 'hello, frames']);
    expect(lines[1]).toEqual([
      { total: 64 * MiB, free: 61 * MiB - 16384, alloc: 3 * MiB + 16384, boot: 3 * MiB, kernel: 16384, app: 0 },
    ]);
    expect(lines[2][0]).toMatch(/^vm: \[768B\]\[4H\]/);
    expect(lines[3]).toEqual([true, 0]);
  });
});
