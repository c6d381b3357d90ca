import { Access, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ZeroFillBacking } from '../src/index.js';
import { ARCHS, PRIV, RO, RW, boot, expectRefused, user } from './helpers.js';

const U = Access.USER;

describe.each(ARCHS)('munmap on $name', (a) => {
  function setup() {
    const b = boot(a);
    const m = user(b);
    const backing = new ZeroFillBacking(b.alloc);
    const va = m.mmap({ size: 8 * b.ps, prot: RW, flags: PRIV, backing });
    for (let i = 0; i < 8; i++) m.write32(va + i * b.ps, i + 1);
    return { b, m, va, ps: b.ps, backing };
  }
  const shape = (m: ReturnType<typeof setup>['m'], va: number, ps: number) =>
    m.entries().map((e) => [(e.start - va) / ps, (e.end - va) / ps]);

  it('unmaps the head', () => {
    const { b, m, va, ps, backing } = setup();
    const held = backing.residentPages;
    m.munmap(va, 2 * ps);
    expect(shape(m, va, ps)).toEqual([[2, 8]]);
    expect(m.read32(va + 2 * ps)).toBe(3);
    if (a.mmu) expect(backing.residentPages).toBe(held - 2);
    expect(() => m.read32(va)).toThrow(/EFAULT/);
    expect(m.fault(va, Access.READ | U)).toBe(-1);
    m.check();
    b.kmap.check();
  });

  it('unmaps the tail', () => {
    const { m, va, ps } = setup();
    m.munmap(va + 6 * ps, 2 * ps);
    expect(shape(m, va, ps)).toEqual([[0, 6]]);
    expect(m.read32(va + 5 * ps)).toBe(6);
    expect(() => m.read32(va + 6 * ps)).toThrow(/EFAULT/);
    m.check();
  });

  it('unmaps the middle: one entry becomes two, both keep their data', () => {
    const { m, va, ps } = setup();
    m.munmap(va + 3 * ps, 2 * ps);
    expect(shape(m, va, ps)).toEqual([
      [0, 3],
      [5, 8],
    ]);
    expect(m.read32(va + 2 * ps)).toBe(3);
    expect(m.read32(va + 5 * ps)).toBe(6);
    expect(m.entries()[1].offset - m.entries()[0].offset).toBe(5 * ps);
    expect(() => m.read32(va + 4 * ps)).toThrow(/EFAULT/);
    m.check();
  });

  it('unmaps a range spanning several entries and holes', () => {
    const { m, va, ps } = setup();
    m.mprotect(va + 2 * ps, ps, RO);
    m.munmap(va + 4 * ps, ps);
    expect(shape(m, va, ps)).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
      [5, 8],
    ]);
    m.munmap(va + ps, 6 * ps);
    expect(shape(m, va, ps)).toEqual([
      [0, 1],
      [7, 8],
    ]);
    expect(m.read32(va)).toBe(1);
    expect(m.read32(va + 7 * ps)).toBe(8);
    m.check();
  });

  it('unmapping nothing is not an error (POSIX)', () => {
    const { m, va, ps } = setup();
    const before = m.format();
    m.munmap(va + 16 * ps, 4 * ps);
    expect(m.format()).toBe(before);
    m.check();
  });

  it('rounds the size up and unmaps the whole map back to nothing', () => {
    const { b, m, va, ps } = setup();
    m.munmap(va, 7 * ps + 1);
    expect(m.entries()).toEqual([]);
    m.check();
    b.kmap.check();
  });

  const bad: [string, (va: number, ps: number, hi: number) => [number, number], string][] = [
    ['unaligned addr', (va) => [va + 1, 4096], 'EINVAL'],
    ['size 0', (va) => [va, 0], 'EINVAL'],
    ['negative size', (va) => [va, -1], 'EINVAL'],
    ['NaN size', (va) => [va, NaN], 'EINVAL'],
    ['fractional size', (va) => [va, 0.5], 'EINVAL'],
    ['NaN addr', () => [NaN, 4096], 'EINVAL'],
    ['a size that wraps past the top (project#1759)', (va) => [va, 2 ** 53 - 1], 'EINVAL'],
    ['a range past the map top', (_va, ps, hi) => [hi - ps, 2 * ps], 'EINVAL'],
    ['a kernel address', (_va, ps, hi) => [hi, ps], 'EINVAL'],
  ];
  it.each(bad)('refuses %s and changes nothing', (_n, make, code) => {
    const { b, m, va, ps } = setup();
    const [addr, size] = make(va, ps, m.end);
    expectRefused(m, b.alloc, () => m.munmap(addr, size), code as never);
    expect(m.read32(va)).toBe(1);
  });

  it('a middle unmap that cannot get an entry changes nothing (pool and injected)', () => {
    const { b, m, va, ps } = setup();
    b.alloc.faults.failAt('map-entry', 1);
    expectRefused(m, b.alloc, () => m.munmap(va + 2 * ps, ps), 'ENOMEM');
    expect(m.read32(va + 2 * ps)).toBe(3);
  });

  it('frees the frames of what it unmaps', () => {
    const b = boot(a);
    const m = user(b);
    const free0 = b.alloc.info().free;
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < 4; i++) m.write32(va + i * b.ps, 9);
    m.munmap(va, 4 * b.ps);
    if (a.mmu) {
      // Table pages went back with the last mapping.
      expect(b.alloc.info().free).toBe(free0);
    } else expect(b.alloc.info().free).toBe(free0);
    m.check();
  });

  it('keeps PROT_NONE entries unmappable and unmaps them', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 2 * b.ps, prot: Prot.NONE | Prot.USER, flags: PRIV });
    expect(m.fault(va, Access.READ | U)).toBe(-2);
    m.munmap(va, 2 * b.ps);
    expect(m.entries()).toEqual([]);
  });
});
