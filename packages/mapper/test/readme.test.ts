import { captureLog, readmeShows } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('is the README verbatim', () => {
    expect(readmeShows(new URL('../README.md', import.meta.url), new URL('../examples/basic.ts', import.meta.url))).toBe(true);
  });

  it('runs and prints what the README says', async () => {
    const lines = await captureLog(() => import('../examples/basic.js'));
    expect(lines[0]).toEqual(['hello, pages', 5]);
    // Linux's /proc/<pid>/maps columns: the name at column 74 of a 64-bit (Sv39) address space.
    const line = (range: string, perms: string, offset: string) => `${range} ${perms} ${offset} 00:00 0`.padEnd(73, ' ') + '[anon]\n';
    expect(lines[1][0]).toBe(
      line('00001000-00002000', 'rw-p', '00001000') + line('00002000-00003000', 'r--p', '00002000') + line('00003000-00005000', 'rw-p', '00003000'),
    );
    expect(lines[2]).toEqual(['EACCES']);
    expect(lines[3]).toEqual([0, 42]);
    expect(lines[4]).toEqual(['cafe']);
    expect(lines[5]).toEqual([true]);
  });
});
