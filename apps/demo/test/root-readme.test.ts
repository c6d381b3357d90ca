import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Examples that combine packages live in the root README; the demo depends on every layer, so it runs them.
const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('root README: swapping the pmap', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the README verbatim', () => {
    expect(read('../../../README.md')).toContain('```ts\n' + read('../examples/swap-pmap.ts') + '```');
  });

  it('runs the same code on sv39, ia32 and armv7m', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    await import('../examples/swap-pmap.js');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^sv39: va 0x11000 -> pa 0x8[0-9a-f]{4}008, c0ffee, 3 table\(s\)$/);
    expect(lines[1]).toMatch(/^ia32: va 0x11000 -> pa 0x[0-9a-f]+008, c0ffee, 2 table\(s\)$/);
    expect(lines[2]).toMatch(/^armv7m: va 0x(2[0-9a-f]{7}) -> pa 0x2[0-9a-f]{7}, c0ffee, \d+ table\(s\)$/);
    const [, va] = /va 0x([0-9a-f]+) -> pa 0x([0-9a-f]+)/.exec(lines[2])!;
    expect(lines[2]).toContain(`pa 0x${(parseInt(va, 16) + 8).toString(16)}`);
  });
});
