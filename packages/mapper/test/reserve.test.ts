import { Access, FaultCode, MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ReservedBacking } from '../src/index.js';
import { ARCHS, PRIV, RW, boot, expectErrno, expectRefused, user } from './helpers.js';

describe.each(ARCHS.filter((a) => a.mmu).map((a) => [a.arch.name, a] as const))('reserve on %s', (_, a) => {
  it('holds a range no page comes from, that other mmaps avoid and FIXED mappings fill', () => {
    const b = boot(a);
    const m = user(b);
    const free0 = b.alloc.info().free;
    // The user root table: one frame, or ARMv7-A's 8 KiB TTBR0 table.
    const root = b.ps * 2 ** b.alloc.get(m.pmap.tables()[0].pa)!.order;
    const r = m.reserve(8 * b.ps);
    expect(m.find(r)).toMatchObject({ start: r, end: r + 8 * b.ps, prot: Prot.NONE });
    expect(m.find(r)!.backing).toBeInstanceOf(ReservedBacking);
    expect(m.format()).toContain('[reserved]');
    // Other mappings go elsewhere.
    const other = m.mmap({ size: b.ps, prot: RW, flags: PRIV, addr: r });
    expect(other >= r + 8 * b.ps || other + b.ps <= r).toBe(true);
    // Nothing can be had from it: every access faults, mprotect cannot open it.
    expect(m.fault(r, Access.READ | Access.USER)).toBe(FaultCode.PROTECTION);
    expectErrno(() => m.read(r, 1), 'EACCES');
    expectRefused(m, b.alloc, () => m.mprotect(r, b.ps, RW), 'EACCES');
    // A FIXED mapping fills part of it; the rest stays reserved, and munmap gives the range back.
    const w = m.mmap({ addr: r + 2 * b.ps, size: 2 * b.ps, prot: RW, flags: PRIV | MapFlags.FIXED });
    expect(w).toBe(r + 2 * b.ps);
    m.write(w, new Uint8Array([42]));
    expect(m.entries().map((e) => [e.start - r, e.end - r, e.backing.name]).filter(([s]) => (s as number) >= 0 && (s as number) < 8 * b.ps)).toEqual([
      [0, 2 * b.ps, '[reserved]'],
      [2 * b.ps, 4 * b.ps, '[anon]'],
      [4 * b.ps, 8 * b.ps, '[reserved]'],
    ]);
    m.check();
    // Fork keeps the reservation in the child.
    const child = m.copy(2);
    expect(child.find(r + 5 * b.ps)?.backing.name).toBe('[reserved]');
    child.destroy();
    m.munmap(r, 8 * b.ps);
    m.munmap(other, b.ps);
    expect(m.entries()).toEqual([]);
    m.check();
    m.destroy();
    expect(b.alloc.info().free).toBe(free0 + root);
  });

  it('refuses bad arguments and a range that does not fit, changing nothing', () => {
    const b = boot(a);
    const m = user(b);
    for (const [size, addr] of [
      [0, undefined],
      [-1, undefined],
      [Number.NaN, undefined],
      [b.ps, 3],
      [b.ps, 2 ** 60],
    ] as const) {
      expectRefused(m, b.alloc, () => m.reserve(size, addr), 'EINVAL');
    }
    expectRefused(m, b.alloc, () => m.reserve(m.end), 'ENOMEM');
    b.alloc.faults.failAt('map-entry', 1);
    expectRefused(m, b.alloc, () => m.reserve(b.ps), 'ENOMEM');
    b.alloc.faults.reset();
  });
});

describe.each(ARCHS.filter((a) => !a.mmu).map((a) => [a.arch.name, a] as const))('reserve on %s', (_, a) => {
  it('is ENOSYS: without an MMU a mapping goes where its memory is', () => {
    const b = boot(a);
    const m = user(b);
    expectRefused(m, b.alloc, () => m.reserve(b.ps), 'ENOSYS');
  });
});
