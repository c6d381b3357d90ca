import { Access, PageOwner } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { OBJECT_HEADER_SIZE, OBJECT_PAGE_SLOT_SIZE } from '../src/index.js';
import { BytesPager } from '../src/pager.js';
import type { Pager } from '../src/pager.js';
import { VmObject } from '../src/vm-object.js';
import { ARCHS, PRIVATE, RW, SHARED, bareContext, errnoOf, footprint, pattern, smallVm } from './helpers.js';

describe('VmObject (direct)', () => {
  it('reads pages from its pager once, zero past the end, and frees them with the last reference', () => {
    const { ctx, alloc } = bareContext();
    const free0 = alloc.info().free;
    let reads = 0;
    const data = pattern(5000, 3);
    const pager: Pager = {
      size: () => data.length,
      read(off, into) {
        reads++;
        into.set(data.subarray(off, off + into.length));
      },
    };
    const o = VmObject.create(ctx, { kind: 'pager', size: data.length, pager, name: 't', user: true });
    expect(ctx.charged).toBe(OBJECT_HEADER_SIZE + 2 * OBJECT_PAGE_SLOT_SIZE);
    const p0 = o.page(0);
    const p1 = o.page(4096);
    expect(o.page(0)).toBe(p0);
    expect(reads).toBe(2);
    expect(ctx.mem.read(p0, 4096)).toEqual(data.subarray(0, 4096));
    expect(ctx.mem.read(p1, 904)).toEqual(data.subarray(4096));
    expect(ctx.mem.read(p1 + 904, 3192).every((b) => b === 0)).toBe(true);
    expect(alloc.get(p0)?.owner).toBe(PageOwner.APP);
    expect(o.page(8192)).toBeLessThan(0);
    expect(o.residentPages).toBe(2);
    o.check();
    o.ref();
    o.release();
    expect(o.alive).toBe(true);
    expect(errnoOf(() => o.release())).toBe('EINVAL');
    o.put();
    expect(o.alive).toBe(false);
    expect(alloc.info().free).toBe(free0);
    expect(ctx.charged).toBe(0);
    expect(ctx.objects.size).toBe(0);
  });

  it('a pager that throws fails the page, not the caller; nothing cached', () => {
    const { ctx } = bareContext();
    const o = VmObject.create(ctx, { kind: 'pager', size: 4096, pager: { size: () => 4096, read: () => { throw new Error('io'); } }, name: 'bad', user: true });
    expect(o.page(0)).toBeLessThan(0);
    expect(o.residentPages).toBe(0);
    o.release();
  });

  it('writes dirty pages back through pager.write on sync and when it dies', () => {
    const { ctx } = bareContext();
    const bytes = new Uint8Array(6000);
    const o = VmObject.create(ctx, { kind: 'pager', size: bytes.length, pager: new BytesPager(bytes), name: 'f', user: true });
    const pa = o.page(4096);
    ctx.mem.write(pa, new Uint8Array([1, 2, 3]));
    o.sync();
    expect(bytes[4096]).toBe(0);
    o.markDirty(4096);
    o.sync();
    expect([...bytes.subarray(4096, 4099)]).toEqual([1, 2, 3]);
    ctx.mem.write(pa + 10, new Uint8Array([9]));
    o.markDirty(4096);
    o.release();
    expect(bytes[4106]).toBe(9);
    expect(errnoOf(() => o.sync())).toBe('EINVAL');
  });

  it('object creation counts at fault site object and is charged to kmalloc', () => {
    const { ctx, alloc } = bareContext();
    alloc.faults.failAt('object', 1);
    expect(errnoOf(() => VmObject.create(ctx, { kind: 'anonymous', size: 4096, name: 'a', user: true }))).toBe('ENOMEM');
    alloc.faults.failAt('kmalloc', 1);
    expect(errnoOf(() => VmObject.create(ctx, { kind: 'anonymous', size: 4096, name: 'a', user: true }))).toBe('ENOMEM');
    expect(ctx.objects.size).toBe(0);
    expect(ctx.charged).toBe(0);
  });
});

describe.each(ARCHS.map((a) => [a.name, a] as const))('objects through the vm on %s', (_n, arch) => {
  it('createObject: a Uint8Array or a Pager; bad sources → EINVAL', () => {
    const vm = smallVm(arch);
    const o = vm.createObject(new Uint8Array(10));
    expect(o.kind).toBe('pager');
    expect(o.size).toBe(10);
    expect(o.refs).toBe(1);
    expect(vm.objects()).toContain(o);
    o.release();
    expect(vm.objects()).not.toContain(o);
    expect(errnoOf(() => vm.createObject({} as Pager))).toBe('EINVAL');
    expect(errnoOf(() => vm.createObject({ size: () => 0, read() {} }))).toBe('EINVAL');
    expect(errnoOf(() => vm.createObject({ size: () => -1, read() {} }))).toBe('EINVAL');
    expect(errnoOf(() => vm.createObject({ size: () => 1.5, read() {} }))).toBe('EINVAL');
    expect(errnoOf(() => vm.createObject(null as unknown as Uint8Array))).toBe('EINVAL');
    vm.check();
  });

  it('pages of an object mapped read-only by many processes are one frame', () => {
    const vm = smallVm(arch);
    const ps = arch.pageSize;
    const data = pattern(4 * ps, 1);
    const o = vm.createObject(data);
    const before = vm.alloc.info().app;
    const procs = [0, 1, 2, 3, 4].map(() => vm.spawn());
    const vas = procs.map((p) => p.mmap({ size: 4 * ps, prot: 1, flags: PRIVATE, object: o }));
    for (let i = 0; i < procs.length; i++) expect(procs[i].read(vas[i], 4 * ps)).toEqual(data);
    // One copy of the data in application frames, however many readers (page tables and heap are the kernel's).
    expect(vm.alloc.info().app - before).toBe(4 * ps);
    expect(o.residentPages).toBe(4);
    expect(o.refs).toBe(6);
    vm.check();
    o.release();
    expect(o.alive).toBe(true);
    for (const p of procs) p.exit();
    expect(o.alive).toBe(false);
    vm.check();
  });

  it('SHARED mappings of an object see each other, PRIVATE ones do not', () => {
    const vm = smallVm(arch);
    const ps = arch.pageSize;
    const bytes = pattern(2 * ps, 5);
    const o = vm.createObject(bytes);
    const a = vm.spawn();
    const b = vm.spawn();
    const c = vm.spawn();
    const va = a.mmap({ size: 2 * ps, prot: RW, flags: SHARED, object: o });
    const vb = b.mmap({ size: 2 * ps, prot: RW, flags: SHARED, object: o });
    const vc = c.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE, object: o });
    a.write(va + 100, new Uint8Array([0xde, 0xad]));
    expect([...b.read(vb + 100, 2)]).toEqual([0xde, 0xad]);
    c.write(vc + 100, new Uint8Array([1]));
    expect(a.read(va + 100, 1)[0]).toBe(0xde);
    b.write(vb + ps, new Uint8Array([7]));
    expect(a.read(va + ps, 1)[0]).toBe(7);
    vm.check();
    // Write-back reaches the array on sync.
    o.sync();
    expect(bytes[100]).toBe(0xde);
    expect(bytes[ps]).toBe(7);
    // The page is still mapped writable: a second write (no fault) reaches the array on the next sync too.
    a.write(va + 101, new Uint8Array([0xbe]));
    o.sync();
    expect(bytes[101]).toBe(0xbe);
    for (const p of [a, b, c]) p.exit();
    o.release();
    vm.check();
  });

  it('createPhysObject: device and physical ranges, validated', () => {
    const vm = smallVm(arch);
    const board = vm.board;
    const dev = board.regions.find((r) => r.kind === 'device');
    const ps = arch.pageSize;
    if (dev !== undefined) {
      const d = vm.createPhysObject(dev.base, ps, { device: true });
      expect(d.kind).toBe('device');
      const p = vm.spawn();
      expect(errnoOf(() => p.mmap({ size: ps, prot: RW, flags: PRIVATE, object: d }))).toBe('EINVAL');
      const va = p.mmap({ size: ps, prot: RW, flags: SHARED, object: d });
      expect(vm.maps(p.pid).find((m) => m.start === va)?.flags).toBe(SHARED | 0x04);
      p.exit();
      d.release();
      expect(errnoOf(() => vm.createPhysObject(dev.base, ps))).toBe('EINVAL');
    }
    const ram = { base: vm.alloc.allocPa(ps, {}) };
    vm.alloc.freePa(ram.base);
    expect(errnoOf(() => vm.createPhysObject(ram.base, ps))).toBe('EINVAL'); // a free frame
    expect(errnoOf(() => vm.createPhysObject(ram.base + 1, ps))).toBe('EINVAL');
    expect(errnoOf(() => vm.createPhysObject(ram.base, 0))).toBe('EINVAL');
    expect(errnoOf(() => vm.createPhysObject(-ps, ps))).toBe('EINVAL');
    expect(errnoOf(() => vm.createPhysObject(ram.base, ps, { device: true }))).toBe('EINVAL');
    vm.check();
  });

  it('a physical range that is allocated can be mapped shared (a frame buffer)', () => {
    const vm = smallVm(arch);
    const ps = arch.pageSize;
    const fb = vm.alloc.allocPa(2 * ps, { owner: PageOwner.KERNEL });
    vm.mem.write(fb, new Uint8Array([1, 2, 3]));
    const base = footprint(vm);
    const o = vm.createPhysObject(fb, 2 * ps);
    const p = vm.spawn();
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: SHARED, object: o });
    expect([...p.read(va, 3)]).toEqual([1, 2, 3]);
    p.write(va + ps, new Uint8Array([42]));
    expect(vm.mem.read8(fb + ps)).toBe(42);
    p.exit();
    o.release();
    vm.check();
    expect(footprint(vm)).toEqual(base);
    vm.alloc.freePa(fb);
    void Access;
  });
});
