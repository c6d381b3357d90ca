import { Access, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RO, RW, TestBacking, TestObject, boot, expectRefused, user } from './helpers.js';

const U = Access.USER;

describe.each(ARCHS)('mprotect on $name', (a) => {
  function setup(pages = 6) {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: pages * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < pages; i++) m.write32(va + i * b.ps, 10 + i);
    return { b, m, va, ps: b.ps };
  }

  it('splits one entry into three and merges them back', () => {
    const { m, va, ps } = setup();
    m.mprotect(va + 2 * ps, 2 * ps, RO);
    expect(m.entries().map((e) => [(e.start - va) / ps, (e.end - va) / ps, e.prot])).toEqual([
      [0, 2, RW],
      [2, 4, RO],
      [4, 6, RW],
    ]);
    m.check();
    expect(m.read32(va + 2 * ps)).toBe(12);
    expect(() => m.write32(va + 2 * ps, 1)).toThrow(/EACCES/);
    expect(m.fault(va + 2 * ps, Access.WRITE | U)).toBe(-2);
    m.write32(va + 4 * ps, 99);
    m.mprotect(va + 2 * ps, 2 * ps, RW);
    expect(m.entries()).toHaveLength(1);
    m.write32(va + 2 * ps, 77);
    expect(m.read32(va + 2 * ps)).toBe(77);
    expect(m.read32(va + 4 * ps)).toBe(99);
    m.check();
  });

  it('merges with both neighbours when the middle returns to their prot (the original merge bug)', () => {
    const { m, va, ps } = setup();
    m.mprotect(va + ps, ps, RO);
    m.mprotect(va + 3 * ps, ps, RO);
    expect(m.entries()).toHaveLength(5);
    m.mprotect(va + 2 * ps, ps, RO);
    expect(m.entries().map((e) => [(e.start - va) / ps, (e.end - va) / ps])).toEqual([
      [0, 1],
      [1, 4],
      [4, 6],
    ]);
    // Entries of different backings are never merged, whatever their prot (project#1225).
    m.mprotect(va, 6 * ps, RW);
    expect(m.entries()).toHaveLength(1);
    m.check();
  });

  it('does not merge entries whose offsets are not contiguous', () => {
    const b = boot(a);
    const m = user(b);
    const obj = new TestObject(b, 8);
    const x = m.mmap({ size: 2 * b.ps, prot: RO, flags: MapFlags.SHARED, backing: new TestBacking(obj) as never, offset: 0 });
    const y = m.mmap({ addr: x + 2 * b.ps, size: 2 * b.ps, prot: RO, flags: MapFlags.SHARED, backing: new TestBacking(obj) as never, offset: 4 * b.ps });
    if (a.mmu) expect(y).toBe(x + 2 * b.ps);
    expect(m.entries()).toHaveLength(2);
    // Same object, contiguous offsets: merged.
    m.mmap({ addr: y + 2 * b.ps, size: b.ps, prot: RO, flags: MapFlags.SHARED, backing: new TestBacking(obj) as never, offset: 6 * b.ps });
    expect(m.entries()).toHaveLength(2);
    m.check();
  });

  it('PROT_NONE faults, and access comes back with the data', () => {
    const { m, va, ps } = setup();
    m.mprotect(va, 6 * ps, Prot.USER);
    expect(() => m.read32(va)).toThrow(/EACCES/);
    expect(m.fault(va + ps, Access.READ | U)).toBe(-2);
    m.check();
    m.mprotect(va, 6 * ps, RW);
    expect(m.read32(va + 5 * ps)).toBe(15);
    m.check();
  });

  it('a hole in the range is ENOMEM and changes nothing', () => {
    const { b, m, va, ps } = setup();
    m.munmap(va + 3 * ps, ps);
    expectRefused(m, b.alloc, () => m.mprotect(va, 6 * ps, RO), 'ENOMEM');
    expectRefused(m, b.alloc, () => m.mprotect(va + 8 * ps, ps, RO), 'ENOMEM');
  });

  it('refuses more than the backing allows (EACCES)', () => {
    const b = boot(a);
    const m = user(b);
    const obj = new TestObject(b, 2);
    const va = m.mmap({ size: 2 * b.ps, prot: RO, flags: MapFlags.SHARED, backing: new TestBacking(obj) as never });
    expectRefused(m, b.alloc, () => m.mprotect(va, b.ps, RW), 'EACCES');
    m.mprotect(va, b.ps, Prot.USER);
    expect(m.entries()).toHaveLength(2);
    m.check();
  });

  const bad: [string, (va: number, ps: number, hi: number) => [number, number, number], string][] = [
    ['unaligned addr', (va) => [va + 4, 4096, RO], 'EINVAL'],
    ['size 0', (va) => [va, 0, RO], 'EINVAL'],
    ['negative size', (va) => [va, -4096, RO], 'EINVAL'],
    ['NaN size', (va) => [va, NaN, RO], 'EINVAL'],
    ['bad prot', (va, ps) => [va, ps, 0x10], 'EINVAL'],
    ['NaN prot', (va, ps) => [va, ps, NaN], 'EINVAL'],
    ['range past the top', (_va, ps, hi) => [hi - ps, 2 * ps, RO], 'EINVAL'],
    ['kernel address', (_va, ps, hi) => [hi, ps, RO], 'EINVAL'],
  ];
  it.each(bad)('refuses %s and changes nothing', (_n, make, code) => {
    const { b, m, va, ps } = setup();
    const [addr, size, prot] = make(va, ps, m.end);
    expectRefused(m, b.alloc, () => m.mprotect(addr, size, prot), code as never);
  });

  it('a split that cannot get its entries changes nothing', () => {
    const { b, m, va, ps } = setup();
    b.alloc.faults.failAt('map-entry', 2);
    expectRefused(m, b.alloc, () => m.mprotect(va + ps, ps, RO), 'ENOMEM');
    expect(m.entries()).toHaveLength(1);
    m.mprotect(va + ps, ps, RO);
    expect(m.entries()).toHaveLength(3);
  });

  it('changing a part to the prot it has already splits nothing', () => {
    const { b, m, va, ps } = setup();
    const used = b.kmap.info().entries;
    m.mprotect(va + ps, ps, RW);
    expect(m.entries()).toHaveLength(1);
    expect(b.kmap.info().entries).toBe(used);
  });
});
