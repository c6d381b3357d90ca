import { Access, FaultCode, MapFlags, PageOwner, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RO, RW, TestBacking, TestObject, boot, expectErrno, user } from './helpers.js';

const U = Access.USER;

describe.each(ARCHS)('faults on $name', (a) => {
  it('zero-fills on first touch, with an APP frame, and reads back what was written', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    expect(m.fault(va + 8, Access.READ | U)).toBe(0);
    expect(Array.from(m.read(va, 16))).toEqual(new Array(16).fill(0));
    const text = new TextEncoder().encode('across the page boundary');
    m.write(va + b.ps - 10, text);
    expect(new TextDecoder().decode(m.read(va + b.ps - 10, text.length))).toBe('across the page boundary');
    const pa = m.pmap.translate(va + b.ps - 10, Access.READ | U);
    expect(pa).toBeGreaterThanOrEqual(0);
    expect(b.mem.read8(pa)).toBe(text[0]);
    const info = b.alloc.get(pa)!;
    expect(info.owner).toBe(PageOwner.APP);
    m.check();
  });

  it('refuses a write to read-only, an access outside any entry, PROT_NONE, EXEC without EXEC', () => {
    const b = boot(a);
    const m = user(b);
    const ro = m.mmap({ size: b.ps, prot: RO, flags: PRIV });
    const none = m.mmap({ size: b.ps, prot: Prot.USER, flags: PRIV });
    expect(m.fault(ro, Access.WRITE | U)).toBe(FaultCode.PROTECTION);
    expect(m.fault(ro, Access.EXEC | U)).toBe(FaultCode.PROTECTION);
    expect(m.fault(ro, Access.READ | U)).toBe(0);
    expect(m.fault(none, Access.READ | U)).toBe(FaultCode.PROTECTION);
    expect(m.fault(none + 16 * b.ps, Access.READ | U)).toBe(FaultCode.NOT_MAPPED);
    expectErrno(() => m.write32(ro, 1), 'EACCES');
    expectErrno(() => m.read32(none), 'EACCES');
    expectErrno(() => m.read32(none + 16 * b.ps), 'EFAULT');
    m.check();
  });

  it('refuses user access to an entry without Prot.USER', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: b.ps, prot: Prot.READ | Prot.WRITE, flags: PRIV });
    expect(m.fault(va, Access.READ | U)).toBe(FaultCode.PROTECTION);
    expectErrno(() => m.read32(va), 'EACCES');
    m.check();
  });

  it('returns codes, never throws, on bad arguments', () => {
    const b = boot(a);
    const m = user(b);
    expect(m.fault(NaN, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
    expect(m.fault(-1, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
    expect(m.fault(1.5, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
    expect(m.fault(b.ps, 0)).toBe(FaultCode.BAD_ADDRESS);
    expect(m.fault(b.ps, 99)).toBe(FaultCode.BAD_ADDRESS);
    expect(m.fault('x' as never, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
  });

  it('a backing that hands out read-only pages is mapped read-only', () => {
    const b = boot(a);
    const m = user(b);
    const obj = new TestObject(b, 1);
    b.mem.write32(obj.base, 0xabc);
    const va = m.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED, backing: new TestBacking(obj, Prot.READ | Prot.WRITE, false) as never });
    expect(m.read32(va)).toBe(0xabc);
    if (a.mmu) {
      expect(m.fault(va, Access.WRITE | U)).toBe(FaultCode.PROTECTION);
      expect(m.pmap.translate(va, Access.WRITE | U)).toBeLessThan(0);
    }
  });
});

describe.each(ARCHS.filter((x) => x.mmu))('fault exhaustion on $name', (a) => {
  it('no frame: NO_MEMORY, nothing entered, the map intact', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    const before = m.format();
    b.alloc.faults.failAt('frame', 1);
    expect(m.fault(va, Access.WRITE | U)).toBe(FaultCode.NO_MEMORY);
    expect(m.pmap.resolve(va)).toBe(-1);
    expect(m.format()).toBe(before);
    m.check();
    b.alloc.faults.failAt('frame', 1);
    expectErrno(() => m.write32(va + b.ps, 1), 'ENOMEM');
    expect(m.fault(va, Access.WRITE | U)).toBe(0);
    m.check();
  });

  it('no page table: NO_MEMORY, nothing entered, the map intact; a retry succeeds', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    b.alloc.faults.failAt('ptable', 1);
    expect(m.fault(va, Access.WRITE | U)).toBe(FaultCode.NO_MEMORY);
    expect(m.pmap.resolve(va)).toBe(-1);
    m.check();
    m.write32(va, 5);
    expect(m.read32(va)).toBe(5);
    m.check();
  });
});

describe.each(ARCHS)('process memory access on $name', (a) => {
  it('changes no byte when a later page of the access fails', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    m.mprotect(va + b.ps, b.ps, RO);
    m.write32(va + b.ps - 4, 0x11111111);
    expectErrno(() => m.write(va + b.ps - 4, new Uint8Array(8).fill(0xee)), 'EACCES');
    expect(m.read32(va + b.ps - 4)).toBe(0x11111111);
    expectErrno(() => m.read(va, 3 * b.ps), 'EFAULT');
    expectErrno(() => m.read(-1, 4), 'EINVAL');
    expectErrno(() => m.read(va, -4), 'EINVAL');
    expectErrno(() => m.write(va, [1, 2] as never), 'EINVAL');
    expectErrno(() => m.write32(va, NaN), 'EINVAL');
    expect(m.read(va, 0)).toEqual(new Uint8Array(0));
    m.check();
  });

  it('read32/write32 across a page boundary are little-endian', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    m.write32(va + b.ps - 1, 0x04030201);
    expect(Array.from(m.read(va + b.ps - 1, 4))).toEqual([1, 2, 3, 4]);
    expect(m.read32(va + b.ps - 3)).toBe(0x02010000);
    expect(m.read32(va + b.ps - 1)).toBe(0x04030201);
  });
});
