import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RW, boot, user } from './helpers.js';

describe.each(ARCHS)('smoke $name', (a) => {
  it('maps, writes, reads, unmaps', () => {
    const b = boot(a);
    b.kmap.check();
    const m = user(b);
    const va = m.mmap({ size: 3 * b.ps, prot: RW, flags: PRIV });
    m.check();
    m.write(va + b.ps - 2, new Uint8Array([1, 2, 3, 4]));
    expect(Array.from(m.read(va + b.ps - 2, 4))).toEqual([1, 2, 3, 4]);
    m.write32(va + 5, 0xdeadbeef);
    expect(m.read32(va + 5)).toBe(0xdeadbeef);
    m.check();
    console.log(m.format());
    m.munmap(va, 3 * b.ps);
    m.check();
    m.destroy();
    b.kmap.check();
  });
});
