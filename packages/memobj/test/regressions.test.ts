import { armv7m } from '@vmlayers/pmap-nommu';
import { MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { MMU_ARCHS, PRIVATE, RW, errnoOf, footprint, pattern, smallVm } from './helpers.js';

// The original's known bugs in this layer (reference notes §12). Each test fails on the original's behaviour.
describe.each(MMU_ARCHS.map((a) => [a.name, a] as const))('regressions of the original on %s', (_n, arch) => {
  const ps = arch.pageSize;

  it('project#1714: a mapping next to an amap shared with a fork twin does not reuse or clear it', () => {
    // The original merged the new anonymous range into the left neighbour and amap_clear'ed its slots in the amap
    // the child still used: the child lost its page (reads zeros, anon leaked) or the parent wrote into the
    // child's page after a later reuse.
    const vm = smallVm(arch);
    const base = footprint(vm);
    const p = vm.spawn();
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(2 * ps, 1));
    const c = p.fork();
    p.munmap(va + ps, ps);
    const again = p.mmap({ addr: va + ps, size: ps, prot: RW, flags: PRIVATE | MapFlags.FIXED });
    expect(again).toBe(va + ps);
    expect(p.read(va + ps, ps).every((b) => b === 0)).toBe(true);
    expect(c.read(va + ps, ps)).toEqual(pattern(2 * ps, 1).subarray(ps));
    p.write(va + ps, new Uint8Array([0x77]));
    expect(c.read(va + ps, 1)[0]).toBe(pattern(2 * ps, 1)[ps]);
    vm.check();
    c.exit();
    vm.check();
    expect(p.read(va, ps)).toEqual(pattern(2 * ps, 1).subarray(0, ps));
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('project#1714: mprotect split and merge after fork never moves a twin\'s pages between entries', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(4 * ps, 2));
    const c = p.fork();
    p.mprotect(va + ps, ps, Prot.READ);
    p.mprotect(va + ps, ps, RW);
    c.mprotect(va, 2 * ps, Prot.READ);
    c.mprotect(va, 4 * ps, RW);
    vm.check();
    for (let i = 0; i < 4; i++) p.write(va + i * ps, new Uint8Array([0xa0 + i]));
    for (let i = 0; i < 4; i++) expect(c.read(va + i * ps, 1)[0]).toBe(pattern(4 * ps, 2)[i * ps]);
    c.exit();
    vm.check();
    p.exit();
    vm.check();
  });

  it('PR #608: a page made read-only by mprotect before fork is still copied on write after', () => {
    // The original decided NEEDSCOPY by the current prot: the read-only entry was shared without copy-on-write,
    // and making it writable again let one side write the other's page.
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([1, 2, 3]));
    p.mprotect(va, 2 * ps, Prot.READ);
    const c = p.fork();
    expect(vm.maps(c.pid)[0].flags & MapFlags.NEEDSCOPY).toBe(MapFlags.NEEDSCOPY);
    p.mprotect(va, 2 * ps, RW);
    p.write(va, new Uint8Array([9]));
    expect(c.read(va, 3)).toEqual(new Uint8Array([1, 2, 3]));
    c.mprotect(va, ps, RW);
    c.write(va + 1, new Uint8Array([8]));
    expect(p.read(va, 3)).toEqual(new Uint8Array([9, 2, 3]));
    expect(c.read(va, 3)).toEqual(new Uint8Array([1, 8, 3]));
    vm.check();
  });

  it('project#1266 / #371: fork, touch and exit many times leaks no frame, page table or heap byte', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 64 * ps, prot: RW, flags: PRIVATE });
    for (let i = 0; i < 64; i += 3) p.write(va + i * ps, new Uint8Array([i]));
    const base = footprint(vm);
    for (let round = 0; round < 40; round++) {
      const c = p.fork();
      c.write(va + (round % 64) * ps, new Uint8Array([round]));
      const far = c.mmap({ addr: 0x4000_0000, size: ps, prot: RW, flags: PRIVATE });
      c.write(far, new Uint8Array([1]));
      const g = c.fork();
      g.write(va, new Uint8Array([2]));
      g.exit();
      c.exit();
      expect(footprint(vm)).toEqual(base);
    }
    vm.check();
  });

  it('PR #749: a fork that runs out of memory destroys the partial child and leaves the parent intact', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    for (let i = 0; i < 6; i++) {
      const va = p.mmap({ size: 2 * ps, prot: i % 2 ? RW : Prot.READ, flags: PRIVATE });
      p.read(va, 1);
    }
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([5]));
    const base = footprint(vm);
    const before = vm.maps(p.pid);
    for (let n = 1; n <= 8; n++) {
      vm.faults.failAt('map-entry', n);
      const code = errnoOf(() => p.fork());
      vm.faults.reset();
      if (code === undefined) break;
      expect(code).toBe('ENOMEM');
      expect(vm.processes().length).toBe(1);
      expect(vm.maps(p.pid).map((m) => [m.start, m.end, m.prot])).toEqual(before.map((m) => [m.start, m.end, m.prot]));
      vm.check();
      p.write(va, new Uint8Array([6]));
      expect(p.read(va, 1)[0]).toBe(6);
    }
    expect(footprint(vm).kmalloc).toBe(base.kmalloc);
  });

  it('PR #749: munmap that cannot split (no entry) changes nothing and frees nothing twice', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 3 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(3 * ps, 7));
    const c = p.fork();
    vm.faults.failAt('map-entry', 1);
    expect(errnoOf(() => p.munmap(va + ps, ps))).toBe('ENOMEM');
    vm.faults.reset();
    vm.check();
    expect(p.read(va, 3 * ps)).toEqual(pattern(3 * ps, 7));
    p.munmap(va + ps, ps);
    vm.check();
    expect(c.read(va, 3 * ps)).toEqual(pattern(3 * ps, 7));
    c.exit();
    p.exit();
    vm.check();
  });
});

describe('regressions of the original without an MMU (armv7m)', () => {
  it('project#1742: anonymous memory is zero-filled, even where another process wrote before', () => {
    const vm = smallVm(armv7m);
    const ps = armv7m.pageSize;
    const a = vm.spawn();
    const va = a.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE });
    a.write(va, pattern(8 * ps, 0x55));
    a.exit();
    const b = vm.spawn();
    const vb = b.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE });
    // The same memory comes back (va = pa): it must not show a's bytes.
    expect(vb).toBe(va);
    expect(b.read(vb, 8 * ps).every((x) => x === 0)).toBe(true);
    vm.check();
  });

  it('fork is ENOSYS (the original hung, project#683), nothing changed', () => {
    const vm = smallVm(armv7m);
    const p = vm.spawn();
    p.mmap({ size: 512, prot: RW, flags: PRIVATE });
    const base = footprint(vm);
    expect(errnoOf(() => p.fork())).toBe('ENOSYS');
    expect(footprint(vm)).toEqual(base);
    expect(vm.processes().length).toBe(1);
    vm.check();
  });
});
