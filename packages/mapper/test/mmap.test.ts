import { Access, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ZeroFillBacking } from '../src/index.js';
import { ARCHS, PRIV, RO, RW, TestBacking, TestObject, boot, expectErrno, expectRefused, user } from './helpers.js';

describe.each(ARCHS)('mmap on $name', (a) => {
  it('rounds the size up to pages and places the first mapping at the bottom', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 1, prot: RW, flags: PRIV });
    const e = m.find(va)!;
    expect(e.end - e.start).toBe(b.ps);
    if (a.mmu) expect(va).toBe(b.ps); // page 0 is never mapped
    expect(m.find(va + b.ps)).toBeUndefined();
    m.check();
  });

  it('merges adjacent anonymous mappings with the same prot and flags', () => {
    const b = boot(a);
    const m = user(b);
    const x = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    const y = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    if (a.mmu) {
      expect(y).toBe(x + 2 * b.ps);
      expect(m.entries()).toHaveLength(1);
      const z = m.mmap({ size: b.ps, prot: RO, flags: PRIV });
      expect(m.entries()).toHaveLength(2);
      expect(z).toBe(y + 2 * b.ps);
    } else {
      // Without an MMU every anonymous mapping is its own block: nothing to merge.
      expect(m.entries()).toHaveLength(2);
    }
    m.check();
  });

  it('does not merge mappings that differ in flags', () => {
    const b = boot(a);
    const m = user(b);
    m.mmap({ size: b.ps, prot: RW, flags: PRIV });
    m.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED });
    expect(m.entries()).toHaveLength(2);
    expect(m.format()).toMatch(/rw-p .*\n.*rw-s/);
    m.check();
  });

  const bad: [string, (ps: number, lo: number, hi: number) => object, string][] = [
    ['size 0', () => ({ size: 0, prot: RW, flags: PRIV }), 'EINVAL'],
    ['negative size', () => ({ size: -4096, prot: RW, flags: PRIV }), 'EINVAL'],
    ['NaN size', () => ({ size: NaN, prot: RW, flags: PRIV }), 'EINVAL'],
    ['fractional size', () => ({ size: 1.5, prot: RW, flags: PRIV }), 'EINVAL'],
    ['size past 2^53', () => ({ size: 2 ** 60, prot: RW, flags: PRIV }), 'EINVAL'],
    ['unaligned addr', (ps) => ({ addr: ps + 1, size: ps, prot: RW, flags: PRIV | MapFlags.FIXED }), 'EINVAL'],
    ['NaN addr', (ps) => ({ addr: NaN, size: ps, prot: RW, flags: PRIV }), 'EINVAL'],
    ['negative addr', (ps) => ({ addr: -ps, size: ps, prot: RW, flags: PRIV }), 'EINVAL'],
    ['fractional addr', (ps) => ({ addr: 0.5, size: ps, prot: RW, flags: PRIV }), 'EINVAL'],
    ['wrap past the range top', (ps, _lo, hi) => ({ addr: hi - ps, size: 2 * ps, prot: RW, flags: PRIV | MapFlags.FIXED }), 'EINVAL'],
    ['wrap past 2^32', (ps, _lo, hi) => ({ addr: (hi > 2 ** 32 ? hi : 2 ** 32) - ps, size: 2 * ps, prot: RW, flags: PRIV | MapFlags.FIXED }), 'EINVAL'],
    ['kernel address', (ps, _lo, hi) => ({ addr: hi, size: ps, prot: RW, flags: PRIV | MapFlags.FIXED }), 'EINVAL'],
    ['unknown flag bits', (ps) => ({ size: ps, prot: RW, flags: PRIV | 0x800 }), 'EINVAL'],
    ['neither SHARED nor PRIVATE', (ps) => ({ size: ps, prot: RW, flags: 0 }), 'EINVAL'],
    ['both SHARED and PRIVATE', (ps) => ({ size: ps, prot: RW, flags: MapFlags.SHARED | PRIV }), 'EINVAL'],
    ['NEEDSCOPY from a user', (ps) => ({ size: ps, prot: RW, flags: PRIV | MapFlags.NEEDSCOPY }), 'EINVAL'],
    ['FIXED without addr', (ps) => ({ size: ps, prot: RW, flags: PRIV | MapFlags.FIXED }), 'EINVAL'],
    ['prot out of range', (ps) => ({ size: ps, prot: 16, flags: PRIV }), 'EINVAL'],
    ['fractional prot', (ps) => ({ size: ps, prot: 1.5, flags: PRIV }), 'EINVAL'],
    ['unaligned offset', (ps) => ({ size: ps, prot: RW, flags: PRIV, offset: 3 }), 'EINVAL'],
    ['negative offset', (ps) => ({ size: ps, prot: RW, flags: PRIV, offset: -ps }), 'EINVAL'],
    ['PHYSMEM without a backing', (ps) => ({ size: ps, prot: RW, flags: PRIV | MapFlags.PHYSMEM }), 'EINVAL'],
    ['DEVICE without a backing', (ps) => ({ size: ps, prot: RW, flags: MapFlags.SHARED | MapFlags.DEVICE }), 'EINVAL'],
    ['a backing that is not one', (ps) => ({ size: ps, prot: RW, flags: PRIV, backing: { fault: 1 } }), 'EINVAL'],
  ];
  it.each(bad)('refuses %s and changes nothing', (_name, make, code) => {
    const b = boot(a);
    const m = user(b);
    m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    const opts = make(b.ps, m.start, m.end);
    expectRefused(m, b.alloc, () => m.mmap(opts as never), code as never);
  });

  it('refuses a non-object and a null', () => {
    const b = boot(a);
    const m = user(b);
    expectRefused(m, b.alloc, () => m.mmap(null as never), 'EINVAL');
    expectRefused(m, b.alloc, () => m.mmap(7 as never), 'EINVAL');
  });

  it('refuses more than the backing allows (EACCES) and a ZeroFillBacking mapped twice', () => {
    const b = boot(a);
    const m = user(b);
    const obj = new TestObject(b, 4);
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED, backing: new TestBacking(obj) as never }), 'EACCES');
    const z = new ZeroFillBacking(b.alloc);
    m.mmap({ size: b.ps, prot: RW, flags: PRIV, backing: z });
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: PRIV, backing: z }), 'EINVAL');
  });

  it('takes the kernel-map rules: USER prot refused, no SHARED/PRIVATE needed', () => {
    const b = boot(a);
    const k = b.kmap;
    expectRefused(k, b.alloc, () => k.mmap({ size: b.ps, prot: Prot.READ | Prot.USER, flags: 0 }), 'EINVAL');
    expectRefused(k, b.alloc, () => k.mmap({ size: b.ps, prot: Prot.READ, flags: MapFlags.SHARED | PRIV }), 'EINVAL');
    const va = k.mmap({ size: b.ps, prot: Prot.READ | Prot.WRITE, flags: 0 });
    k.write32(va, 42);
    expect(k.read32(va)).toBe(42);
    k.check();
  });

  it('maps a backing with PHYSMEM/DEVICE flags (the decision: recorded, uncached/device attributes)', () => {
    const b = boot(a);
    const m = user(b);
    const obj = new TestObject(b, 2);
    const bk = new TestBacking(obj, Prot.READ | Prot.WRITE, true);
    b.mem.write32(obj.base, 0x1234);
    const va = m.mmap({ size: 2 * b.ps, prot: RW, flags: MapFlags.SHARED | MapFlags.DEVICE | MapFlags.PHYSMEM, backing: bk as never });
    expect(m.find(va)!.flags).toBe(MapFlags.SHARED | MapFlags.DEVICE | MapFlags.PHYSMEM);
    expect(m.read32(va)).toBe(0x1234);
    m.check();
    m.munmap(va, 2 * b.ps);
    expect(bk.released).toBe(true);
    m.check();
  });
});

describe.each(ARCHS.filter((x) => x.mmu))('placement on $name', (a) => {
  it('honours a free hint and takes the first fit above an occupied one', () => {
    const b = boot(a);
    const m = user(b);
    const hint = 0x100_0000;
    expect(m.mmap({ addr: hint, size: b.ps, prot: RW, flags: PRIV })).toBe(hint);
    // Same hint, now occupied: the next free address above it.
    expect(m.mmap({ addr: hint, size: b.ps, prot: RO, flags: PRIV })).toBe(hint + b.ps);
    // A hint in a hole too small: the first gap above that fits.
    m.mmap({ addr: hint + 3 * b.ps, size: b.ps, prot: RW, flags: PRIV });
    expect(m.mmap({ addr: hint + 2 * b.ps, size: 2 * b.ps, prot: RO, flags: PRIV })).toBe(hint + 4 * b.ps);
    m.check();
  });

  it('falls back below the hint when nothing fits above it', () => {
    const b = boot(a);
    const m = user(b);
    const top = m.end - b.ps;
    m.mmap({ addr: top, size: b.ps, prot: RW, flags: PRIV | MapFlags.FIXED });
    expect(m.mmap({ addr: top, size: 2 * b.ps, prot: RW, flags: PRIV })).toBe(m.start);
    m.check();
  });

  it('FIXED replaces what was there, contents included', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < 4; i++) m.write32(va + i * b.ps, 100 + i);
    const obj = new TestObject(b, 2);
    b.mem.write32(obj.base, 7);
    const bk = new TestBacking(obj);
    expect(m.mmap({ addr: va + b.ps, size: 2 * b.ps, prot: RO, flags: MapFlags.SHARED | MapFlags.FIXED, backing: bk as never })).toBe(va + b.ps);
    expect(m.entries().map((e) => [e.start - va, e.end - va, e.prot])).toEqual([
      [0, b.ps, RW],
      [b.ps, 3 * b.ps, RO],
      [3 * b.ps, 4 * b.ps, RW],
    ]);
    expect(m.read32(va)).toBe(100);
    expect(m.read32(va + b.ps)).toBe(7);
    expect(m.read32(va + 3 * b.ps)).toBe(103);
    m.check();
    // FIXED anonymous over the middle of the same memory: one entry again, the middle reads as zeros.
    m.mmap({ addr: va + b.ps, size: 2 * b.ps, prot: RW, flags: PRIV | MapFlags.FIXED });
    expect(bk.released).toBe(true);
    expect(m.read32(va + b.ps)).toBe(0);
    expect(m.read32(va + 3 * b.ps)).toBe(103);
    m.check();
  });

  it('FIXED inside one entry splits it; over several replaces them all', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 8 * b.ps, prot: RW, flags: PRIV });
    m.mmap({ addr: va + 2 * b.ps, size: b.ps, prot: RO, flags: PRIV | MapFlags.FIXED });
    expect(m.entries()).toHaveLength(3);
    m.mmap({ addr: va + 4 * b.ps, size: b.ps, prot: Prot.NONE, flags: PRIV | MapFlags.FIXED });
    expect(m.entries()).toHaveLength(5);
    m.mmap({ addr: va + b.ps, size: 6 * b.ps, prot: RO, flags: PRIV | MapFlags.FIXED });
    expect(m.entries().map((e) => [e.start - va, e.end - va, e.prot])).toEqual([
      [0, b.ps, RW],
      [b.ps, 7 * b.ps, RO],
      [7 * b.ps, 8 * b.ps, RW],
    ]);
    m.check();
  });

  it('FIXED that cannot get an entry leaves the old mappings intact', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    m.write32(va + b.ps, 5);
    b.alloc.faults.failAt('map-entry', 1);
    expectRefused(m, b.alloc, () => m.mmap({ addr: va + b.ps, size: b.ps, prot: RO, flags: PRIV | MapFlags.FIXED }), 'ENOMEM');
    expect(m.read32(va + b.ps)).toBe(5);
  });

  it('reports ENOMEM when the space is full', () => {
    const b = boot(a);
    const m = user(b);
    const size = m.end - m.start;
    expectRefused(m, b.alloc, () => m.mmap({ size: size + b.ps, prot: RW, flags: PRIV }), 'ENOMEM');
    m.mmap({ size, prot: RW, flags: PRIV });
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: PRIV }), 'ENOMEM');
    m.munmap(m.start + 5 * b.ps, b.ps);
    expect(m.mmap({ size: b.ps, prot: RO, flags: PRIV })).toBe(m.start + 5 * b.ps);
    m.check();
  });

  it('faults only what is touched: a big mapping costs no frame until used', () => {
    const b = boot(a);
    const m = user(b);
    const before = b.alloc.info().free;
    const va = m.mmap({ size: 1 << 30 > m.end - m.start ? 64 * b.ps : 1 << 30, prot: RW, flags: PRIV });
    expect(b.alloc.info().free).toBe(before);
    expect(m.fault(va, Access.READ | Access.USER)).toBe(0);
    expect(b.alloc.info().free).toBeLessThan(before);
  });
});

describe('mmap argument errors are codes', () => {
  it('exposes the code of a refused call', () => {
    const b = boot(ARCHS[0]);
    const m = user(b);
    expectErrno(() => m.mmap({ size: 0, prot: RW, flags: PRIV }), 'EINVAL');
  });
});
