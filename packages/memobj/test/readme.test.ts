import { captureLog, readmeShows } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('is the README verbatim', () => {
    expect(readmeShows(new URL('../README.md', import.meta.url), new URL('../examples/basic.ts', import.meta.url))).toBe(true);
  });

  it('runs and prints what the README says', async () => {
    const lines = await captureLog(() => import('../examples/basic.js'));
    expect(lines[0]).toEqual(['parent heap', '|', 'child! heap', '|', 1]);
    expect(lines[1]).toEqual(['hello']);
    expect(lines[2]).toEqual(['EACCES']);
    expect(lines[3]).toEqual(['EFAULT']);
    expect(lines[4]).toEqual(['1000-5000 [anon], 5000-6000 [shared anon], 10000-11000 [image], 20000-22000 [image]']);
    expect(lines[5]).toEqual([true, true]);
  });
});
