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

describe('README inspection example', () => {
  it('is the README verbatim', () => {
    expect(readmeShows(new URL('../README.md', import.meta.url), new URL('../examples/inspect.ts', import.meta.url))).toBe(true);
  });

  it('runs and prints what the README says', async () => {
    const lines = await captureLog(() => import('../examples/inspect.js'));
    expect(lines[0]).toEqual([`${'00001000-00005000 rw-p 00000000 00:00 0'.padEnd(73)}[anon]\n`]);
    expect(lines[1]).toEqual([8192, 6144, 4096, 4096]);
    expect(lines[2]).toEqual([['Size:                 16 kB', 'Rss:                   8 kB', 'Pss:                   6 kB', 'Shared:                4 kB', 'Private:               4 kB'].join('\n')]);
    expect(lines[3]).toEqual(['MemTotal:          65536 kB']);
    expect(lines[4]).toEqual([
      '00001000  70 61 72 65 6e 74 20 68  65 61 70 00 00 00 00 00  |parent heap.....|\n' +
        '00001010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n' +
        '00001020\n',
    ]);
  });
});
