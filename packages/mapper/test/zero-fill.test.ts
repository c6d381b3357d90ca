import { Access, FaultCode, MapFlags, PageAllocator, PageOwner, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import { createArmv7m } from '@vmlayers/pmap-nommu';
import { describe, expect, it } from 'vitest';
import { ZeroFillBacking, createKernelMap, formatMapLine, formatMaps, formatPerms } from '../src/index.js';
import type { BackingPage } from '../src/index.js';
import { ARCHS, PRIV, RW, boot, expectErrno, expectRefused, user } from './helpers.js';

function setup() {
  const mem = new PhysicalMemory(boards.get('riscv-virt-64m'));
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  return { mem, alloc };
}

describe('ZeroFillBacking', () => {
  it('zero-fills a page on its first fault and hands the same frame afterwards', () => {
    const { alloc } = setup();
    const z = new ZeroFillBacking(alloc);
    const free0 = alloc.info().free;
    const r = z.fault(8192, Access.WRITE) as BackingPage;
    const pa = r.pa;
    expect(r.writable).toBe(true);
    expect(alloc.get(pa)!.owner).toBe(PageOwner.APP);
    expect((z.fault(8192, Access.READ) as BackingPage).pa).toBe(pa);
    expect(z.residentPages).toBe(1);
    expect(alloc.info().free).toBe(free0 - 4096);
    z.release();
    expect(alloc.info().free).toBe(free0);
  });

  it('grows its page window both ways without losing pages', () => {
    const { alloc } = setup();
    const z = new ZeroFillBacking(alloc);
    const pas = new Map<number, number>();
    for (const pn of [100, 90, 130, 5, 400, 101]) pas.set(pn, (z.fault(pn * 4096, Access.READ) as BackingPage).pa);
    for (const [pn, pa] of pas) expect((z.fault(pn * 4096, Access.READ) as BackingPage).pa).toBe(pa);
    expect(z.residentPages).toBe(6);
    z.unmap(90 * 4096, 20 * 4096);
    expect(z.residentPages).toBe(3);
    z.release();
    alloc.check();
  });

  it('shares pages between the handles split from it, frees them with the last handle', () => {
    const { alloc } = setup();
    const free0 = alloc.info().free;
    const z = new ZeroFillBacking(alloc, { owner: PageOwner.KERNEL, name: 'heap' });
    const pa = (z.fault(0, Access.WRITE) as BackingPage).pa;
    const u = z.split(4096, 4096);
    expect(z.canMerge(u, 4096)).toBe(true);
    // A fresh store of one handle can be folded into this one; a store of two handles into another of two cannot.
    const other = new ZeroFillBacking(alloc, { owner: PageOwner.KERNEL });
    const otherCut = other.split(4096, 4096);
    expect(u.canMerge(other, 0)).toBe(false);
    expect(u.canMerge(new ZeroFillBacking(alloc, { owner: PageOwner.KERNEL }), 0)).toBe(true);
    expect(u.canMerge(new ZeroFillBacking(alloc), 0)).toBe(false);
    other.release();
    otherCut.release();
    expect((u.fault(0, Access.READ) as BackingPage).pa).toBe(pa);
    expect(u.name).toBe('heap');
    z.release();
    expect(alloc.info().free).toBe(free0 - 4096);
    u.release();
    expect(alloc.info().free).toBe(free0);
    expectErrno(() => u.release(), 'EINVAL');
    expect(u.fault(0, Access.READ)).toBe(FaultCode.NOT_MAPPED);
  });

  it('copies the resident pages of the forked range only, and the two child halves merge', () => {
    const { alloc, mem } = setup();
    const z = new ZeroFillBacking(alloc);
    const pa = (z.fault(0, Access.WRITE) as BackingPage).pa;
    mem.write32(pa, 0x1234);
    const u = z.split(4096, 4096);
    (u.fault(4096, Access.WRITE) as BackingPage).pa;
    const c1 = z.fork(0, 4096) as ZeroFillBacking;
    const c2 = u.fork(4096, 4096) as ZeroFillBacking;
    expect(c1.residentPages).toBe(1);
    expect(c2.residentPages).toBe(1);
    expect(c1.canMerge(c2, 4096)).toBe(true);
    const cpa = (c1.fault(0, Access.READ) as BackingPage).pa;
    expect(cpa).not.toBe(pa);
    expect(mem.read32(cpa)).toBe(0x1234);
    c1.merge(c2, 4096);
    expect(c1.residentPages).toBe(2);
    expect(c2.residentPages).toBe(0);
    expect(c1.shared()).toBe(false);
    alloc.faults.failAt('frame', 1);
    const free = alloc.info().free;
    expectErrno(() => z.fork(0, 8192), 'ENOMEM');
    expect(alloc.info().free).toBe(free);
    for (const b of [z, u, c1, c2]) b.release();
    alloc.check();
  });

  it('reports NO_MEMORY when no frame is left, and takes one block for contiguous()', () => {
    const { alloc } = setup();
    const z = new ZeroFillBacking(alloc);
    alloc.faults.failAt('frame', 1);
    expect(z.fault(0, Access.READ)).toBe(FaultCode.NO_MEMORY);
    const c = new ZeroFillBacking(alloc);
    const pa = c.contiguous(0, 3 * 4096);
    expect(pa).toBeGreaterThan(0);
    expect(c.contiguous(4096, 4096)).toBe(pa + 4096);
    expect(c.contiguous(0, 1 << 20)).toBe(FaultCode.NO_MEMORY);
    expect((c.fault(8192, Access.READ) as BackingPage).pa).toBe(pa + 8192);
    expect(new ZeroFillBacking(alloc).contiguous(0, 1 << 30)).toBe(FaultCode.NO_MEMORY);
    c.release();
    z.release();
  });

  it('refuses a bad allocator or owner', () => {
    const { alloc } = setup();
    expectErrno(() => new ZeroFillBacking(null as never), 'EINVAL');
    expectErrno(() => new ZeroFillBacking(alloc, { owner: PageOwner.BOOT }), 'EINVAL');
  });
});

describe.each(ARCHS)('maps with ZeroFillBacking handles on $name', (a) => {
  it('refuses a handle an entry holds', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 2 * b.ps, prot: RW, flags: PRIV });
    const held = m.find(va)!.backing;
    expectRefused(m, b.alloc, () => m.mmap({ size: b.ps, prot: RW, flags: PRIV, backing: held }), 'EINVAL');
    const other = user(b, 2);
    expectRefused(other, b.alloc, () => other.mmap({ size: b.ps, prot: RW, flags: PRIV, backing: held }), 'EINVAL');
  });

  it.runIf(a.mmu)('createUserMap without a frame for the page table root is ENOMEM, nothing kept', () => {
    const b = boot(a);
    const info = b.alloc.info();
    b.alloc.faults.failAt('ptable', 1);
    expectErrno(() => b.kmap.createUserMap(1), 'ENOMEM');
    expect(b.alloc.info()).toEqual(info);
    expect(b.kmap.userMaps()).toHaveLength(0);
    b.kmap.check();
  });
});

describe('listing', () => {
  it('formats perms and lines as /proc/<pid>/maps', () => {
    expect(formatPerms(Prot.READ | Prot.EXEC, MapFlags.SHARED)).toBe('r-xs');
    expect(formatPerms(Prot.NONE, 0)).toBe('---p');
    const backing = { name: '/bin/sh' } as never;
    const entry = { start: 0x1000, end: 0x3000, prot: 5, protOrig: 5, flags: MapFlags.PRIVATE, offset: 0x2000, backing };
    // Column positions as Linux prints them: the name at column 50 on a 32-bit space, 74 on a 64-bit one.
    const line32 = '00001000-00003000 r-xp 00002000 00:00 0';
    expect(formatMaps([entry], 2 ** 32)).toBe(`${line32}${' '.repeat(49 - line32.length)}/bin/sh\n`);
    expect(formatMaps([entry], 2 ** 38)).toBe(`${line32}${' '.repeat(73 - line32.length)}/bin/sh\n`);
    expect(formatMapLine({ ...entry, name: '/bin/sh', inode: 7 }, 2 ** 32).indexOf('/bin/sh')).toBe(49);
    expect(formatMapLine({ ...entry, start: 2 ** 38, end: 2 ** 38 + 0x1000, name: '[x]', inode: 123456789 }, 2 ** 32)).toBe(
      '4000000000-4000001000 r-xp 00002000 00:00 123456789  [x]',
    );
    expect(formatMapLine({ ...entry, name: '' }, 2 ** 32)).toBe(line32);
  });
});

describe('no-MMU grant', () => {
  it('grants the board map of a block to a view whose MPU regions do not cover it', () => {
    const arch = createArmv7m({ userMaps: 'none' });
    const board = boards.get('stm32-512k');
    const mem = new PhysicalMemory(board);
    const alloc = new PageAllocator(mem, { pageSize: 512 });
    const kmap = createKernelMap({ arch, mem, alloc, board });
    const m = kmap.createUserMap(1);
    const va = m.mmap({ size: 1024, prot: RW, flags: PRIV });
    m.write32(va, 9);
    expect(m.read32(va)).toBe(9);
    const p = m.pmap as unknown as { isAllowed(va: number, size: number): boolean };
    expect(p.isAllowed(va, 1024)).toBe(true);
    expect(typeof m.pmap.grant).toBe('function');
    kmap.check();
  });
});
