import { MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIVATE, RW, SHARED, errnoOf, pattern, smallVm } from './helpers.js';

describe.each(ARCHS.map((a) => [a.name, a] as const))('isolation on %s', (_n, arch) => {
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;

  it("no process reads or writes another's private pages, through any call", () => {
    const vm = smallVm(arch);
    const a = vm.spawn();
    const b = vm.spawn();
    const va = a.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    a.write(va, pattern(2 * ps, 0x5a));
    const vb = b.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    if (mmu) expect(vb).toBe(va); // same address, different memory
    else expect(vb).not.toBe(va); // one address space: b's view does not include a's block
    expect(b.read(vb, 2 * ps).every((x) => x === 0)).toBe(true);
    if (!mmu) {
      expect(errnoOf(() => b.read(va, 1))).toBe('EFAULT');
      expect(errnoOf(() => b.write(va, new Uint8Array([1])))).toBe('EFAULT');
      expect(errnoOf(() => b.munmap(va, ps))).toBeUndefined();
      expect(errnoOf(() => b.mprotect(va, ps, Prot.READ))).toBe('ENOMEM');
    }
    b.write(vb, new Uint8Array([1, 2, 3]));
    expect(a.read(va, 2 * ps)).toEqual(pattern(2 * ps, 0x5a));
    expect(vm.maps(b.pid).some((m) => m.start <= va && va < m.end && !mmu)).toBe(false);
    vm.check();
  });

  it('kernel memory is out of reach: reads and writes of kernel addresses fail with EFAULT', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    p.mmap({ size: ps, prot: RW, flags: PRIVATE });
    const kva = vm.kmalloc.kmalloc(64);
    vm.kmap.write(kva, new Uint8Array([0x42]));
    expect(errnoOf(() => p.read(kva, 1))).toBe('EFAULT');
    expect(errnoOf(() => p.write(kva, new Uint8Array([0])))).toBe('EFAULT');
    expect(vm.kmap.read(kva, 1)[0]).toBe(0x42);
    const [k0] = arch.kernelRange;
    if (mmu) expect(errnoOf(() => p.read(k0, 4))).toBe('EFAULT');
    expect(errnoOf(() => p.mmap({ addr: k0, size: ps, prot: RW, flags: PRIVATE | MapFlags.FIXED }))).toBe('EINVAL');
    vm.kmalloc.kfree(kva);
    vm.check();
  });

  it('users cannot map physical memory or devices, nor ask for NEEDSCOPY', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    expect(errnoOf(() => p.mmap({ size: ps, prot: RW, flags: SHARED | MapFlags.PHYSMEM, offset: 0 }))).toBe('EPERM');
    expect(errnoOf(() => p.mmap({ size: ps, prot: RW, flags: SHARED | MapFlags.DEVICE }))).toBe('EPERM');
    expect(errnoOf(() => p.mmap({ size: ps, prot: RW, flags: PRIVATE | MapFlags.NEEDSCOPY }))).toBe('EINVAL');
    expect(vm.maps(p.pid)).toEqual([]);
  });

  it('freed frames never show old data', () => {
    const vm = smallVm(arch);
    for (let round = 0; round < 3; round++) {
      const a = vm.spawn();
      const va = a.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE });
      const sh = a.mmap({ size: 2 * ps, prot: RW, flags: SHARED });
      expect(a.read(va, 8 * ps).every((x) => x === 0)).toBe(true);
      expect(a.read(sh, 2 * ps).every((x) => x === 0)).toBe(true);
      a.write(va, pattern(8 * ps, 0xc3));
      a.write(sh, pattern(2 * ps, 0x3c));
      a.exit();
    }
    vm.check();
  });

  it('PROT_NONE faults, read-only refuses writes, exited processes refuse everything', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const none = p.mmap({ size: ps, prot: Prot.NONE, flags: PRIVATE });
    const ro = p.mmap({ size: ps, prot: Prot.READ, flags: PRIVATE });
    expect(errnoOf(() => p.read(none, 1))).toBe('EACCES');
    expect(errnoOf(() => p.write(ro, new Uint8Array([1])))).toBe('EACCES');
    expect(p.read(ro, 4)).toEqual(new Uint8Array(4));
    p.exit();
    expect(p.exited).toBe(true);
    for (const f of [
      () => p.read(ro, 1),
      () => p.write(ro, new Uint8Array([1])),
      () => p.mmap({ size: ps, prot: RW, flags: PRIVATE }),
      () => p.munmap(ro, ps),
      () => p.mprotect(ro, ps, RW),
      () => p.fork(),
      () => p.exit(),
    ]) {
      expect(errnoOf(f)).toBe('EINVAL');
    }
    expect(errnoOf(() => vm.maps(p.pid))).toBe('ENOENT');
    vm.check();
  });

  if (mmu) {
    it('NOINHERIT mappings are not in the child; the child cannot reach them', () => {
      const vm = smallVm(arch);
      const p = vm.spawn();
      const secret = p.mmap({ size: ps, prot: RW, flags: PRIVATE | MapFlags.NOINHERIT });
      p.write(secret, new Uint8Array([0x99]));
      const c = p.fork();
      expect(errnoOf(() => c.read(secret, 1))).toBe('EFAULT');
      expect(vm.maps(c.pid)).toEqual([]);
      vm.check();
    });
  }
});
