import { captureLog, readmeShows } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('is the README verbatim', () => {
    expect(readmeShows(new URL('../README.md', import.meta.url), new URL('../examples/basic.ts', import.meta.url))).toBe(true);
  });

  it('runs and prints what the README says', async () => {
    const lines = await captureLog(() => import('../examples/basic.js'));
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
