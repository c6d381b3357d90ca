/*
 * ARMv7-A short descriptors decoded straight from RAM with the ARM ARM's bit positions (B3.5.1, SCTLR.AFE = 0,
 * TTBCR.N = 1), written here as literal shifts and masks, not through this package's encoders. Level 1, index
 * VA[31:20]: bits[1:0] 01 coarse table (PXN 2, domain 8:5, base 31:10), 1x section (PXN 0, B 2, C 3, XN 4,
 * AP[1:0] 11:10, TEX 14:12, AP[2] 15, S 16, nG 17, bit 18 supersection, base 31:20). Level 2, index VA[19:12]:
 * 1x small page (XN 0, B 2, C 3, AP[1:0] 5:4, TEX 8:6, AP[2] 9, S 10, nG 11, base 31:12), 01 large page.
 */
import { Access, FaultCode, PageAllocator, PageAttr, PageUsage, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { armv7a } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const { PRESENT, READ, WRITE, EXEC, USER, GLOBAL, UNCACHED, DEVICE } = PageAttr;
const U = Access.USER;
const MiB = 2 ** 20;

function boot() {
  const board = boards.get(armv7a.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  const kernel = armv7a.createKernel(mem, alloc, board) as MmuPmap;
  const user = armv7a.createUser(kernel) as MmuPmap;
  const frame = () => alloc.alloc(4096, { owner: 2 })!.pa;
  return { mem, alloc, kernel, user, frame };
}

const l1 = (d: number) => ({ type: d & 3, pxn: (d >>> 2) & 1, domain: (d >>> 5) & 15, base: Math.floor(d / 1024) * 1024 });
const small = (d: number) => ({
  small: (d >>> 1) & 1,
  xn: d & 1,
  b: (d >>> 2) & 1,
  c: (d >>> 3) & 1,
  ap: ((d >>> 9) & 1) * 4 + ((d >>> 4) & 3), // AP[2:0]
  tex: (d >>> 6) & 7,
  s: (d >>> 10) & 1,
  ng: (d >>> 11) & 1,
  base: Math.floor(d / 4096) * 4096,
});

describe('armv7a tables in RAM', () => {
  it('has a 16 KiB TTBR1 table and 8 KiB TTBR0 tables, aligned to their size, and splits at 2 GiB', () => {
    const { alloc, kernel, user } = boot();
    expect(kernel.root % (16 * 1024)).toBe(0);
    expect(user.root % (8 * 1024)).toBe(0);
    expect(alloc.get(kernel.root)).toMatchObject({ order: 2, usage: PageUsage.PTABLE, free: false });
    expect(alloc.get(user.root)).toMatchObject({ order: 1, usage: PageUsage.PTABLE, free: false });
    expect(armv7a.userRange).toEqual([0x1000, 0x8000_0000]);
    expect(armv7a.kernelRange).toEqual([0xc000_0000, 2 ** 32]);
  });

  it('links a frame of four coarse tables from four level-1 descriptors, and a small page with the entered bits', () => {
    const { mem, alloc, user, frame } = boot();
    const va = 0x1234_5000; // L1 index 0x123, in the group 0x120–0x123; L2 index 0x45
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    const pdi = va >>> 20;
    const first = pdi & ~3;
    const d = [0, 1, 2, 3].map((j) => l1(mem.read32(user.root + (first + j) * 4)));
    expect(d.map((x) => [x.type, x.pxn, x.domain])).toEqual([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]]);
    // pa, pa + 0x400, pa + 0x800, pa + 0xC00 of one page-table frame, as the original's _pmap_addTable.
    expect(d.map((x) => x.base - d[0].base)).toEqual([0, 0x400, 0x800, 0xc00]);
    expect(d[0].base % 4096).toBe(0);
    expect(alloc.get(d[0].base)).toMatchObject({ usage: PageUsage.PTABLE, free: false });
    // The descriptors around the group stay fault entries.
    expect(mem.read32(user.root + (first - 1) * 4) & 3).toBe(0);
    expect(mem.read32(user.root + (first + 4) * 4) & 3).toBe(0);
    const pte = small(mem.read32(d[pdi - first].base + ((va >>> 12) & 255) * 4));
    // user RW: AP 011; not EXEC: XN; Normal write-back write-allocate shareable: TEX 001, C, B, S; non-global.
    expect(pte).toEqual({ small: 1, xn: 1, b: 1, c: 1, ap: 3, tex: 1, s: 1, ng: 1, base: pa });
    expect(user.translate(va + 0x10, Access.WRITE | U)).toBe(pa + 0x10);
    // No accessed or dirty bit in short descriptors: the walk writes nothing.
    expect(small(mem.read32(d[pdi - first].base + ((va >>> 12) & 255) * 4))).toEqual(pte);
    expect(() => user.referenced(va)).toThrow(/ENOSYS/);
    expect(() => user.dirty(va, true)).toThrow(/ENOSYS/);
    expect(user.tables().map((t) => [t.level, t.span])).toEqual([
      [0, 4 * MiB],
      [1, 4096],
    ]);
    user.check();
  });

  it('encodes each PageAttr combination in AP[2:0], XN, TEX/C/B, S, nG', () => {
    const { mem, user, kernel, frame } = boot();
    const pteOf = (p: MmuPmap, va: number) => small(mem.read32(p.leaves({ kernel: true }).find((l) => l.va === va)!.pte));
    const rows: [MmuPmap, number, number, Partial<ReturnType<typeof small>>][] = [
      [user, 0x1000, PRESENT | READ | USER, { ap: 7, xn: 1 }],
      [user, 0x2000, PRESENT | READ | EXEC | USER, { ap: 7, xn: 0 }],
      [user, 0x3000, PRESENT | READ | WRITE | USER | UNCACHED, { ap: 3, tex: 1, c: 0, b: 0, s: 0 }],
      [user, 0x4000, PRESENT | READ | WRITE | USER | DEVICE, { ap: 3, tex: 0, c: 0, b: 1 }],
      [kernel, 0xc000_0000, PRESENT | READ | WRITE | GLOBAL, { ap: 1, xn: 1, ng: 0 }],
      [kernel, 0xc000_1000, PRESENT | READ | EXEC, { ap: 5, xn: 0, ng: 1 }],
    ];
    for (const [p, va, attr, want] of rows) {
      expect(p.enter(frame(), va, attr)).toBe(0);
      expect(pteOf(p, va), `va ${va.toString(16)}`).toMatchObject({ small: 1, ...want });
    }
    // Without PRESENT: bits[1:0] = 00 (a fault entry), the frame kept.
    const pa = frame();
    expect(user.enter(pa, 0x5000, READ | WRITE | USER)).toBe(0);
    const table = l1(mem.read32(user.root)).base;
    expect(mem.read32(table + 5 * 4) & 3).toBe(0);
    expect(small(mem.read32(table + 5 * 4)).base).toBe(pa);
    expect(user.translate(0x5000, Access.READ | U)).toBe(FaultCode.NOT_MAPPED);
    user.protect(0x5000, 0x6000, PRESENT | READ | USER);
    expect(user.translate(0x5000, Access.READ | U)).toBe(pa);
  });

  it('keeps the kernel half in the TTBR1 table, indexed by VA[31:20], which user spaces walk', () => {
    const { mem, kernel, user, frame } = boot();
    const pa = frame();
    const kva = 0xc040_3000;
    expect(kernel.enter(pa, kva, PRESENT | READ | WRITE)).toBe(0);
    const d = l1(mem.read32(kernel.root + (kva >>> 20) * 4));
    expect(d.type).toBe(1);
    expect(small(mem.read32(d.base + ((kva >>> 12) & 255) * 4))).toMatchObject({ small: 1, base: pa, ap: 1 });
    // The user's TTBR0 table is never given kernel entries (it only covers [0, 2 GiB)).
    for (let i = 0; i < 2048; i++) expect(mem.read32(user.root + i * 4)).toBe(0);
    expect(user.translate(kva + 8, Access.WRITE)).toBe(pa + 8);
    expect(user.translate(kva, Access.READ | U)).toBe(FaultCode.PROTECTION);
    // The kernel has no TTBR0 half (TTBCR.PD0), and [2 GiB, 3 GiB) is TTBR1's but holds nothing.
    expect(kernel.translate(0x1000, Access.READ)).toBe(FaultCode.NOT_MAPPED);
    expect(user.translate(0x9000_0000, Access.READ)).toBe(FaultCode.NOT_MAPPED);
    // The kernel boots with its level-2 tables for max(RAM/4, 8 MiB): 64 MiB on 256 MiB, 16 frames, linked in groups.
    expect(kernel.tables().length).toBe(1 + 16);
    kernel.check();
    user.check();
  });

  it('applies AP[2:0], XN and PXN as the ARM ARM tables say (no PAN; a fetch needs read permission)', () => {
    const { mem, user, frame } = boot();
    expect(user.enter(frame(), 0x1000, PRESENT | READ | USER)).toBe(0);
    const table = l1(mem.read32(user.root)).base;
    const pa = frame();
    // [AP[2:0], XN] → PL1 and PL0 R W X. AP: 000 none; 001 PL1 RW; 010 PL1 RW, PL0 R; 011 RW both; 101 PL1 R;
    // 110/111 R both.
    const cases: [number, number, string, string][] = [
      [0, 0, '---', '---'],
      [1, 0, 'RWX', '---'],
      [2, 0, 'RWX', 'R-X'],
      [3, 0, 'RWX', 'RWX'],
      [3, 1, 'RW-', 'RW-'],
      [5, 0, 'R-X', '---'],
      [6, 1, 'R--', 'R--'],
      [7, 0, 'R-X', 'R-X'],
    ];
    cases.forEach(([ap, xn, pl1, pl0], i) => {
      const va = (16 + i) * 4096;
      mem.write32(table + (16 + i) * 4, (pa | 2 | xn | ((ap & 3) << 4) | ((ap >>> 2) << 9)) >>> 0);
      const got = (mode: number) =>
        [Access.READ, Access.WRITE, Access.EXEC].map((k, j) => (user.translate(va, k | mode) === pa ? 'RWX'[j] : '-')).join('');
      expect([got(0), got(U)], `AP=${ap} XN=${xn}`).toEqual([pl1, pl0]);
    });
    // AP = 100, which ARMv7 reserves, reads as the walker (and ARMv8's AArch32) reads it: PL1 read-only.
    mem.write32(table + 30 * 4, (pa | 2 | (1 << 9)) >>> 0);
    expect(user.translate(30 * 4096, Access.READ)).toBe(pa);
    expect(user.translate(30 * 4096, Access.WRITE)).toBe(FaultCode.PROTECTION);
    expect(user.translate(30 * 4096, Access.READ | U)).toBe(FaultCode.PROTECTION);
    // A large page (01): base bits 31:16, the page's VA[15:12] below it, whichever of its 16 entries is read.
    mem.write32(table + 31 * 4, (pa | 1 | (3 << 4)) >>> 0);
    expect(user.translate(31 * 4096, Access.READ | U)).toBe(((pa & 0xffff_0000) >>> 0) + 0xf000);
    // PXN in the level-1 descriptor: PL1 may not execute anywhere under it, PL0 still may.
    mem.write32(table + 8 * 4, (pa | 2 | (3 << 4)) >>> 0); // AP 011, XN 0
    for (let j = 0; j < 4; j++) mem.write32(user.root + j * 4, (mem.read32(user.root + j * 4) | 4) >>> 0);
    user.flushTlb();
    expect(user.translate(8 * 4096, Access.EXEC)).toBe(FaultCode.PROTECTION);
    expect(user.translate(8 * 4096, Access.EXEC | U)).toBe(pa);
    for (let j = 0; j < 4; j++) mem.write32(user.root + j * 4, (mem.read32(user.root + j * 4) & ~4) >>> 0);
    for (const i of [...cases.keys()].map((k) => 16 + k).concat([8, 30, 31])) mem.write32(table + i * 4, 0);
    user.flushTlb();
    user.check();
  });

  it('honours a 1 MiB section and a supersection written by hand', () => {
    const { mem, user } = boot();
    const base = 0x0100_0000; // in DDR, 1 MiB aligned
    // Section at L1 index 0x300 (VA 0x3000_0000): bits[1:0] = 10, AP 011 (AP[1:0] at 11:10), XN clear.
    mem.write32(user.root + 0x300 * 4, (base | 2 | (3 << 10)) >>> 0);
    expect(user.translate(0x3001_2345, Access.WRITE | U)).toBe(base + 0x1_2345);
    expect(user.resolve(0x300f_fffc)).toBe(base + 0xf_fffc);
    // Read-only at both levels (AP[2] bit 15), XN (bit 4).
    mem.write32(user.root + 0x301 * 4, (base | 2 | (3 << 10) | (1 << 15) | (1 << 4)) >>> 0);
    expect(user.translate(0x3010_0000, Access.READ | U)).toBe(base);
    expect(user.translate(0x3010_0000, Access.WRITE)).toBe(FaultCode.PROTECTION);
    expect(user.translate(0x3010_0000, Access.EXEC | U)).toBe(FaultCode.PROTECTION);
    // Supersection (bit 18): base bits 31:24 and VA[23:12], whichever of its 16 entries is read.
    mem.write32(user.root + 0x302 * 4, (base | 2 | (3 << 10) | (1 << 18)) >>> 0);
    expect(user.translate(0x3020_0000, Access.READ | U)).toBe(base + 0x20_0000);
    for (const i of [0x300, 0x301, 0x302]) mem.write32(user.root + i * 4, 0);
    user.flushTlb();
    user.check();
  });

  it('frees a frame of level-2 tables only when all four of its tables are empty, clearing the four descriptors', () => {
    const { mem, alloc, user, frame } = boot();
    const before = alloc.info().free;
    const a = frame();
    const b = frame();
    const free0 = alloc.info().free;
    // Two pages in different 1 MiB tables of the same frame (L1 0x040 and 0x043).
    expect(user.enter(a, 0x0400_0000, PRESENT | READ | USER)).toBe(0);
    expect(user.enter(b, 0x0430_0000, PRESENT | READ | USER)).toBe(0);
    expect(alloc.info().free).toBe(free0 - 4096);
    user.remove(0x0400_0000, 0x0400_1000);
    expect(alloc.info().free).toBe(free0 - 4096);
    expect(mem.read32(user.root + 0x40 * 4) & 3).toBe(1);
    user.remove(0x0430_0000, 0x0430_1000);
    expect(alloc.info().free).toBe(free0);
    for (let j = 0; j < 4; j++) expect(mem.read32(user.root + (0x40 + j) * 4)).toBe(0);
    user.check();
    user.destroy();
    alloc.free({ pa: a, order: 0 });
    alloc.free({ pa: b, order: 0 });
    expect(alloc.info().free).toBe(before + 8192);
  });
});

describe('armv7a ASIDs: the original\'s 255, recycled round-robin with a flush', () => {
  it('hands out 1…255 on activate, then recycles the oldest slot (never the running space) and flushes its TLB', () => {
    const { kernel, user, frame } = boot();
    const pa = frame();
    expect(user.enter(pa, 0x1000, PRESENT | READ | USER)).toBe(0);
    user.activate();
    expect(user.asid).toBe(1);
    expect(user.translate(0x1000, Access.READ | U)).toBe(pa);
    expect(user.tlbOccupancy()).toBe(1);
    const spaces = Array.from({ length: 254 }, () => armv7a.createUser(kernel) as MmuPmap);
    spaces.forEach((s, i) => {
      s.activate();
      expect(s.asid).toBe(i + 2);
    });
    // All 255 taken: the next one takes slot 1 — `user` is evicted (not running), loses its ASID and its TLB.
    const flushes = user.stats().tlbFlushes;
    const extra = armv7a.createUser(kernel) as MmuPmap;
    extra.activate();
    expect(extra.asid).toBe(1);
    expect(user.asid).toBe(0);
    expect(user.tlbOccupancy()).toBe(0);
    expect(user.stats().tlbFlushes).toBe(flushes + 1);
    // Switching to a space that holds an ASID takes none. With spaces[0] (slot 2) running, `user`'s next switch
    // skips slot 2 — the running space keeps its ASID — and takes slot 3 from spaces[1].
    spaces[0].activate();
    expect(spaces[0].asid).toBe(2);
    user.activate();
    expect(user.asid).toBe(3);
    expect(spaces[0].asid).toBe(2);
    expect(spaces[1].asid).toBe(0);
    user.check();
    for (const s of [...spaces, extra]) s.destroy();
    expect(user.asid).toBeGreaterThan(0);
    user.check();
  });
});
