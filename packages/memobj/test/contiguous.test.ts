import { MapFlags, PageOwner } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createVm } from '../src/index.js';
import { ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, smallVm } from './helpers.js';

const CONTIG = MapFlags.CONTIGUOUS;

describe.each(ARCHS.map((a) => [a.name, a] as const))('contiguous memory on %s', (_, arch) => {
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;

  it('createContiguousObject: one zeroed buddy block at object.pa, mapped shared, never copied on fork', () => {
    const vm = smallVm(arch);
    const boot = footprint(vm);
    const app0 = vm.alloc.info().app;
    const o = vm.createContiguousObject(3 * ps);
    expect(o.kind).toBe('contiguous');
    expect(o.pa).toBeGreaterThan(0);
    // Exactly 3 frames (allocExact), allocated to the application.
    expect(vm.alloc.info().app - app0).toBe(3 * ps);
    for (let i = 0; i < 3; i++) expect(vm.alloc.get(o.pa + i * ps)).toMatchObject({ free: false, owner: PageOwner.APP });
    if (mmu) {
      // In a 4-page block: a 2-page block and a 1-page block in a row, the 4th page free again.
      expect(vm.alloc.get(o.pa)).toMatchObject({ pa: o.pa, order: 1 });
      expect(vm.alloc.get(o.pa + 2 * ps)).toMatchObject({ pa: o.pa + 2 * ps, order: 0 });
      expect(vm.alloc.get(o.pa + 3 * ps)?.free).toBe(true);
      expect(o.pa % (4 * ps)).toBe(0);
    }
    expect([...vm.mem.read(o.pa, 3 * ps)].every((b) => b === 0)).toBe(true);
    const a = vm.spawn();
    const b = vm.spawn();
    expect(errnoOf(() => a.mmap({ size: 3 * ps, prot: RW, flags: PRIVATE, object: o }))).toBe('EINVAL');
    const va = a.mmap({ size: 3 * ps, prot: RW, flags: SHARED, object: o });
    const vb = b.mmap({ size: 3 * ps, prot: RW, flags: SHARED, object: o });
    a.write(va + ps + 5, new Uint8Array([0xab]));
    expect(vm.mem.read8(o.pa + ps + 5)).toBe(0xab); // physically where object.pa says
    expect(b.read(vb + ps + 5, 1)[0]).toBe(0xab);
    if (mmu) {
      for (let i = 0; i < 3; i++) a.read(va + i * ps, 1);
      for (let i = 0; i < 3; i++) expect(vm.pmap(a.pid).resolve(va + i * ps)).toBe(o.pa + i * ps);
      const child = a.fork();
      child.write(va + 7, new Uint8Array([1]));
      expect(a.read(va + 7, 1)[0]).toBe(1); // the child writes the same block: nothing was copied
      expect(vm.pmap(child.pid).resolve(va)).toBe(o.pa);
      child.exit();
    } else {
      expect(va).toBe(o.pa);
    }
    vm.check();
    o.release();
    expect(vm.alloc.get(o.pa)!.free).toBe(false); // mappings keep it
    a.exit();
    b.exit();
    vm.check();
    expect(footprint(vm)).toEqual(boot);
  });

  it('MapFlags.CONTIGUOUS maps a block of its own, SHARED only, its address found through the maps', () => {
    const vm = smallVm(arch);
    const boot = footprint(vm);
    const p = vm.spawn();
    expect(errnoOf(() => p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE | CONTIG }))).toBe('EINVAL');
    const o0 = vm.createObject(new Uint8Array(ps));
    expect(errnoOf(() => p.mmap({ size: ps, prot: RW, flags: SHARED | CONTIG, object: o0 }))).toBe('EINVAL');
    o0.release();
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: SHARED | CONTIG });
    const m = vm.maps(p.pid).find((x) => x.start === va)!;
    expect(m.object).toBe('[contiguous]');
    expect(m.flags & CONTIG).toBe(CONTIG);
    const o = vm.objects().find((x) => x.id === m.objectId)!;
    expect(o.kind).toBe('contiguous');
    p.write(va + ps, new Uint8Array([9]));
    expect(vm.mem.read8(o.pa + ps)).toBe(9);
    vm.check();
    p.munmap(va, 2 * ps); // the mapping held the only reference: the block goes back
    expect(vm.objects().some((x) => x.id === o.id)).toBe(false);
    p.exit();
    expect(footprint(vm)).toEqual(boot);
  });

  it('refuses with ENOMEM when no block of that order is free, and EINVAL for a bad size, changing nothing', () => {
    const vm = createVm({ arch, ramSize: mmu ? 4 << 20 : 512 << 10 });
    const boot = footprint(vm);
    const total = vm.meminfo().page.total;
    expect(errnoOf(() => vm.createContiguousObject(total))).toBe('ENOMEM');
    for (const site of ['frame', 'object', 'kmalloc'] as const) {
      vm.faults.failAt(site, 1);
      expect(errnoOf(() => vm.createContiguousObject(2 * ps)), site).toBe('ENOMEM');
      vm.faults.reset();
      expect(footprint(vm)).toEqual(boot);
    }
    const p = vm.spawn();
    vm.faults.failAt('frame', 1);
    expect(errnoOf(() => p.mmap({ size: 2 * ps, prot: RW, flags: SHARED | CONTIG }))).toBe('ENOMEM');
    vm.faults.reset();
    for (const size of [0, -ps, 1.5, Number.NaN, '4096', 2 ** 53]) {
      expect(errnoOf(() => vm.createContiguousObject(size as never)), String(size)).toMatch(size === 2 ** 53 ? /^E(INVAL|NOMEM)$/ : /^EINVAL$/);
    }
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(boot);
  });
});

describe('no-MMU mappings hold exactly their pages (armv7m, 512-byte pages)', () => {
  const arch = ARCHS.find((a) => !a.capabilities.hasMmu)!;
  const ps = arch.pageSize;

  it('a 2560-byte mapping takes 5 frames, not an 8-frame block, and access ends where it ends', () => {
    const vm = createVm({ arch });
    const boot = footprint(vm);
    const p = vm.spawn();
    const app0 = vm.alloc.info().app;
    const va = p.mmap({ size: 2560, prot: RW, flags: PRIVATE });
    expect(vm.alloc.info().app - app0).toBe(5 * ps);
    // First fit (exactPlacement 'first-fit' without an MMU): the next mapping starts where this one ends.
    p.write(va + 2559, new Uint8Array([7]));
    expect(p.read(va + 2559, 1)[0]).toBe(7);
    expect(errnoOf(() => p.read(va + 2560, 1))).toBe('EFAULT');
    // The three frames past it are free, and another mapping can have them.
    const vb = p.mmap({ size: 3 * ps, prot: RW, flags: PRIVATE });
    expect(vm.alloc.info().app - app0).toBe(8 * ps);
    expect(vb).toBe(va + 5 * ps);
    p.write(vb, new Uint8Array([1, 2, 3]));
    vm.check();
    p.munmap(va, 2560);
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(boot);
  });
});
