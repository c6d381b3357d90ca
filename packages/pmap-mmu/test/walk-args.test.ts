import { Access, PhysicalMemory, boards, isVmError } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createWalker } from '../src/walk/create-walker.js';
import { WALK_FORMATS } from '../src/walk/types.js';

const errno = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return isVmError(e) ? e.code : `not a VmError: ${String(e)}`;
  }
  return 'no error';
};

describe.each(WALK_FORMATS)('%s walker: arguments the hit test cannot take', (format) => {
  it('refuses a BigInt, a string or a null where a number or options belong, with EINVAL, and counts nothing', () => {
    const w = createWalker(format, new PhysicalMemory(boards.ram(1 << 20, 0)));
    const before = w.stats();
    const calls: [unknown, unknown, unknown][] = [
      [10n, Access.READ, undefined],
      [4096, 1n, undefined],
      ['4096', Access.READ, undefined],
      [4096, '1', undefined],
      [4096, Access.READ, null],
      [4096, Access.READ, 'user'],
      [null, Access.READ, undefined],
    ];
    for (const [va, access, options] of calls) {
      expect(errno(() => w.translate(0, va as number, access as number, options as never)), `${String(va)}, ${String(access)}, ${String(options)}`).toBe('EINVAL');
    }
    expect(w.stats()).toEqual(before);
  });
});
