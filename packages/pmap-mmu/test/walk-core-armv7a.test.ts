/*
 * The ARMv7-A short-descriptor walk core (src/walk/armv7a.ts), which both the Armv7aWalker's miss and the armv7a
 * pmap's format walk with: its decoder and descent on their own, then the two consumers agreeing on descriptors
 * the pmap never writes itself — sections, supersections (16 replicated level-1 descriptors, PA[39:32]) and large
 * pages (16 replicated level-2 descriptors) written by hand, every AP[2:0] × XN × PXN — and the pmap's reports and
 * range operations over such entries: leaves()/dumpTables list them with their size, check() accounts the memory
 * they map, enter refuses to overwrite them, remove/protect leave them alone (as hand-written superpages on the
 * other formats), referenced/dirty have no A/D to read (ENOSYS). Descriptors are written as literal bit fields
 * (ARM ARM B3.5.1), not through the package's encoders.
 */
import { Access, FaultCode, PageAttr } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { armv7a } from '../src/armv7a.js';
import { dumpTables } from '../src/dump-tables.js';
import { createWalker } from '../src/walk/create-walker.js';
import {
  Armv7a,
  Armv7aConfig,
  armv7aDomain,
  armv7aEntry,
  armv7aFrame,
  armv7aGlobal,
  armv7aRights,
  armv7aShift,
  armv7aWalk,
} from '../src/walk/armv7a.js';
import * as walkIndex from '../src/walk/index.js';
import { TableEntry } from '../src/walk/walker-base.js';
import { bootSpaces } from './support/boot.js';

const { PRESENT, READ, WRITE, USER } = PageAttr;
const U = Access.USER;
const KiB = 1024;
const MiB = 1024 * KiB;
const ACCESSES = [1, 2, 3, 4, 9, 10, 11, 12];

// Level-1 section / supersection and level-2 small / large page descriptors from their fields.
function section(pa: number, o: { ap?: number; xn?: number; pxn?: number; ng?: number; domain?: number } = {}): number {
  const ap = o.ap ?? 3;
  return (pa | 2 | (o.pxn ?? 0) | ((o.xn ?? 0) << 4) | ((o.domain ?? 0) << 5) | ((ap & 3) << 10) | ((ap >>> 2) << 15) | ((o.ng ?? 0) << 17)) >>> 0;
}
function supersection(pa: number, o: { ap?: number; xn?: number; pxn?: number } = {}): number {
  const ap = o.ap ?? 3;
  // PA[31:24] at 31:24, PA[35:32] at 23:20, PA[39:36] at 8:5.
  const low = pa % 2 ** 32;
  const high = Math.floor(pa / 2 ** 32);
  return (
    ((low & 0xff00_0000) | ((high & 15) << 20) | (((high >>> 4) & 15) << 5) | 2 | (1 << 18) | (o.pxn ?? 0) | ((o.xn ?? 0) << 4) | ((ap & 3) << 10) | ((ap >>> 2) << 15)) >>>
    0
  );
}
function largePage(pa: number, o: { ap?: number; xn?: number; ng?: number } = {}): number {
  const ap = o.ap ?? 3;
  return (pa | 1 | ((ap & 3) << 4) | ((ap >>> 2) << 9) | ((o.ng ?? 0) << 11) | ((o.xn ?? 0) << 15)) >>> 0;
}
function smallPage(pa: number, o: { ap?: number; xn?: number } = {}): number {
  const ap = o.ap ?? 3;
  return (pa | 2 | (o.xn ?? 0) | ((ap & 3) << 4) | ((ap >>> 2) << 9)) >>> 0;
}

function boot() {
  const { mem, alloc, kernel, user } = bootSpaces(armv7a);
  user.activate();
  const block = (bytes: number) => alloc.alloc(bytes, { owner: 2 })!.pa;
  // The walker as the pmap's hardware: TTBCR.N = 1, AFE = 0, PXN, every domain a client.
  const walker = createWalker('armv7a-short', mem, { ttbcrN: 1, afe: false, pxn: true });
  const walk = (va: number, access: number) => walker.translate(user.root, va, access, { ttbr1: kernel.root, asid: user.asid });
  return { mem, alloc, kernel, user, block, walker, walk };
}

describe('the armv7a walk core', () => {
  const perm = new Int32Array(32);
  for (let key = 0; key < 32; key++) perm[key] = armv7aRights(key & 7, (key & 8) !== 0, (key & 16) !== 0, false, false, false);

  it('is internal: not among the walkers\' public names', () => {
    for (const name of ['armv7aEntry', 'armv7aWalk', 'armv7aRights', 'armv7aFrame', 'Armv7a']) expect(name in walkIndex).toBe(false);
  });

  it('classifies descriptors: fault, page table, section, supersection, small and large page, reserved 0b11 without PXN, the access flag', () => {
    expect(armv7aEntry(0, 1, 0, Armv7aConfig.PXN, perm)).toBe(Armv7a.TRANSLATION_L1);
    expect(armv7aEntry(0x1234_5001, 1, 0, Armv7aConfig.PXN, perm)).toBe(Armv7a.TABLE);
    // AP 011, XN clear: read/write/execute at both levels (PL1 0o7, PL0 0o70).
    expect(armv7aEntry(section(0x100_0000), 1, 0, Armv7aConfig.PXN, perm)).toBe(0o77);
    expect(armv7aEntry(supersection(0x100_0000), 1, 0, Armv7aConfig.PXN, perm)).toBe(0o77);
    // A PXN section (0b11): PL1 may not execute; without PXN implemented it is reserved.
    expect(armv7aEntry(section(0x100_0000, { pxn: 1 }), 1, 0, Armv7aConfig.PXN, perm)).toBe(0o73);
    expect(armv7aEntry(section(0x100_0000, { pxn: 1 }), 1, 0, 0, perm)).toBe(Armv7a.TRANSLATION_L1);
    expect(armv7aEntry(0, 2, 0, Armv7aConfig.PXN, perm)).toBe(Armv7a.TRANSLATION_L2);
    expect(armv7aEntry(smallPage(0x5000, { ap: 5, xn: 1 }), 2, 0, Armv7aConfig.PXN, perm)).toBe(0o1);
    expect(armv7aEntry(largePage(0x5_0000, { ap: 2 }), 2, 1, Armv7aConfig.PXN, perm)).toBe(0o53);
    // A large page's XN is bit 15, not bit 0.
    expect(armv7aEntry(largePage(0x5_0000, { xn: 1 }), 2, 0, Armv7aConfig.PXN, perm)).toBe(0o33);
    // With AFE, AP[0] is the access flag.
    expect(armv7aEntry(section(0x100_0000, { ap: 2 }), 1, 0, Armv7aConfig.PXN | Armv7aConfig.AFE, perm)).toBe(Armv7a.ACCESS_FLAG_L1);
    expect(armv7aEntry(smallPage(0x5000, { ap: 2 }), 2, 0, Armv7aConfig.PXN | Armv7aConfig.AFE, perm)).toBe(Armv7a.ACCESS_FLAG_L2);
    // Faults are odd at the first level, even at the second.
    for (const f of [Armv7a.TRANSLATION_L1, Armv7a.ACCESS_FLAG_L1, Armv7a.ABORT_L1]) expect(f & 1).toBe(1);
    for (const f of [Armv7a.TRANSLATION_L2, Armv7a.ACCESS_FLAG_L2, Armv7a.ABORT_L2]) expect(f & 1).toBe(0);
  });

  it('reads addresses, sizes, nG and domains as the manual lays them out', () => {
    const ss = supersection(0x3_4500_0000);
    expect(armv7aFrame(ss, 1, 0x1234_5678)).toBe(0x3_4534_5000);
    expect([armv7aShift(ss, 1), armv7aDomain(ss)]).toEqual([24, 0]);
    expect(armv7aFrame(section(0x0120_0000), 1, 0x1234_5678)).toBe(0x0124_5000);
    expect(armv7aShift(section(0), 1)).toBe(20);
    expect(armv7aDomain(section(0, { domain: 9 }))).toBe(9);
    expect(armv7aFrame(largePage(0x0123_0000), 2, 0x1234_5678)).toBe(0x0123_5000);
    expect(armv7aFrame(smallPage(0x0123_4000), 2, 0x1234_5678)).toBe(0x0123_4000);
    expect([armv7aShift(largePage(0), 2), armv7aShift(smallPage(0), 2)]).toEqual([16, 12]);
    expect([armv7aGlobal(section(0), 1), armv7aGlobal(section(0, { ng: 1 }), 1), armv7aGlobal(largePage(0, { ng: 1 }), 2)]).toEqual([true, false, false]);
  });

  it('descends to the leaf, starts at a cached second-level table, and aborts on a table outside RAM', () => {
    const { mem, block } = boot();
    const l1 = block(16 * KiB);
    const l2 = block(4096);
    const frame = block(4096);
    mem.write32(l1 + 0x123 * 4, (l2 | 1 | (1 << 2) | (5 << 5)) >>> 0); // PXN, domain 5
    mem.write32(l2 + 0x45 * 4, smallPage(frame, { ap: 3 }));
    const out = new Float64Array(3);
    const entry = new TableEntry();
    const r = armv7aWalk(mem, l1, 0x1234_5678, -1, 0, Armv7aConfig.PXN, perm, out, entry);
    expect(r).toBe(0o73 | (12 << Armv7a.SIZE_SHIFT));
    expect([out[0], out[1], out[2], entry.lo]).toEqual([frame, l2, 5 | 16, smallPage(frame, { ap: 3 })]);
    // From the cached table: the first level is not read (here it is gone).
    mem.write32(l1 + 0x123 * 4, 0);
    expect(armv7aWalk(mem, l1, 0x1234_5678, l2, 5 | 16, Armv7aConfig.PXN, perm, out, entry)).toBe(r);
    expect(armv7aWalk(mem, l1, 0x1234_5678, -1, 0, Armv7aConfig.PXN, perm, out, entry)).toBe(Armv7a.TRANSLATION_L1);
    expect(out[1]).toBe(-1);
    // A page-table descriptor into a hole: the external abort at the second level.
    const hole = 0xf000_0000;
    expect(mem.isRam(hole, 1024)).toBe(false);
    mem.write32(l1 + 0x123 * 4, (hole | 1) >>> 0);
    expect(armv7aWalk(mem, l1, 0x1234_5678, -1, 0, Armv7aConfig.PXN, perm, out, entry)).toBe(Armv7a.ABORT_L2);
  });
});

describe('armv7a pmap ≡ walker on descriptors written by hand', () => {
  it('translates sections, supersections and large pages with every AP[2:0] × XN × PXN the way the walker does', () => {
    const { mem, user, block, walker, walk } = boot();
    // A user page so the group at 0 holds the pmap's own tables, whose level-2 entries then get large pages.
    expect(user.enter(block(4096), 0x1000, PRESENT | READ | USER)).toBe(0);
    const table = mem.read32(user.root) & 0xffff_fc00;
    const sec = block(MiB);
    const big = block(16 * MiB);
    const large = block(64 * KiB);
    let compared = 0;
    for (let ap = 0; ap < 8; ap++) {
      for (let xn = 0; xn < 2; xn++) {
        for (let pxn = 0; pxn < 2; pxn++) {
          const n = ap * 4 + xn * 2 + pxn;
          // Section: level-1 index 0x100 + n; supersection: 16 entries at 0x200 + 16n (under 2 GiB: TTBR0's).
          const sva = (0x100 + n) * MiB;
          mem.write32(user.root + (0x100 + n) * 4, section(sec, { ap, xn, pxn }));
          const ssva = (0x200 + 16 * n) * MiB;
          if (ssva < 0x8000_0000) for (let j = 0; j < 16; j++) mem.write32(user.root + ((ssva >>> 20) + j) * 4, supersection(big, { ap, xn, pxn }));
          // Large page in the pmap's level-2 table of [0, 1 MiB): 16 entries from page 16 × (n + 1) (XN only; PXN
          // comes from the page-table descriptor, left clear).
          const lva = 16 * (n + 1) * 4096;
          if (pxn === 0 && lva < MiB) for (let j = 0; j < 16; j++) mem.write32(table + ((lva >>> 12) + j) * 4, largePage(large, { ap, xn }));
          user.flushTlb();
          walker.tlbiall();
          const vas = [sva, sva + 0x7_f123, ssva < 0x8000_0000 ? ssva + 0xa1_2345 : -1, pxn === 0 && lva < MiB ? lva + 0x9_876 : -1];
          for (const va of vas) {
            if (va < 0) continue;
            for (const a of ACCESSES) {
              expect(user.translate(va, a), `va ${va.toString(16)} access ${a} AP ${ap} XN ${xn} PXN ${pxn}`).toBe(walk(va, a));
              compared++;
            }
          }
        }
      }
    }
    // Every mapping answered somewhere: a section's data page, a supersection's, a large page's.
    expect(user.translate(0x10c * MiB + 0x123, Access.READ | U)).toBe(sec + 0x123);
    expect(user.translate(0x2c0 * MiB + 0x12_3456, Access.READ | U)).toBe(big + 0x12_3456);
    expect(user.translate(0xd_0000 + 0x9876, Access.READ)).toBe(large + 0x9876);
    expect(user.resolve(0x230 * MiB + 0xff_fffc)).toBe(big + 0xff_fffc);
    expect(compared).toBeGreaterThan(600);
    user.check();
  });

  it('translates a supersection above 4 GiB (PA[39:32]) and its TLB hit as the walker does', () => {
    const { mem, user, walk } = boot();
    for (let j = 0; j < 16; j++) mem.write32(user.root + (0x400 + j) * 4, supersection(0x12_0100_0000));
    for (const va of [0x4000_0000, 0x40ab_c123, 0x40ff_fffc]) {
      for (const a of [Access.READ, Access.WRITE | U, Access.READ]) expect(user.translate(va, a)).toBe(walk(va, a));
    }
    expect(user.translate(0x40ab_c123, Access.READ)).toBe(0x12_01ab_c123);
  });

  it('reads the replica the address indexes, as the walker: a broken replication still translates entry by entry', () => {
    const { mem, user, block, walk } = boot();
    const a = block(16 * MiB);
    const b = block(16 * MiB);
    for (let j = 0; j < 16; j++) mem.write32(user.root + (0x300 + j) * 4, supersection(j === 5 ? b : a));
    for (const va of [0x3000_0000, 0x3050_1234, 0x3060_0000]) expect(user.translate(va, Access.READ)).toBe(walk(va, Access.READ));
    expect(user.translate(0x3050_1234, Access.READ)).toBe(b + 0x50_1234);
  });
});

describe('armv7a pmap reports and range operations over descriptors written by hand', () => {
  function handWritten() {
    const b = boot();
    const { mem, user, block } = b;
    expect(user.enter(block(4096), 0x1000, PRESENT | READ | WRITE | USER)).toBe(0);
    const table = mem.read32(user.root) & 0xffff_fc00;
    const sec = block(MiB);
    const big = block(16 * MiB);
    const large = block(64 * KiB);
    // A section in the second descriptor of the group at 0x0400_0000 (the first stays empty), nG.
    mem.write32(user.root + 0x041 * 4, section(sec, { ap: 2, ng: 1 }));
    // A PXN section (0b11) first in its group.
    mem.write32(user.root + 0x050 * 4, section(sec, { ap: 7, pxn: 1 }));
    // A supersection over four groups.
    for (let j = 0; j < 16; j++) mem.write32(user.root + (0x100 + j) * 4, supersection(big, { ap: 3, xn: 1 }));
    // A large page among the pmap's own small pages.
    for (let j = 0; j < 16; j++) mem.write32(table + (0x10 + j) * 4, largePage(large, { ap: 1 }));
    user.flushTlb();
    return { ...b, table, sec, big, large };
  }

  it('lists them in leaves() and dumpTables with their sizes and the bits the walk reads', () => {
    const { user, table, sec, big, large } = handWritten();
    const leaves = user.leaves().filter((l) => l.size !== 4096);
    expect(leaves).toEqual([
      { va: 0x1_0000, pa: large, size: 64 * KiB, pte: table + 0x10 * 4, bits: 0x01 | 0x02 | 0x04 | 0x08 | 0x20 },
      { va: 0x0410_0000, pa: sec, size: MiB, pte: user.root + 0x041 * 4, bits: 0x01 | 0x02 | 0x04 | 0x08 | 0x10 },
      { va: 0x0500_0000, pa: sec, size: MiB, pte: user.root + 0x050 * 4, bits: 0x01 | 0x02 | 0x08 | 0x10 | 0x20 },
      { va: 0x1000_0000, pa: big, size: 16 * MiB, pte: user.root + 0x100 * 4, bits: 0x01 | 0x02 | 0x04 | 0x10 | 0x20 },
    ]);
    // The pmap's own page is still listed, once.
    expect(user.leaves().filter((l) => l.size === 4096).map((l) => l.va)).toEqual([0x1000]);
    const dump = dumpTables(user);
    expect(dump).toContain('64 KiB');
    expect(dump).toContain(' 1 MiB');
    expect(dump).toContain('16 MiB');
    expect(dump.split('\n').filter((l) => l !== '')).toHaveLength(5);
  });

  it('lists a replica that breaks the replication as the part of the leaf the hardware reads through it', () => {
    const { mem, user, big } = handWritten();
    mem.write32(user.root + 0x105 * 4, (mem.read32(user.root + 0x105 * 4) | (1 << 17)) >>> 0);
    const parts = user.leaves().filter((l) => l.va >= 0x1000_0000 && l.va < 0x1100_0000);
    expect(parts.map((l) => [l.va, l.pa, l.size])).toEqual([...Array(16).keys()].map((j) => [0x1000_0000 + j * MiB, big + j * MiB, MiB]));
  });

  it('accounts the memory they map in check(): a section over a free frame fails it', () => {
    const { mem, alloc, user, sec } = handWritten();
    user.check();
    alloc.free({ pa: sec, order: 8 });
    expect(() => user.check()).toThrow(/free/);
    mem.write32(user.root + 0x041 * 4, 0);
    mem.write32(user.root + 0x050 * 4, 0);
    user.flushTlb();
    user.check();
  });

  it('check() accounts each replica of a large page: one over a page table fails it', () => {
    const { mem, user, table } = handWritten();
    user.check();
    // Replica j maps the large page's page j: make the one over the level-2 table's own frame its page.
    const pt = table & 0xffff_f000;
    const j = (pt >>> 12) & 15;
    for (let r = 0; r < 16; r++) mem.write32(table + (0x40 + r) * 4, largePage(pt & 0xffff_0000));
    user.flushTlb();
    expect(user.translate((0x40 + j) * 4096, Access.READ)).toBe(pt);
    expect(() => user.check()).toThrow(/page table|free/);
  });

  it('has no accessed or dirty bit to read (ENOSYS)', () => {
    const { user } = handWritten();
    for (const va of [0x0410_0000, 0x1000_0000, 0x1_0000]) {
      expect(() => user.referenced(va)).toThrow(expect.objectContaining({ code: 'ENOSYS' }));
      expect(() => user.dirty(va, true)).toThrow(expect.objectContaining({ code: 'ENOSYS' }));
    }
  });

  it('leaves them alone in remove and protect, and refuses to enter over them', () => {
    const { mem, user, block, table, sec, big, large } = handWritten();
    const before = [0x041, 0x050, ...[...Array(16).keys()].map((j) => 0x100 + j)].map((i) => mem.read32(user.root + i * 4));
    const l2before = [...Array(16).keys()].map((j) => mem.read32(table + (0x10 + j) * 4));
    user.protect(0x1000, 0x2000_0000, PRESENT | READ);
    user.remove(0x2000, 0x2000_0000);
    expect([0x041, 0x050, ...[...Array(16).keys()].map((j) => 0x100 + j)].map((i) => mem.read32(user.root + i * 4))).toEqual(before);
    expect([...Array(16).keys()].map((j) => mem.read32(table + (0x10 + j) * 4))).toEqual(l2before);
    // The pmap's own page was protected.
    expect(user.translate(0x1000, Access.WRITE | U)).toBe(FaultCode.PROTECTION);
    expect(user.translate(0x0410_0000, Access.READ | U)).toBe(sec);
    expect(user.translate(0x1012_3000, Access.READ | U)).toBe(big + 0x12_3000);
    expect(user.translate(0x1_5000, Access.WRITE)).toBe(large + 0x5000);
    const pa = block(4096);
    // Inside a section, a supersection, a large page; and beside a section in its group (linking the group's
    // tables would overwrite it).
    for (const va of [0x0410_0000, 0x0500_0000, 0x1080_0000, 0x1_3000, 0x0400_0000]) {
      expect(() => user.enter(pa, va, PRESENT | READ | USER)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    // The next group is free.
    expect(user.enter(pa, 0x0540_0000, PRESENT | READ | USER)).toBe(0);
    expect(user.translate(0x0540_0000, Access.READ | U)).toBe(pa);
    user.check();
  });
});
