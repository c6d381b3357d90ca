import { Access, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RW, TestBacking, TestObject, boot, expectRefused, user } from './helpers.js';

// The original's known bugs (reference notes §12) that belong to the mapper, one test each.
describe.each(ARCHS)('known bugs of the original, fixed, on $name', (a) => {
  it('project#1742: anonymous memory reads as zeros, even where another process wrote before', () => {
    const b = boot(a);
    const p1 = user(b, 1);
    const x = p1.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < 4; i++) p1.write32(x + i * b.ps + 8, 0xdead);
    p1.destroy();
    const p2 = user(b, 2);
    const y = p2.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < 4; i++) expect(p2.read32(y + i * b.ps + 8)).toBe(0);
    p2.munmap(y, 4 * b.ps);
    const z = p2.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    expect(Array.from(p2.read(z, 4 * b.ps)).every((v) => v === 0)).toBe(true);
  });

  it('project#1743: a block that is not page-aligned is refused, not mapped', () => {
    const b = boot(a);
    const m = user(b);
    const obj = new TestObject(b, 2);
    const bk = new TestBacking(obj, Prot.READ | Prot.WRITE, true);
    (bk as unknown as { contiguous: () => number }).contiguous = () => obj.base + 12;
    if (!a.mmu) expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED, backing: bk as never }), 'EINVAL');
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED, backing: bk as never, offset: 12 }), 'EINVAL');
  });

  it.runIf(a.mmu)('project#1714: new memory next to a forked entry never shares its pages', () => {
    const b = boot(a);
    const p = user(b, 1);
    const x = p.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    p.write32(x, 1);
    const c = p.copy(2);
    const y = p.mmap({ addr: x + 2 * b.ps, size: b.ps, prot: RW, flags: PRIV });
    expect(y).toBe(x + 2 * b.ps);
    // Zero-fill memory is copied at fork, so it shares nothing and is never needs-copy: the newcomer may extend
    // the parent's entry, and the child's pages stay its own.
    expect(p.entries().map((e) => e.flags & MapFlags.NEEDSCOPY)).toEqual([0]);
    p.write32(y, 7);
    p.write32(x, 2);
    expect(c.find(y)).toBeUndefined();
    const cy = c.mmap({ addr: y, size: b.ps, prot: RW, flags: PRIV | MapFlags.FIXED });
    expect(c.read32(cy)).toBe(0);
    expect(c.read32(x)).toBe(1);
    c.check();
    p.check();
  });

  it('ia32 quirk: PROT_NONE leaves no translation at all (the original entered it present, kernel-readable)', () => {
    const b = boot(a);
    const m = user(b);
    const x = m.mmap({ size: b.ps, prot: RW, flags: PRIV });
    m.write32(x, 3);
    m.mprotect(x, b.ps, Prot.USER);
    if (a.mmu) {
      expect(m.pmap.resolve(x)).toBe(-1);
      expect(m.pmap.translate(x, Access.READ)).toBeLessThan(0);
    }
    expect(m.fault(x, Access.READ | Access.USER)).toBe(-2);
    m.check();
  });

  it.runIf(a.mmu)('_map_find: a hint inside a gap too small never overlaps the next entry', () => {
    const b = boot(a);
    const m = user(b);
    const base = 0x80_0000;
    m.mmap({ addr: base, size: b.ps, prot: RW, flags: PRIV | MapFlags.FIXED });
    m.mmap({ addr: base + 3 * b.ps, size: b.ps, prot: Prot.READ | Prot.USER, flags: PRIV | MapFlags.FIXED });
    const got = m.mmap({ addr: base + 2 * b.ps, size: 2 * b.ps, prot: RW, flags: MapFlags.SHARED });
    expect(got).toBe(base + 4 * b.ps);
    m.check();
  });
});
