import fc from 'fast-check';
import { Access, MapFlags, PageAllocator, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import { armv7m } from '@vmlayers/pmap-nommu';
import { describe, expect, it } from 'vitest';
import { createKernelMap } from '../src/index.js';
import type { VmMap } from '../src/index.js';
import { ARCHS, RO, RW, TestBacking, TestObject, expectErrno } from './helpers.js';
import type { Arch, Booted } from './helpers.js';

const SHARED = MapFlags.SHARED;
const PRIV = MapFlags.PRIVATE;

function bootRmap(a: Arch): Booted {
  const board = boards.get(a.board);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: a.arch.pageSize });
  const kmap = createKernelMap({ arch: a.arch, mem, alloc, board, reverseMap: true });
  return { mem, alloc, kmap, ps: a.arch.pageSize };
}

describe.each(ARCHS.filter((a) => a.mmu))('reverse map on $name', (a) => {
  it('records every (map, va) that maps a frame, and forgets it on munmap, mprotect and destroy', () => {
    const b = bootRmap(a);
    const rmap = b.kmap.rmap!;
    const obj = new TestObject(b, 4);
    const m1 = b.kmap.createUserMap(1);
    const m2 = b.kmap.createUserMap(2);
    const v1 = m1.mmap({ size: 4 * b.ps, prot: RO, flags: SHARED, backing: new TestBacking(obj) });
    const v2 = m2.mmap({ size: 4 * b.ps, prot: RO, flags: SHARED, backing: new TestBacking(obj) });
    const frame = obj.base + b.ps;
    expect(rmap.count(frame)).toBe(0);
    m1.read(v1 + b.ps, 4);
    m2.read(v2 + b.ps + 8, 4);
    expect(rmap.mappings(frame).map((x) => [x.map, x.va])).toEqual(expect.arrayContaining([[m1, v1 + b.ps], [m2, v2 + b.ps]]));
    expect(rmap.count(frame)).toBe(2);
    expect(b.alloc.mapCount(frame)).toBe(2);
    expect(rmap.info()).toMatchObject({ mappings: 2, frames: 1 });
    b.kmap.check();
    m1.check();
    // A mapped frame cannot be freed under the page tables.
    expectErrno(() => b.alloc.freePa(obj.base), 'EBUSY');
    m2.mprotect(v2, 4 * b.ps, Prot.NONE | Prot.USER);
    expect(rmap.mappings(frame).map((x) => x.map)).toEqual([m1]);
    m1.munmap(v1, 4 * b.ps);
    expect(rmap.count(frame)).toBe(0);
    m2.mprotect(v2, 4 * b.ps, RO);
    m2.read(v2, 4);
    expect(rmap.count(obj.base)).toBe(1);
    m2.destroy();
    expect(rmap.info()).toMatchObject({ mappings: 0, frames: 0 });
    expect(b.alloc.mapCount(obj.base)).toBe(0);
    m1.destroy();
    obj.free();
    b.kmap.check();
    b.alloc.check();
  });

  it('unmap(pa) takes the frame out of every page table; the next access faults it back in', () => {
    const b = bootRmap(a);
    const rmap = b.kmap.rmap!;
    const obj = new TestObject(b, 1);
    const maps: VmMap[] = [1, 2, 3].map((o) => b.kmap.createUserMap(o));
    const vas = maps.map((m) => m.mmap({ size: b.ps, prot: RO, flags: SHARED, backing: new TestBacking(obj) }));
    maps.forEach((m, i) => m.read(vas[i], 1));
    expect(rmap.count(obj.base)).toBe(3);
    expect(rmap.unmap(obj.base)).toBe(3);
    expect(rmap.count(obj.base)).toBe(0);
    maps.forEach((m, i) => expect(m.pmap.resolve(vas[i])).toBe(-1));
    b.kmap.check();
    expect(maps[1].read(vas[1], 1)).toEqual(new Uint8Array([0]));
    expect(rmap.mappings(obj.base).map((x) => x.map)).toEqual([maps[1]]);
    for (const m of maps) m.destroy();
    obj.free();
    b.kmap.check();
  });

  it.runIf(a.arch.capabilities.accessedDirty)('reads and clears the accessed and dirty bits of every mapping of a frame', () => {
    const b = bootRmap(a);
    const rmap = b.kmap.rmap!;
    const obj = new TestObject(b, 1);
    const m1 = b.kmap.createUserMap(1);
    const m2 = b.kmap.createUserMap(2);
    const v1 = m1.mmap({ size: b.ps, prot: RW, flags: SHARED, backing: new TestBacking(obj, RW, true) });
    const v2 = m2.mmap({ size: b.ps, prot: RW, flags: SHARED, backing: new TestBacking(obj, RW, true) });
    m1.read(v1, 1);
    m2.read(v2, 1);
    expect(rmap.referenced(obj.base)).toBe(true);
    expect(rmap.dirty(obj.base)).toBe(false);
    expect(rmap.referenced(obj.base, true)).toBe(true);
    expect(rmap.referenced(obj.base)).toBe(false);
    m2.write(v2, new Uint8Array([5]));
    expect(rmap.referenced(obj.base)).toBe(true);
    expect(rmap.dirty(obj.base)).toBe(true);
    expect(rmap.dirty(obj.base, true)).toBe(true);
    expect(rmap.dirty(obj.base)).toBe(false);
    // Still writable: the next write sets D again.
    m1.write(v1, new Uint8Array([6]));
    expect(rmap.dirty(obj.base)).toBe(true);
    for (const bad of [-1, 1.5, NaN, '0', null]) expectErrno(() => rmap.referenced(bad as number), 'EINVAL');
    expectErrno(() => rmap.dirty(obj.base, 1 as never), 'EINVAL');
    b.kmap.check();
    m1.destroy();
    m2.destroy();
    obj.free();
  });

  it.runIf(!a.arch.capabilities.accessedDirty)('without accessed/dirty bits: nothing is referenced, every mapped frame is dirty', () => {
    const b = bootRmap(a);
    const rmap = b.kmap.rmap!;
    const obj = new TestObject(b, 1);
    const m1 = b.kmap.createUserMap(1);
    const v1 = m1.mmap({ size: b.ps, prot: RW, flags: SHARED, backing: new TestBacking(obj, RW, true) });
    m1.read(v1, 1);
    expect(rmap.referenced(obj.base)).toBe(false);
    expect(rmap.referenced(obj.base, true)).toBe(false);
    expect(rmap.dirty(obj.base)).toBe(true);
    expect(rmap.dirty(obj.base, true)).toBe(true);
    // A frame nobody maps is neither.
    m1.munmap(v1, b.ps);
    expect(rmap.dirty(obj.base)).toBe(false);
    m1.check();
  });

  it('copy-on-write style replacement: entering a new frame at a page forgets the old one', () => {
    const b = bootRmap(a);
    const rmap = b.kmap.rmap!;
    const m = b.kmap.createUserMap(1);
    const va = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    m.write(va, new Uint8Array([1]));
    const first = m.pmap.resolve(va);
    expect(rmap.count(first)).toBe(1);
    // A fork copies zero-fill memory eagerly: the child's frames are its own.
    const child = m.copy(2);
    child.write(va, new Uint8Array([2]));
    const second = child.pmap.resolve(va);
    expect(second).not.toBe(first);
    expect(rmap.mappings(second).map((x) => x.map)).toEqual([child]);
    expect(rmap.mappings(first).map((x) => x.map)).toEqual([m]);
    b.kmap.check();
    child.destroy();
    m.destroy();
    expect(rmap.info().mappings).toBe(0);
    b.kmap.check();
  });

  it('no rmap entry (fault injector at rmap): the fault is NO_MEMORY and nothing is entered', () => {
    const b = bootRmap(a);
    const m = b.kmap.createUserMap(1);
    const va = m.mmap({ size: b.ps, prot: RW, flags: PRIV });
    b.alloc.faults.failAt('rmap', 1);
    expect(m.fault(va, Access.WRITE | Access.USER)).toBeLessThan(0);
    expect(m.pmap.resolve(va)).toBe(-1);
    expect(b.kmap.rmap!.info().mappings).toBe(0);
    b.kmap.check();
    m.write(va, new Uint8Array([1]));
    expect(b.kmap.rmap!.info().mappings).toBe(1);
    m.destroy();
    b.kmap.check();
  });

  it('agrees with the page tables after any sequence of maps, faults, forks, protections and unmaps', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('touch' as const), m: fc.nat(3), page: fc.nat(7), write: fc.boolean() }),
            fc.record({ op: fc.constant('munmap' as const), m: fc.nat(3), page: fc.nat(7), n: fc.integer({ min: 1, max: 3 }) }),
            fc.record({ op: fc.constant('protect' as const), m: fc.nat(3), page: fc.nat(7), none: fc.boolean() }),
            fc.record({ op: fc.constant('fork' as const), m: fc.nat(3) }),
            fc.record({ op: fc.constant('destroy' as const), m: fc.nat(3) }),
            fc.record({ op: fc.constant('evict' as const), page: fc.nat(7) }),
          ),
          { maxLength: 30 },
        ),
        (ops) => {
          const b = bootRmap(a);
          const rmap = b.kmap.rmap!;
          const obj = new TestObject(b, 8);
          let owner = 1;
          const maps: { m: VmMap; shared: number; anon: number }[] = [];
          const spawn = () => {
            const m = b.kmap.createUserMap(owner++);
            const shared = m.mmap({ size: 8 * b.ps, prot: RW, flags: SHARED, backing: new TestBacking(obj, RW, true) });
            const anon = m.mmap({ size: 8 * b.ps, prot: RW, flags: PRIV });
            maps.push({ m, shared, anon });
          };
          spawn();
          spawn();
          for (const o of ops) {
            const t = maps.length === 0 ? undefined : maps[('m' in o ? o.m : 0) % maps.length];
            if (o.op === 'evict') rmap.unmap(obj.base + o.page * b.ps);
            else if (t === undefined) spawn();
            else if (o.op === 'touch') {
              for (const base of [t.shared, t.anon]) {
                const va = base + o.page * b.ps;
                try {
                  if (o.write) t.m.write(va, new Uint8Array([o.page]));
                  else t.m.read(va, 1);
                } catch {
                  // EACCES / EFAULT inside a PROT_NONE or unmapped page: no translation, nothing recorded
                }
              }
            } else if (o.op === 'munmap') t.m.munmap(t.shared + o.page * b.ps, o.n * b.ps);
            else if (o.op === 'protect') {
              const end = Math.min(8, o.page + 2);
              try {
                t.m.mprotect(t.anon + o.page * b.ps, (end - o.page) * b.ps, o.none ? Prot.NONE | Prot.USER : RO);
              } catch {
                // a hole made by munmap of the shared range does not reach here; anon is whole
              }
            } else if (o.op === 'fork') {
              const c = t.m.copy(owner++);
              maps.push({ m: c, shared: t.shared, anon: t.anon });
            } else if (o.op === 'destroy') {
              t.m.destroy();
              maps.splice(maps.indexOf(t), 1);
            }
            b.kmap.check();
            for (const x of maps) x.m.check();
            for (let p = 0; p < 8; p++) {
              const pa = obj.base + p * b.ps;
              const want = maps.flatMap((x, i) => (x.m.pmap.resolve(x.shared + p * b.ps) === pa ? [i] : []));
              const got = rmap.mappings(pa).map((x) => maps.findIndex((y) => y.m === x.map));
              expect(got.sort((i, j) => i - j)).toEqual(want);
            }
          }
          for (const x of maps) x.m.destroy();
          expect(rmap.info()).toMatchObject({ mappings: 0, frames: 0 });
          obj.free();
          b.kmap.check();
          b.alloc.check();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('reverse map options', () => {
  it('is off by default; refused without an MMU (ENOSYS) and for a non-boolean (EINVAL)', () => {
    const board = boards.get('stm32-512k');
    const mem = new PhysicalMemory(board);
    const alloc = new PageAllocator(mem, { pageSize: 512 });
    expectErrno(() => createKernelMap({ arch: armv7m, mem, alloc, reverseMap: true }), 'ENOSYS');
    const a = ARCHS.find((x) => x.mmu)!;
    const m2 = new PhysicalMemory(boards.get(a.board));
    const al2 = new PageAllocator(m2, { pageSize: a.arch.pageSize });
    expectErrno(() => createKernelMap({ arch: a.arch, mem: m2, alloc: al2, reverseMap: 'yes' as never }), 'EINVAL');
    expect(createKernelMap({ arch: a.arch, mem: m2, alloc: al2 }).rmap).toBeNull();
  });
});
