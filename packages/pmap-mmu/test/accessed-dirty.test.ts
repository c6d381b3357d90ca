/*
 * referenced/dirty against the manuals' bit positions, read from the PTE words in RAM (RISC-V privileged spec,
 * Sv39 PTE: A = bit 6, D = bit 7; Intel SDM 32-bit paging PTE: A = bit 5, D = bit 6), written here as literal masks,
 * not through this package's encoders. The A/D bits against a model over random sequences are in model.test.ts.
 */
import { Access, FaultCode, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { aarch64, createAarch64, ia32, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const PS = 4096;
const MiB = 1024 * 1024;
const { PRESENT, READ, WRITE, EXEC, USER, GLOBAL, UNCACHED, DEVICE } = PageAttr;
const R = Access.READ | Access.USER;
const W = Access.WRITE | Access.USER;

// The manuals' bit positions.
const BITS = {
  sv39: { A: 1 << 6, D: 1 << 7 },
  ia32: { A: 1 << 5, D: 1 << 6 },
} as const;

function boot(factory: typeof sv39) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const user = factory.createUser(kernel) as MmuPmap;
  const frame = () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  return { mem, alloc, kernel, user, frame };
}

/** The physical address of the PTE of the leaf at `va` (from `leaves()`, which reads RAM and sets nothing). */
function pteOf(pmap: MmuPmap, va: number): number {
  const leaf = pmap.leaves({ kernel: true }).find((l) => l.va <= va && va < l.va + l.size);
  if (leaf === undefined) throw new Error(`no leaf at ${va.toString(16)}`);
  return leaf.pte;
}

describe.each([sv39, ia32])('$name: referenced/dirty on the PTE words', (factory) => {
  const { A, D } = BITS[factory.name as 'sv39' | 'ia32'];
  const wide = factory.name === 'sv39';
  const words = (mem: PhysicalMemory, addr: number) => [mem.read32(addr), wide ? mem.read32(addr + 4) : 0];

  it('reads A and D at the manuals\' positions and clears exactly that bit', () => {
    const { mem, user, frame } = boot(factory);
    const attrs = [
      PRESENT | READ | WRITE | USER,
      PRESENT | READ | WRITE | EXEC | USER | GLOBAL,
      PRESENT | READ | WRITE | USER | UNCACHED,
      PRESENT | READ | WRITE | DEVICE,
    ];
    attrs.forEach((attr, i) => {
      const va = 0x40_0000 + i * PS;
      const pa = frame();
      const access = attr & USER ? 0 : Access.USER;
      const rd = R & ~access;
      const wr = W & ~access;
      expect(user.enter(pa, va, attr)).toBe(0);
      const pte = pteOf(user, va);
      const [lo0, hi0] = words(mem, pte);
      expect(lo0 & (A | D)).toBe(0);
      expect(user.translate(va + 4, rd)).toBe(pa + 4);
      expect(words(mem, pte)).toEqual([(lo0 | A) >>> 0, hi0]);
      expect(user.translate(va + 8, wr)).toBe(pa + 8);
      const [lo, hi] = words(mem, pte);
      expect([lo, hi]).toEqual([(lo0 | A | D) >>> 0, hi0]);
      // clearing A: only bit A of the low word changes
      expect(user.referenced(va + 100, true)).toBe(true);
      expect(words(mem, pte)).toEqual([(lo & ~A) >>> 0, hi]);
      user.check();
      // clearing D: only bit D
      expect(user.dirty(va, true)).toBe(true);
      expect(words(mem, pte)).toEqual([(lo & ~A & ~D) >>> 0, hi]);
      // clearing a clear bit writes nothing
      expect(user.referenced(va, true)).toBe(false);
      expect(user.dirty(va, true)).toBe(false);
      expect(words(mem, pte)).toEqual([(lo & ~A & ~D) >>> 0, hi]);
      user.check();
      // the next write walks and sets both again (the TLB held a writable entry before the clears)
      expect(user.translate(va + 12, wr)).toBe(pa + 12);
      expect(words(mem, pte)).toEqual([lo, hi]);
      // reading only reads
      expect(user.referenced(va)).toBe(true);
      expect(user.dirty(va, false)).toBe(true);
      expect(words(mem, pte)).toEqual([lo, hi]);
      user.check();
    });
  });

  it('answers the bits written by hand, each from its own position', () => {
    const { mem, user, frame } = boot(factory);
    const va = 0x80_0000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    const pte = pteOf(user, va);
    const lo = mem.read32(pte);
    mem.write32(pte, (lo | A) >>> 0);
    expect([user.referenced(va), user.dirty(va)]).toEqual([true, false]);
    mem.write32(pte, (lo | D) >>> 0);
    expect([user.referenced(va), user.dirty(va)]).toEqual([false, true]);
    // the bits next to them are not A or D
    mem.write32(pte, (lo | (A >>> 1) | (D << 1)) >>> 0);
    expect([user.referenced(va), user.dirty(va)]).toEqual([false, false]);
    mem.write32(pte, lo);
    user.check();
  });

  it('a page entered without PRESENT keeps A and D through protect, and they can be read and cleared', () => {
    const { mem, user, frame } = boot(factory);
    const va = 0xa0_0000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    expect(user.translate(va, W)).toBe(pa);
    user.protect(va, va + PS, READ | USER);
    expect(user.resolve(va)).toBe(-1);
    expect(user.translate(va, R)).toBe(FaultCode.NOT_MAPPED);
    expect(user.referenced(va) && user.dirty(va)).toBe(true);
    expect(user.dirty(va, true)).toBe(true);
    expect(user.dirty(va)).toBe(false);
    user.check();
    user.protect(va, va + PS, PRESENT | READ | WRITE | USER);
    const addr = pteOf(user, va);
    expect(mem.read32(addr) & (A | D)).toBe(A);
    expect(user.translate(va, W)).toBe(pa);
    expect(mem.read32(addr) & (A | D)).toBe(A | D);
  });

  it('a kernel page: the PTE in the shared tables, cleared through a user space, dropped from every TLB', () => {
    const { mem, kernel, user, frame } = boot(factory);
    const other = factory.createUser(kernel) as MmuPmap;
    const kva = factory.kernelRange[0] + 40 * PS;
    const pa = frame();
    expect(kernel.enter(pa, kva, PRESENT | READ | WRITE | GLOBAL)).toBe(0);
    const pte = pteOf(kernel, kva);
    expect(pteOf(user, kva)).toBe(pte);
    for (const s of [kernel, user, other]) expect(s.translate(kva, Access.WRITE)).toBe(pa);
    expect(mem.read32(pte) & (A | D)).toBe(A | D);
    const hits = kernel.stats().tlbHits;
    expect(kernel.translate(kva + 4, Access.WRITE)).toBe(pa + 4);
    expect(kernel.stats().tlbHits).toBe(hits + 1);
    expect(user.dirty(kva, true)).toBe(true);
    expect(mem.read32(pte) & (A | D)).toBe(A);
    for (const s of [kernel, user, other]) {
      s.check();
      const misses = s.stats().tlbMisses;
      expect(s.translate(kva + 8, Access.READ)).toBe(pa + 8);
      expect(s.stats().tlbMisses).toBe(misses + 1);
    }
    expect(mem.read32(pte) & D).toBe(0);
    expect(other.translate(kva + 8, Access.WRITE)).toBe(pa + 8);
    expect(mem.read32(pte) & D).toBe(D);
    other.destroy();
    user.destroy();
  });

  it.runIf(factory.name === 'sv39')('a superpage written by hand: the bit of its leaf, every 4 KiB slot of it dropped', () => {
    const { mem, user, frame } = boot(factory);
    expect(user.enter(frame(), 0x1000, PRESENT | READ | USER)).toBe(0);
    const l1 = Math.floor(mem.read32(user.root) / 1024) * 4096;
    const big = 0x8060_0000;
    const ppn = big / 4096;
    const addr = l1 + 3 * 8;
    mem.write32(addr, (ppn % 2 ** 22) * 1024 + (1 | 2 | 4 | 16)); // V R W U, A = D = 0
    mem.write32(addr + 4, Math.floor(ppn / 2 ** 22));
    const base = 3 * 2 * MiB;
    expect(user.referenced(base + 0x1234)).toBe(false);
    expect(user.translate(base + 0x10_0000, W)).toBe(big + 0x10_0000);
    expect(user.translate(base + 0x1f_f000, R)).toBe(big + 0x1f_f000);
    expect(user.referenced(base + 0x5_0000) && user.dirty(base)).toBe(true);
    expect(user.tlbOccupancy()).toBeGreaterThanOrEqual(2);
    const before = mem.read32(addr);
    expect(user.referenced(base + 0x7_0000, true)).toBe(true);
    expect(mem.read32(addr)).toBe((before & ~A) >>> 0);
    // (no check() here: the hand-made superpage maps frames the allocator never handed out)
    // the page cached before the clear, 0x18_f000 past the cleared one, walks again and sets A again
    expect(user.translate(base + 0x1f_f000, R)).toBe(big + 0x1f_f000);
    expect(mem.read32(addr) & A).toBe(A);
    mem.write32(addr, 0);
    mem.write32(addr + 4, 0);
    user.flushTlb();
    user.check();
  });
});

/*
 * VMSAv8-64 (Arm ARM D8): the accessed state is AF, descriptor bit 10; the dirty state with FEAT_HAFDBS is DBM
 * (bit 51, high word bit 19) with AP[2] (bit 7) clear — a writable page starts read-only (AP[2] = 1) and the first
 * write clears AP[2] — or, for a page made read-only while dirty, software bit 55 (high word bit 23), as Linux keeps
 * PTE_DIRTY.
 */
describe.each([aarch64, createAarch64({ vaBits: 39, hardwareAccessFlag: false })])('$name: referenced/dirty on the descriptor words', (factory) => {
  const AF = 1 << 10;
  const AP2 = 1 << 7;
  const DBM = 1 << (51 - 32);
  const SW_DIRTY = 1 << (55 - 32);
  const words = (mem: PhysicalMemory, addr: number) => [mem.read32(addr), mem.read32(addr + 4)];

  it('reads AF and DBM/AP[2] at the manual\'s positions and clears exactly that state', () => {
    const { mem, user, frame } = boot(factory);
    const va = 0x40_0000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    const pte = pteOf(user, va);
    const [lo0, hi0] = words(mem, pte);
    expect([lo0 & (AF | AP2), hi0 & DBM]).toEqual([AP2, DBM]);
    expect([user.referenced(va), user.dirty(va)]).toEqual([false, false]);
    expect(user.translate(va + 4, R)).toBe(pa + 4);
    expect(words(mem, pte)).toEqual([(lo0 | AF) >>> 0, hi0]);
    expect(user.translate(va + 8, W)).toBe(pa + 8);
    const lo = ((lo0 | AF) & ~AP2) >>> 0;
    expect(words(mem, pte)).toEqual([lo, hi0]);
    expect([user.referenced(va), user.dirty(va)]).toEqual([true, true]);
    // clearing the accessed state: only AF
    expect(user.referenced(va + 100, true)).toBe(true);
    expect(words(mem, pte)).toEqual([(lo & ~AF) >>> 0, hi0]);
    user.check();
    // clearing the dirty state: AP[2] set again (clean and write-protected until the next write)
    expect(user.dirty(va, true)).toBe(true);
    expect(words(mem, pte)).toEqual([((lo & ~AF) | AP2) >>> 0, hi0]);
    expect(user.referenced(va, true)).toBe(false);
    expect(user.dirty(va, true)).toBe(false);
    user.check();
    // the next write walks and sets both again
    expect(user.translate(va + 12, W)).toBe(pa + 12);
    expect(words(mem, pte)).toEqual([lo, hi0]);
    user.check();
  });

  it('answers states written by hand, each from its own bits', () => {
    const { mem, user, frame } = boot(factory);
    const va = 0x80_0000;
    expect(user.enter(frame(), va, PRESENT | READ | WRITE | USER)).toBe(0);
    const pte = pteOf(user, va);
    const [lo, hi] = words(mem, pte);
    const set = (l: number, h: number) => {
      mem.write32(pte, l >>> 0);
      mem.write32(pte + 4, h >>> 0);
      return [user.referenced(va), user.dirty(va)];
    };
    expect(set(lo | AF, hi)).toEqual([true, false]);
    expect(set(lo & ~AP2, hi)).toEqual([false, true]); // DBM with AP[2] clear
    expect(set(lo & ~AP2, hi & ~DBM)).toEqual([false, false]); // writable without DBM: no dirty state
    expect(set(lo, hi | SW_DIRTY)).toEqual([false, true]);
    expect(set(lo | (AF >>> 1) | (1 << 11), hi | (SW_DIRTY << 1))).toEqual([false, false]);
    set(lo, hi);
    user.check();
  });

  it('protect keeps the dirty state: in software bit 55 while read-only, in AP[2] once writable again', () => {
    const { mem, user, frame } = boot(factory);
    const va = 0xa0_0000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    expect(user.translate(va, W)).toBe(pa);
    const pte = pteOf(user, va);
    user.protect(va, va + PS, PRESENT | READ | USER);
    let [lo, hi] = words(mem, pte);
    expect([lo & (AF | AP2), hi & (DBM | SW_DIRTY)]).toEqual([AF | AP2, SW_DIRTY]);
    expect(user.dirty(va)).toBe(true);
    expect(user.translate(va, W)).toBe(FaultCode.PROTECTION);
    // PROT_NONE keeps it too
    user.protect(va, va + PS, READ | USER);
    expect(user.referenced(va) && user.dirty(va)).toBe(true);
    user.protect(va, va + PS, PRESENT | READ | WRITE | USER);
    [lo, hi] = words(mem, pte);
    expect([lo & (AF | AP2), hi & (DBM | SW_DIRTY)]).toEqual([AF, DBM]);
    expect(user.translate(va, W)).toBe(pa);
    user.check();
  });

  it('a kernel page: the descriptor in the kernel\'s TTBR1 tables, cleared through a user space, dropped from every TLB', () => {
    const { mem, kernel, user, frame } = boot(factory);
    const other = factory.createUser(kernel) as MmuPmap;
    const kva = factory.kernelRange[0] + 40 * PS;
    const pa = frame();
    expect(kernel.enter(pa, kva, PRESENT | READ | WRITE | GLOBAL)).toBe(0);
    const pte = pteOf(kernel, kva);
    expect(pteOf(user, kva)).toBe(pte);
    for (const s of [kernel, user, other]) expect(s.translate(kva, Access.WRITE)).toBe(pa);
    expect(mem.read32(pte) & (AF | AP2)).toBe(AF);
    expect(user.dirty(kva, true)).toBe(true);
    expect(mem.read32(pte) & (AF | AP2)).toBe(AF | AP2);
    for (const s of [kernel, user, other]) {
      s.check();
      const misses = s.stats().tlbMisses;
      expect(s.translate(kva + 8, Access.READ)).toBe(pa + 8);
      expect(s.stats().tlbMisses).toBe(misses + 1);
    }
    expect(other.translate(kva + 8, Access.WRITE)).toBe(pa + 8);
    expect(mem.read32(pte) & AP2).toBe(0);
    other.destroy();
    user.destroy();
  });
});
