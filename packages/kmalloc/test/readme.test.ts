import { captureLog, readmeShows } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('is the README verbatim', () => {
    expect(readmeShows(new URL('../README.md', import.meta.url), new URL('../examples/basic.ts', import.meta.url))).toBe(true);
  });

  it('runs and prints what the README says', async () => {
    const lines = await captureLog(() => import('../examples/basic.js'));
    expect(lines[0]).toEqual(['0x3fc0101000', 'a kernel list node']);
    expect(lines[1]).toEqual([
      ['64B: 2 used, 62 free, 1 zone(s)', '128B: 1 used, 31 free, 1 zone(s)', '16384B: 1 used, 0 free, 1 zone(s)'],
    ]);
    expect(lines[2]).toEqual([1, 0]);
  });
});

describe('README example: a heap over an ArrayBuffer', () => {
  it('is the README verbatim', () => {
    expect(readmeShows(new URL('../README.md', import.meta.url), new URL('../examples/buffer-heap.ts', import.meta.url))).toBe(true);
  });

  it('runs and prints what the README says', async () => {
    const lines = await captureLog(() => import('../examples/buffer-heap.js'));
    expect(lines).toEqual([
      [true, 'hello', 1024, 4],
      [1, 0],
    ]);
  });
});
