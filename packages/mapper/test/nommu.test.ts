import { Access, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ZeroFillBacking } from '../src/index.js';
import { ARCHS, PRIV, RO, RW, TestBacking, TestObject, boot, expectErrno, expectRefused, user } from './helpers.js';

const a = ARCHS[2];

describe('no-MMU shared map (armv7m)', () => {
  it('places a mapping at its block: va = pa, populated at once, hint ignored', () => {
    const b = boot(a);
    const m = user(b, 1);
    const free0 = b.alloc.info().free;
    const va = m.mmap({ addr: 0x1000_0000, size: 3 * b.ps, prot: RW, flags: PRIV });
    expect(b.mem.isRam(va, 3 * b.ps)).toBe(true);
    expect(b.alloc.info().free).toBeLessThan(free0);
    expect(b.alloc.get(va)!.free).toBe(false);
    m.write32(va + 4, 0x77);
    expect(b.mem.read32(va + 4)).toBe(0x77);
    expect(m.fault(va, Access.READ | Access.USER)).toBe(0);
    m.munmap(va, 3 * b.ps);
    expect(b.alloc.info().free).toBe(free0);
    m.check();
  });

  it('each view sees and may change only its owner entries', () => {
    const b = boot(a);
    const p1 = user(b, 1);
    const p2 = user(b, 2);
    const x = p1.mmap({ size: b.ps, prot: RW, flags: PRIV });
    p1.write32(x, 11);
    expect(p2.find(x)).toBeUndefined();
    expect(p2.entries()).toEqual([]);
    expectErrno(() => p2.read32(x), 'EFAULT');
    expectErrno(() => p2.write32(x, 1), 'EFAULT');
    expect(p2.fault(x, Access.READ | Access.USER)).toBe(-1);
    p2.munmap(x, b.ps);
    expectRefused(p2, b.alloc, () => p2.mprotect(x, b.ps, RO), 'ENOMEM');
    expect(p1.read32(x)).toBe(11);
    p1.check();
  });

  it('protection is enforced by the view in software', () => {
    const b = boot(a);
    const m = user(b, 1);
    const x = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    m.mprotect(x + b.ps, b.ps, RO);
    expect(m.entries()).toHaveLength(2);
    expectErrno(() => m.write32(x + b.ps, 1), 'EACCES');
    m.write32(x, 1);
    m.mprotect(x, 2 * b.ps, Prot.USER);
    expectErrno(() => m.read32(x), 'EACCES');
    m.mprotect(x, 2 * b.ps, RW);
    expect(m.entries()).toHaveLength(1);
    expect(m.read32(x)).toBe(1);
    m.check();
  });

  it('shares a block between processes mapping the same object', () => {
    const b = boot(a);
    const p1 = user(b, 1);
    const p2 = user(b, 2);
    const obj = new TestObject(b, 2);
    const x = p1.mmap({ size: 2 * b.ps, prot: RW, flags: MapFlags.SHARED, backing: new TestBacking(obj, Prot.READ | Prot.WRITE, true) as never });
    const y = p2.mmap({ size: 2 * b.ps, prot: RW, flags: MapFlags.SHARED, backing: new TestBacking(obj, Prot.READ | Prot.WRITE, true) as never });
    expect(y).toBe(x);
    p1.write32(x, 0x55);
    expect(p2.read32(y)).toBe(0x55);
    // The same object twice in one view would overlap itself.
    expectRefused(p1, b.alloc, () => p1.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED, backing: new TestBacking(obj, 3, true) as never }), 'EEXIST');
    p1.check();
    p2.check();
  });

  it('FIXED is refused, no memory is ENOMEM, and a partial munmap keeps the block until the rest goes', () => {
    const b = boot(a);
    const m = user(b, 1);
    expectRefused(m, b.alloc, () => m.mmap({ addr: 0x2000_0000, size: b.ps, prot: RW, flags: PRIV | MapFlags.FIXED }), 'EINVAL');
    expectRefused(m, b.alloc, () => m.mmap({ size: 64 << 20, prot: RW, flags: PRIV }), 'ENOMEM');
    b.alloc.faults.failAt('map-entry', 1);
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: PRIV }), 'ENOMEM');
    const free0 = b.alloc.info().free;
    const x = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    m.munmap(x + b.ps, b.ps);
    expect(m.entries()).toHaveLength(2);
    m.munmap(x, b.ps);
    m.munmap(x + 2 * b.ps, 2 * b.ps);
    expect(b.alloc.info().free).toBe(free0);
    m.check();
  });

  it('destroy releases the owner memory only', () => {
    const b = boot(a);
    const free0 = b.alloc.info().free;
    const p1 = user(b, 1);
    const p2 = user(b, 2);
    p1.mmap({ size: 3 * b.ps, prot: RW, flags: PRIV });
    const y = p2.mmap({ size: b.ps, prot: RW, flags: PRIV });
    p2.write32(y, 3);
    p1.destroy();
    expect(p2.read32(y)).toBe(3);
    p2.destroy();
    expect(b.alloc.info().free).toBe(free0);
    // The owner may come back with a new view.
    user(b, 1).check();
    b.kmap.check();
  });

  it('a ZeroFillBacking given to mmap is its block', () => {
    const b = boot(a);
    const m = user(b, 1);
    const z = new ZeroFillBacking(b.alloc);
    const x = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV, backing: z });
    expect(z.residentPages).toBeGreaterThanOrEqual(2);
    m.munmap(x, 2 * b.ps);
    expect(z.residentPages).toBe(0);
  });
});
