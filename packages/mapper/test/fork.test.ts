import { Access, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RO, RW, TestBacking, TestObject, boot, expectErrno, state, user } from './helpers.js';

const U = Access.USER;

describe.each(ARCHS.filter((x) => x.mmu))('copy (fork) on $name', (a) => {
  function parent() {
    const b = boot(a);
    const m = user(b, 1);
    const heap = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < 4; i++) m.write32(heap + i * b.ps, 0x100 + i);
    const ipc = m.mmap({ size: b.ps, prot: RW, flags: PRIV | MapFlags.NOINHERIT });
    m.write32(ipc, 5);
    const obj = new TestObject(b, 2);
    b.mem.write32(obj.base, 0x51);
    const shared = m.mmap({ size: 2 * b.ps, prot: RO, flags: MapFlags.SHARED, backing: new TestBacking(obj) as never });
    return { b, m, heap, ipc, shared, obj };
  }

  it('copies every entry but NOINHERIT; zero-fill memory is copied at once, so nothing is needs-copy', () => {
    const { b, m, heap, ipc, shared } = parent();
    const c = m.copy(2);
    c.check();
    m.check();
    expect(c.owner).toBe(2);
    expect(c.find(ipc)).toBeUndefined();
    // Needs-copy follows what a backing shares (backing-contract.test.ts): a ZeroFillBacking fork shares nothing.
    expect(c.find(heap)!.flags & MapFlags.NEEDSCOPY).toBe(0);
    expect(m.find(heap)!.flags & MapFlags.NEEDSCOPY).toBe(0);
    expect(c.find(heap)!.backing).not.toBe(m.find(heap)!.backing);
    expect(c.find(shared)!.flags & MapFlags.NEEDSCOPY).toBe(0);
    expect(m.find(ipc)!.flags & MapFlags.NEEDSCOPY).toBe(0);
    // The child sees the parent's data, and then each its own.
    expect(c.read32(heap + 2 * b.ps)).toBe(0x102);
    c.write32(heap, 0xc0);
    m.write32(heap + b.ps, 0xb0);
    expect(m.read32(heap)).toBe(0x100);
    expect(c.read32(heap + b.ps)).toBe(0x101);
    expect(c.read32(shared)).toBe(0x51);
    expect(c.format()).toMatch(/r--s/);
    c.check();
    m.check();
  });

  it('a page made read-only by mprotect is still copied (PR #608)', () => {
    const { b, m, heap } = parent();
    m.mprotect(heap, b.ps, RO);
    const c = m.copy(2);
    c.mprotect(heap, b.ps, RW);
    c.write32(heap, 1);
    expect(m.read32(heap)).toBe(0x100);
  });

  it('grandchildren and exits give every frame back', () => {
    const { b, m, obj } = parent();
    const free0 = b.alloc.info().free;
    const c = m.copy(2);
    const g = c.copy(3);
    g.write32(g.entries()[0].start, 9);
    g.check();
    g.destroy();
    c.destroy();
    expect(b.alloc.info().free).toBe(free0);
    m.destroy();
    obj.free();
    expect(obj.handles).toBe(0);
    b.kmap.check();
  });

  it('ENOMEM anywhere destroys the partial child and leaves the parent intact', () => {
    for (const site of ['map-entry', 'frame', 'ptable'] as const) {
      for (let n = 1; n <= 4; n++) {
        const { b, m, heap } = parent();
        const before = state(m);
        const info = b.alloc.info();
        const pool = b.kmap.info();
        b.alloc.faults.failAt(site, n);
        let ok = true;
        try {
          m.copy(2).destroy();
        } catch (e) {
          ok = false;
          expect((e as { code: string }).code).toBe('ENOMEM');
        }
        b.alloc.faults.reset();
        if (!ok) {
          expect(state(m)).toEqual(before);
          expect(b.alloc.info()).toEqual(info);
          expect(b.kmap.info()).toEqual(pool);
        }
        expect(b.kmap.userMaps()).toHaveLength(1);
        m.check();
        expect(m.read32(heap + 3 * b.ps)).toBe(0x103);
        m.write32(heap, 1);
        b.kmap.check();
      }
    }
  });

  it('the parent keeps writing its own present pages after fork (nothing shared, nothing write-protected)', () => {
    const { m, heap } = parent();
    const c = m.copy(2);
    expect(m.pmap.translate(heap, Access.WRITE | U)).toBeGreaterThanOrEqual(0);
    m.write32(heap, 3);
    expect(m.read32(heap)).toBe(3);
    expect(c.read32(heap)).toBe(0x100);
  });
});

describe('copy without an MMU', () => {
  it('is ENOSYS', () => {
    const b = boot(ARCHS[2]);
    const m = user(b);
    m.mmap({ size: b.ps, prot: RW, flags: PRIV });
    expectErrno(() => m.copy(2), 'ENOSYS');
    m.check();
  });
});

describe.each(ARCHS)('PROT bits on $name', (a) => {
  it('EXEC mappings allow instruction fetch, others not', () => {
    const b = boot(a);
    const m = user(b);
    const x = m.mmap({ size: b.ps, prot: Prot.READ | Prot.EXEC | Prot.USER, flags: PRIV });
    expect(m.fault(x, Access.EXEC | U)).toBe(0);
    expect(m.format()).toMatch(/r-xp/);
  });
});
