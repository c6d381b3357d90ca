import { readFileSync } from 'node:fs';
import { FaultCode } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);

describe('README', () => {
  it('shows examples/basic.ts verbatim', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const example = readFileSync(new URL('examples/basic.ts', root), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('shows examples/fast-path.ts verbatim', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const example = readFileSync(new URL('examples/fast-path.ts', root), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('shows examples/dump-tables.ts verbatim and prints what it claims', async () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const example = readFileSync(new URL('examples/dump-tables.ts', root), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
    const { dump, leaves, frames } = await import('../examples/dump-tables.js');
    expect(leaves).toEqual([
      { va: 0x10000, pa: frames.text, size: 4096 },
      { va: 0x20000, pa: frames.data, size: 4096 },
    ]);
    const lines = dump.split('\n');
    expect(lines[0]).toMatch(/^0x00010000 → 0x[0-9a-f]{8} \| U R - X - - - \(at pte 0x[0-9a-f]{8}\)$/);
    expect(lines[1]).toMatch(/^0x00020000 → 0x[0-9a-f]{8} \| U R W - - A D \(at pte 0x[0-9a-f]{8}\)$/);
    expect(readme).toContain(lines[0].slice(0, 40));
  });

  it('runs the fast-path example with the results it claims', async () => {
    const { result } = await import('../examples/fast-path.js');
    expect(result).toEqual({
      first: 0x10,
      second: 0x20,
      write: 0x30,
      readWalks: 1,
      afterRemove: FaultCode.NOT_MAPPED,
      sameArrays: true,
    });
  });

  it('runs the example with the figures it claims', async () => {
    const { result } = await import('../examples/basic.js');
    expect(result.pa % 4096).toBe(4);
    expect(result.pa).toBeGreaterThanOrEqual(0x8000_0000);
    expect(result).toEqual({
      pa: result.pa,
      readBack: 0xcafe,
      supervisorRead: FaultCode.PROTECTION,
      writeAfterProtect: FaultCode.PROTECTION,
      tablesWhileMapped: 3,
      allReturned: true,
    });
  });
});
