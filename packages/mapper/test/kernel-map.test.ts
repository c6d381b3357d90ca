import { PageAllocator, PageOwner, PageUsage, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { describe, expect, it } from 'vitest';
import { createKernelMap } from '../src/index.js';
import { ARCHS, PRIV, RW, boot, expectErrno, expectRefused, user } from './helpers.js';

describe.each(ARCHS)('kernel map on $name', (a) => {
  it('boots with the entry pool sized as the original: one entry per 3 free pages', () => {
    const board = boards.get(a.board);
    const mem = new PhysicalMemory(board);
    const alloc = new PageAllocator(mem, { pageSize: a.arch.pageSize });
    const kmap = createKernelMap({ arch: a.arch, mem, alloc });
    const info = kmap.info();
    expect(info.total).toBeGreaterThan(0);
    expect(Math.abs(info.total - alloc.info().free / (3 * a.arch.pageSize))).toBeLessThan(64);
    expect(info.entries + info.free).toBe(info.total);
    kmap.check();
  });

  it('wires the kernel segments, which cannot be unmapped or changed', () => {
    const b = boot(a);
    const segs = b.kmap.entries();
    expect(segs.length).toBeGreaterThan(0);
    const s = segs[0];
    expectRefused(b.kmap, b.alloc, () => b.kmap.munmap(s.start, b.ps), 'EBUSY');
    expectRefused(b.kmap, b.alloc, () => b.kmap.mprotect(s.start, b.ps, Prot.READ), 'EBUSY');
    if (a.mmu) {
      expect(b.kmap.format()).toMatch(/rwxp 00000000 00:00 0 +\[kernel\]/);
      // The kernel image is readable through the kernel map.
      const image = b.kmap.board.regions.find((r) => r.name === 'kernel')!;
      b.mem.write32(image.base + 8, 0xfeed);
      expect(b.kmap.read32(s.start + 8)).toBe(0xfeed);
    }
  });

  it('allocPages gives wired, zeroed, kernel-owned memory; freePages gives it all back', () => {
    const b = boot(a);
    const free0 = b.alloc.info().free;
    const va = b.kmap.allocPages(3);
    b.kmap.check();
    const pa = b.kmap.pmap.translate(va, 1);
    expect(pa).toBeGreaterThanOrEqual(0);
    const info = b.alloc.get(pa)!;
    expect(info.owner).toBe(PageOwner.KERNEL);
    expect(info.usage).toBe(PageUsage.HEAP);
    expect(Array.from(b.kmap.read(va, 3 * b.ps)).every((x) => x === 0)).toBe(true);
    b.kmap.write(va + b.ps - 2, new Uint8Array([1, 2, 3, 4]));
    expect(Array.from(b.kmap.read(va + b.ps - 2, 4))).toEqual([1, 2, 3, 4]);
    const vb = b.kmap.allocPages(1);
    expect(b.kmap.find(vb)!.start).toBe(vb);
    expectRefused(b.kmap, b.alloc, () => b.kmap.munmap(va, b.ps), 'EBUSY');
    expectRefused(b.kmap, b.alloc, () => b.kmap.freePages(va + b.ps), 'EINVAL');
    expectRefused(b.kmap, b.alloc, () => b.kmap.freePages(b.kmap.entries()[0].start), 'EINVAL');
    b.kmap.freePages(va);
    b.kmap.freePages(vb);
    expectRefused(b.kmap, b.alloc, () => b.kmap.freePages(va), 'EINVAL');
    expect(b.alloc.info().free).toBe(free0);
    b.kmap.check();
  });

  it('allocPages refuses bad counts and leaves everything intact when frames run out', () => {
    const b = boot(a);
    for (const n of [0, -1, 1.5, NaN]) expectRefused(b.kmap, b.alloc, () => b.kmap.allocPages(n), 'EINVAL');
    // One allocation for the whole run: its failure refuses the call.
    b.alloc.faults.failAt('frame', 1);
    expectRefused(b.kmap, b.alloc, () => b.kmap.allocPages(3), 'ENOMEM');
    // More frames in a row than are free at all.
    expectRefused(b.kmap, b.alloc, () => b.kmap.allocPages(b.alloc.info().free / b.ps + 1), 'ENOMEM');
    b.alloc.faults.failAt('map-entry', 1);
    expectRefused(b.kmap, b.alloc, () => b.kmap.allocPages(1), 'ENOMEM');
  });

  it('allocPages is one physically contiguous run of exactly n frames; physical() reports it', () => {
    const b = boot(a);
    const free0 = b.alloc.info().free;
    const va = b.kmap.allocPages(5);
    expect(b.alloc.info().free).toBe(free0 - 5 * b.ps);
    const pa = b.kmap.physical(va);
    for (let i = 0; i < 5; i++) {
      expect(b.kmap.physical(va + i * b.ps + 12)).toBe(pa + i * b.ps + 12);
      expect(b.alloc.get(pa + i * b.ps)).toMatchObject({ free: false, owner: PageOwner.KERNEL });
    }
    // The bytes are those frames' bytes.
    b.kmap.write32(va + 3 * b.ps + 8, 0xc0ffee);
    expect(b.mem.read32(pa + 3 * b.ps + 8)).toBe(0xc0ffee);
    if (!a.mmu) expect(pa).toBe(va);
    for (const v of [-1, 1.5, NaN, '0', null, 2 ** 60]) expectRefused(b.kmap, b.alloc, () => b.kmap.physical(v as number), 'EINVAL');
    expectRefused(b.kmap, b.alloc, () => b.kmap.physical(va + 5 * b.ps), 'EFAULT');
    expectRefused(b.kmap, b.alloc, () => b.kmap.physical(2 ** 40), 'EFAULT');
    b.kmap.freePages(va);
    expect(b.alloc.info().free).toBe(free0);
    expectRefused(b.kmap, b.alloc, () => b.kmap.physical(va), 'EFAULT');
    b.kmap.check();
    b.alloc.check();
  });

  it('a user map cannot reach kernel memory', () => {
    const b = boot(a);
    const m = user(b);
    const kva = b.kmap.allocPages(1);
    b.kmap.write32(kva, 7);
    if (a.mmu) {
      expectErrno(() => m.read32(kva), 'EFAULT');
      expect(m.fault(kva, 1 | 8)).toBeLessThan(0);
    } else {
      // One flat space: the kernel page is not the process's, so its view refuses it.
      expectErrno(() => m.read32(kva), 'EFAULT');
    }
    if (a.mmu) expectRefused(m, b.alloc, () => m.munmap(kva, b.ps), 'EINVAL');
    else {
      // Nothing of the process's is there: unmapping nothing, the kernel page untouched.
      m.munmap(kva, b.ps);
      expect(b.kmap.read32(kva)).toBe(7);
    }
  });

  it('createUserMap refuses a bad owner', () => {
    const b = boot(a);
    for (const o of [-1, 1.5, NaN]) expectErrno(() => b.kmap.createUserMap(o), 'EINVAL');
    if (!a.mmu) {
      b.kmap.createUserMap(4);
      expectErrno(() => b.kmap.createUserMap(4), 'EEXIST');
    }
  });

  it('destroy gives back every frame and table page (conservation)', () => {
    const b = boot(a);
    const before = b.alloc.info();
    const poolBefore = b.kmap.info();
    const m = user(b);
    const x = m.mmap({ size: 8 * b.ps, prot: RW, flags: PRIV });
    const y = m.mmap({ addr: a.mmu ? 0x4000_0000 : undefined, size: 3 * b.ps, prot: RW, flags: PRIV });
    for (let i = 0; i < 8; i++) m.write32(x + i * b.ps, i);
    m.write32(y, 1);
    m.mprotect(x + b.ps, b.ps, Prot.READ | Prot.USER);
    expect(b.alloc.info().free).toBeLessThan(before.free);
    m.destroy();
    expect(b.alloc.info()).toEqual(before);
    expect(b.kmap.info()).toEqual(poolBefore);
    expect(m.destroyed).toBe(true);
    expectErrno(() => m.mmap({ size: b.ps, prot: RW, flags: PRIV }), 'EINVAL');
    expectErrno(() => m.destroy(), 'EINVAL');
    expect(m.entries()).toEqual([]);
    b.kmap.check();
  });
});

describe('createKernelMap arguments', () => {
  const board = boards.get('riscv-virt-64m');
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  it.each([
    ['no options', undefined],
    ['no arch', { mem, alloc }],
    ['an allocator of another page size', { arch: sv39, mem, alloc: new PageAllocator(mem, { pageSize: 8192 }) }],
    ['an allocator over other memory', { arch: sv39, mem: new PhysicalMemory(board), alloc }],
    ['entries 0', { arch: sv39, mem, alloc, entries: 0 }],
    ['entries fractional', { arch: sv39, mem, alloc, entries: 2.5 }],
  ])('refuses %s', (_n, o) => {
    expectErrno(() => createKernelMap(o as never), 'EINVAL');
  });

  it('a pool of a given size runs dry with ENOMEM and the map unchanged', () => {
    const mem2 = new PhysicalMemory(board);
    const alloc2 = new PageAllocator(mem2, { pageSize: 4096 });
    const kmap = createKernelMap({ arch: sv39, mem: mem2, alloc: alloc2, entries: 4 });
    const m = kmap.createUserMap(1);
    // One entry is the kernel image; three are left.
    for (let i = 0; i < 3; i++) m.mmap({ size: 4096, prot: i % 2 ? RW : Prot.READ | Prot.USER, flags: PRIV });
    expect(kmap.info()).toEqual({ total: 4, entries: 4, free: 0 });
    expectRefused(m, alloc2, () => m.mmap({ size: 4096, prot: RW, flags: PRIV }), 'ENOMEM');
    // A merge needs no entry.
    m.mmap({ size: 4096, prot: Prot.READ | Prot.USER, flags: PRIV, addr: 4 * 4096 });
    expect(m.entries()).toHaveLength(3);
    m.check();
  });
});
