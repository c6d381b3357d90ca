import { Access, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RO, RW, boot, expectErrno, expectRefused, state, user } from './helpers.js';

const POP = MapFlags.POPULATE;

describe.each(ARCHS.map((a) => [a.arch.name, a] as const))('MapFlags.POPULATE and populate() on %s', (_, a) => {
  it('maps every page at mmap, so later accesses take no fault; the flag is not kept on the entry', () => {
    const b = boot(a);
    const m = user(b);
    const free0 = b.alloc.info().free;
    // The user root table: one frame, or ARMv7-A's 8 KiB TTBR0 table.
    const root = a.mmu ? b.ps * 2 ** b.alloc.get(m.pmap.tables()[0].pa)!.order : 0;
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV | POP });
    expect(m.find(va)!.flags & POP).toBe(0);
    if (a.mmu) {
      for (let p = 0; p < 4; p++) expect(m.pmap.resolve(va + p * b.ps)).toBeGreaterThanOrEqual(0);
      // Writable: populated with write faults, so a write hits at once (D already set).
      for (let p = 0; p < 4; p++) expect(m.pmap.translate(va + p * b.ps, Access.WRITE | Access.USER)).toBeGreaterThanOrEqual(0);
      expect(b.alloc.info().free).toBeLessThan(free0 - 4 * b.ps + 1);
    }
    m.check();
    // A read-only mapping is populated with read faults; PROT_NONE with nothing.
    const ro = m.mmap({ size: 2 * b.ps, prot: RO, flags: PRIV | POP });
    const none = m.mmap({ size: b.ps, prot: Prot.NONE, flags: PRIV | POP });
    if (a.mmu) {
      expect(m.pmap.translate(ro, Access.READ | Access.USER)).toBeGreaterThanOrEqual(0);
      expect(m.pmap.resolve(none)).toBe(-1);
    }
    m.check();
    m.munmap(va, 4 * b.ps);
    m.munmap(ro, 2 * b.ps);
    m.munmap(none, b.ps);
    m.destroy();
    expect(b.alloc.info().free).toBe(free0 + root); // the user root table went too
  });

  it('is all or nothing: memory running out part way removes the new mapping and changes nothing', () => {
    const b = boot(a);
    const m = user(b);
    const keep = m.mmap({ size: b.ps, prot: RW, flags: PRIV });
    m.write(keep, new Uint8Array([1]));
    for (const n of [1, 2, 3]) {
      b.alloc.faults.failAt('frame', n);
      // Without an MMU the one block is the mmap's only frame allocation: the first failure refuses it whole.
      if (a.mmu || n === 1) expectRefused(m, b.alloc, () => m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV | POP }), 'ENOMEM');
      else m.munmap(m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV | POP }), 4 * b.ps);
      b.alloc.faults.reset();
    }
    expect([...m.read(keep, 1)]).toEqual([1]);
    m.check();
  });

  it('populate(addr, size) fills a range of existing mappings, checks it whole first, and keeps what it did on ENOMEM', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    const before = state(m);
    expectErrno(() => m.populate(va, 5 * b.ps), 'ENOMEM'); // the fifth page is not mapped: nothing faulted
    expect(state(m)).toEqual(before);
    if (a.mmu) expect(m.pmap.resolve(va)).toBe(-1);
    for (const [addr, size] of [
      [va + 1, b.ps],
      [va, 0],
      [Number.NaN, b.ps],
      [va, -1],
      [2 ** 60, b.ps],
    ] as const) {
      expectErrno(() => m.populate(addr, size), 'EINVAL');
    }
    if (a.mmu) {
      b.alloc.faults.failAt('frame', 3);
      expectErrno(() => m.populate(va, 4 * b.ps), 'ENOMEM');
      b.alloc.faults.reset();
      expect([0, 1, 2, 3].map((p) => m.pmap.resolve(va + p * b.ps) >= 0)).toEqual([true, true, false, false]);
      m.populate(va, 4 * b.ps);
      expect([0, 1, 2, 3].map((p) => m.pmap.resolve(va + p * b.ps) >= 0)).toEqual([true, true, true, true]);
      expect(m.fault(va, Access.READ | Access.USER)).toBe(0);
    }
    m.check();
    m.destroy();
    expectErrno(() => m.populate(va, b.ps), 'EINVAL');
  });

  it('refuses a flag bit above POPULATE', () => {
    const b = boot(a);
    const m = user(b);
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: PRIV | 0x800 }), 'EINVAL');
  });
});
