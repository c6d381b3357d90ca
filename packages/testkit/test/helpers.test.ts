import { PageAllocator, PhysicalMemory, VmError, boards, isUint } from '@vmlayers/phys';
import { aarch64, armv7a, ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m, armv8m } from '@vmlayers/pmap-nommu';
import { describe, expect, it } from 'vitest';
import { ARCHS, NOT_UINTS, WIDE_UINTS, errnoOf, expectErrno, expectUnchanged, identityKernel, outcomeOf } from '../src/index.js';

const fails = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the assertion passed');
};

describe('expectErrno', () => {
  it('passes on a VmError with the code and returns it', () => {
    const e = expectErrno(() => {
      throw new VmError('EFAULT', 'va 0x0 is not mapped');
    }, 'EFAULT');
    expect(e.code).toBe('EFAULT');
  });

  it('fails on another code, a TypeError, a plain object with a code, and a return, naming the case', () => {
    expect(fails(() => expectErrno(() => { throw new VmError('ENOMEM', 'x'); }, 'EINVAL', 'kfree(4096n)'))).toMatch(/kfree\(4096n\): expected VmError EINVAL, got ENOMEM: x/);
    expect(fails(() => expectErrno(() => { throw new TypeError('Cannot mix BigInt'); }, 'EINVAL'))).toMatch(/got TypeError: Cannot mix BigInt/);
    expect(fails(() => expectErrno(() => { throw Object.assign(new Error('ENOMEM'), { code: 'ENOMEM' }); }, 'ENOMEM'))).toMatch(/got Error: ENOMEM/);
    expect(fails(() => expectErrno(() => 0x1000, 'EINVAL'))).toMatch(/the call returned 0x1000/);
  });
});

describe('expectUnchanged', () => {
  it('passes when the snapshot is the same after the refused call', () => {
    const state = { n: 1 };
    expectUnchanged(() => ({ ...state }), () => { throw new VmError('EINVAL', 'bad'); }, 'EINVAL');
  });

  it('fails when the refused call changed the state', () => {
    const state = { n: 1 };
    const msg = fails(() =>
      expectUnchanged(() => ({ ...state }), () => { state.n++; throw new VmError('EINVAL', 'bad'); }, 'EINVAL', 'case 7'),
    );
    expect(msg).toMatch(/case 7: state changed by a refused call/);
  });
});

describe('errnoOf and outcomeOf', () => {
  it('errnoOf gives the code or undefined and rethrows what has none', () => {
    expect(errnoOf(() => { throw new VmError('EPERM', 'no'); })).toBe('EPERM');
    expect(errnoOf(() => 1)).toBeUndefined();
    expect(() => errnoOf(() => { throw new RangeError('r'); })).toThrow(RangeError);
  });

  it('outcomeOf says what happened, whatever was thrown or returned', () => {
    expect(outcomeOf(() => 4096)).toBe('returned 0x1000');
    expect(outcomeOf(() => 4096n)).toBe('returned 4096n');
    expect(outcomeOf(() => { throw new VmError('EFAULT', 'va'); })).toBe('threw VmError EFAULT: va');
    expect(outcomeOf(() => { throw new TypeError('t'); })).toBe('threw TypeError: t');
    expect(outcomeOf(() => { throw 'str'; })).toBe('threw "str"');
  });
});

describe('hostile values', () => {
  it('NOT_UINTS holds no exact integer in [0, 2^53); WIDE_UINTS only such integers, all at or past 2^32', () => {
    for (const v of NOT_UINTS) expect(isUint(v.value), v.name).toBe(false);
    for (const v of WIDE_UINTS) expect(isUint(v.value) && (v.value as number) >= 2 ** 32, v.name).toBe(true);
    const sparse = NOT_UINTS.find((v) => v.name === '[, 4096]')!.value as unknown[];
    expect(0 in sparse).toBe(false);
  });
});

describe('ARCHS', () => {
  it('lists sv39, ia32, armv7m, armv8m, aarch64 and armv7a with their default boards', () => {
    expect(ARCHS.map(({ name, arch, board, mmu }) => ({ name, arch, board, mmu }))).toEqual([
      { name: 'sv39', arch: sv39, board: 'riscv-virt-64m', mmu: true },
      { name: 'ia32', arch: ia32, board: 'ia32-pc-32m', mmu: true },
      { name: 'armv7m', arch: armv7m, board: 'stm32-512k', mmu: false },
      { name: 'armv8m', arch: armv8m, board: 'cortex-m33-256k', mmu: false },
      { name: 'aarch64', arch: aarch64, board: 'aarch64-virt-128m', mmu: true },
      { name: 'armv7a', arch: armv7a, board: 'zynq7000-256m', mmu: true },
    ]);
    for (const a of ARCHS) expect(boards.get(a.board).name).toBe(a.board);
  });
});

describe('identityKernel', () => {
  const boot = (ram = 64 * 1024, pageSize = 4096) => {
    const mem = new PhysicalMemory(boards.ram(ram, 0x1000_0000));
    return identityKernel(new PageAllocator(mem, { pageSize }), mem);
  };

  it('hands out zeroed kernel heap pages at their physical address, bytes straight to memory', () => {
    const k = boot();
    const before = k.alloc.info();
    const va = k.allocPages(2);
    expect(k.alloc.get(va)).toMatchObject({ pa: va, order: 1, free: false });
    expect(k.alloc.info().kernel - before.kernel).toBe(2 * 4096);
    expect(k.pageSize).toBe(4096);
    expect(k.read32(va + 4092)).toBe(0);
    k.write32(va + 4092, 0xdeadbeef);
    expect(k.mem.read32(va + 4092)).toBe(0xdeadbeef);
    k.write(va + 8000, Uint8Array.of(1, 2, 3));
    expect(k.read(va + 8000, 3)).toEqual(Uint8Array.of(1, 2, 3));
    k.freePages(va);
    expect(k.alloc.info()).toEqual(before);
  });

  it('out of frames → VmError ENOMEM; bad counts and frees → EINVAL; nothing allocated', () => {
    const k = boot(64 * 1024, 512);
    const before = k.alloc.info();
    expectErrno(() => k.allocPages(1000), 'ENOMEM');
    for (const v of NOT_UINTS) expectErrno(() => k.allocPages(v.value as number), 'EINVAL', v.name);
    expectErrno(() => k.freePages(0x1000_0000), 'EINVAL');
    expect(k.alloc.info()).toEqual(before);
    k.alloc.check();
  });
});
