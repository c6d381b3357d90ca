/*
 * VMSAv8-64 descriptors decoded straight from RAM with the Arm ARM's bit positions (D8, stage 1, 4 KiB granule),
 * written here as literal shifts and masks, not through this package's encoders: bits[1:0] valid/table-or-page,
 * AttrIndx[4:2], AP[2:1] at 7:6, SH 9:8, AF 10, nG 11, output address 47:12, DBM 51, PXN 53, UXN 54, software
 * 58:55; table descriptors: PXNTable 59, UXNTable 60, APTable 62:61.
 */
import { Access, FaultCode, PageAllocator, PageAttr, PageUsage, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { AsidAllocator } from '../src/asid.js';
import type { AsidHolder } from '../src/asid.js';
import { aarch64, createAarch64 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const { PRESENT, READ, WRITE, EXEC, USER, GLOBAL, UNCACHED, DEVICE } = PageAttr;
const U = Access.USER;
const GiB = 2 ** 30;
const MiB = 2 ** 20;

type Factory = typeof aarch64;

function boot(factory: Factory = aarch64) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const user = factory.createUser(kernel) as MmuPmap;
  const frame = () => alloc.alloc(4096, { owner: 2 })!.pa;
  const table = () => alloc.alloc(4096, { owner: 1, usage: PageUsage.PTABLE })!.pa;
  return { mem, alloc, kernel, user, frame, table };
}

/** A descriptor's fields, from its two words. */
function desc(mem: PhysicalMemory, addr: number) {
  const lo = mem.read32(addr);
  const hi = mem.read32(addr + 4);
  const bit = (n: number) => (n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1);
  return {
    valid: bit(0),
    tableOrPage: bit(1),
    attrIndx: (lo >>> 2) & 7,
    ap: (lo >>> 6) & 3, // AP[2:1]
    sh: (lo >>> 8) & 3,
    af: bit(10),
    ng: bit(11),
    oa: Math.floor(lo / 4096) * 4096 + (hi & 0xffff) * 2 ** 32,
    res0: (hi >>> 16) & 3,
    dbm: bit(51),
    pxn: bit(53),
    uxn: bit(54),
    sw: (hi >>> 23) & 0xf,
    pxnTable: bit(59),
    uxnTable: bit(60),
    apTable: (hi >>> 29) & 3,
  };
}

/** The 9-bit index of `va` at translation level `n` (0–3) with a 4 KiB granule: VA[47-9n:39-9n]. */
const idx = (va: number, n: number) => Math.floor(va / 2 ** (39 - 9 * n)) % 512;
/** Writes a 64-bit descriptor as two little-endian words. */
function put(mem: PhysicalMemory, addr: number, lo: number, hi: number) {
  mem.write32(addr, lo >>> 0);
  mem.write32(addr + 4, hi >>> 0);
}

describe('aarch64 (48-bit VA, four levels) tables in RAM', () => {
  it('walks levels 0–3 to a page descriptor with the entered frame and bits', () => {
    const { mem, alloc, user, frame } = boot();
    const va = 0x7f_1234_5000; // above 4 GiB and 2^39: every level's index differs from 0
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    let table = user.root;
    for (let n = 0; n < 3; n++) {
      const d = desc(mem, table + idx(va, n) * 8);
      expect(d).toMatchObject({ valid: 1, tableOrPage: 1, pxnTable: 0, uxnTable: 0, apTable: 0, res0: 0 });
      expect(alloc.get(d.oa)).toMatchObject({ usage: PageUsage.PTABLE, free: false });
      table = d.oa;
    }
    const leafAddr = table + idx(va, 3) * 8;
    // A writable user page starts clean: AP[2:1] = 11 (read-only at EL0 and EL1) with DBM, AF clear, non-global,
    // Normal write-back (AttrIndx 0) inner shareable, never executable (UXN: not EXEC; PXN: a user page).
    expect(desc(mem, leafAddr)).toMatchObject({ valid: 1, tableOrPage: 1, attrIndx: 0, ap: 3, sh: 3, af: 0, ng: 1, oa: pa, dbm: 1, pxn: 1, uxn: 1, sw: 0 });
    // Hardware AF: a load sets AF; hardware dirty state: a store clears AP[2] (AP[2:1] 11 → 01).
    expect(user.translate(va + 0x10, Access.READ | U)).toBe(pa + 0x10);
    expect(desc(mem, leafAddr)).toMatchObject({ af: 1, ap: 3 });
    expect(user.dirty(va)).toBe(false);
    expect(user.translate(va + 0x10, Access.WRITE | U)).toBe(pa + 0x10);
    expect(desc(mem, leafAddr)).toMatchObject({ af: 1, ap: 1, dbm: 1 });
    expect(user.dirty(va)).toBe(true);
    expect(user.softwareFaults()).toBe(0);
    user.check();
  });

  it('encodes each PageAttr combination in AP, UXN, PXN, AttrIndx, nG', () => {
    const { mem, user, kernel, frame } = boot();
    const leafOf = (p: MmuPmap, va: number) => p.leaves({ kernel: true }).find((l) => l.va === va)!.pte;
    const rows: [MmuPmap, number, number, Partial<ReturnType<typeof desc>>][] = [
      [user, 0x1000, PRESENT | READ | USER, { ap: 3, dbm: 0, uxn: 1, pxn: 1 }],
      [user, 0x2000, PRESENT | READ | EXEC | USER, { ap: 3, dbm: 0, uxn: 0, pxn: 1 }],
      // execute-only at EL0: AP[1] = 0 (no EL0 data access), UXN = 0
      [user, 0x3000, PRESENT | EXEC | USER, { ap: 2, uxn: 0, pxn: 1 }],
      [user, 0x4000, PRESENT | READ | WRITE | USER | UNCACHED, { ap: 3, dbm: 1, attrIndx: 1 }],
      [user, 0x5000, PRESENT | READ | WRITE | USER | DEVICE, { ap: 3, dbm: 1, attrIndx: 2 }],
      [kernel, aarch64.kernelRange[0], PRESENT | READ | WRITE | GLOBAL, { ap: 2, dbm: 1, uxn: 1, pxn: 1, ng: 0 }],
      [kernel, aarch64.kernelRange[0] + 0x1000, PRESENT | READ | EXEC, { ap: 2, dbm: 0, uxn: 1, pxn: 0, ng: 1 }],
    ];
    for (const [p, va, attr, want] of rows) {
      expect(p.enter(frame(), va, attr)).toBe(0);
      expect(desc(mem, leafOf(p, va)), `va ${va.toString(16)}`).toMatchObject({ valid: 1, tableOrPage: 1, af: 0, ...want });
    }
    // Without PRESENT: bit 0 clear, the frame and rights kept, software bit 56 marking the entry.
    const pa = frame();
    expect(user.enter(pa, 0x6000, READ | WRITE | USER)).toBe(0);
    const table = user.leaves()[0].pte - (user.leaves()[0].va / 4096 % 512) * 8;
    expect(desc(mem, table + 6 * 8)).toMatchObject({ valid: 0, oa: pa, sw: 2 });
    expect(user.translate(0x6000, Access.READ | U)).toBe(FaultCode.NOT_MAPPED);
  });

  it('keeps the kernel half in the kernel\'s TTBR1 table: 0xFFFF_FFFF_C000_0000 is number 2^49 - 2^30', () => {
    const { mem, kernel, user, frame } = boot();
    const [kstart, kend] = aarch64.kernelRange;
    expect([kstart, kend]).toEqual([2 ** 49 - GiB, 2 ** 49]);
    expect(aarch64.userRange).toEqual([0x1000, 2 ** 48]);
    const pa = frame();
    const kva = kstart + 0x5000;
    expect(kernel.enter(pa, kva, PRESENT | READ | WRITE)).toBe(0);
    // Indices from the 64-bit address's low 48 bits: 0xFFFF_FFFF_C000_5000 → L0 511, L1 511, L2 0, L3 5.
    const low48 = kva - 2 ** 48;
    expect([idx(low48, 0), idx(low48, 1), idx(low48, 2), idx(low48, 3)]).toEqual([511, 511, 0, 5]);
    let table = kernel.root;
    for (let n = 0; n < 3; n++) table = desc(mem, table + idx(low48, n) * 8).oa;
    expect(desc(mem, table + 5 * 8)).toMatchObject({ valid: 1, oa: pa });
    // The user's TTBR0 table holds nothing of it: no root entry is copied.
    for (let i = 0; i < 512; i++) expect(mem.read32(user.root + i * 8)).toBe(0);
    // Yet the user space translates it, from TTBR1, and the kernel has no TTBR0 half (EPD0).
    expect(user.translate(kva + 8, Access.WRITE)).toBe(pa + 8);
    expect(user.translate(kva, Access.READ | U)).toBe(FaultCode.PROTECTION);
    expect(kernel.translate(0x1000, Access.READ)).toBe(FaultCode.NOT_MAPPED);
    // Past the top of TTBR1's half: not canonical. Between the halves' numbers nothing is mapped.
    expect(user.translate(2 ** 49, Access.READ)).toBe(FaultCode.NON_CANONICAL);
    expect(user.translate(2 ** 48 + 0x1000, Access.READ)).toBe(FaultCode.NOT_MAPPED);
    kernel.check();
    user.check();
  });

  it('honours 1 GiB and 2 MiB block descriptors written by hand, and faults on reserved encodings', () => {
    const { mem, user, frame } = boot();
    expect(user.enter(frame(), 0x1000, PRESENT | READ | USER)).toBe(0);
    const l1 = desc(mem, user.root).oa; // level-1 table of [0, 512 GiB)
    const l2 = desc(mem, l1).oa; // level-2 table of [0, 1 GiB)
    // 2 MiB block at L2 entry 3 → pa 0x4060_0000: bits[1:0] = 01, AF, AP[2:1] = 01 (EL0 RW), UXN, PXN.
    const block2m = 0x4060_0000;
    put(mem, l2 + 3 * 8, block2m | 1 | (1 << 6) | (1 << 10), (1 << 21) | (1 << 22));
    expect(user.translate(3 * 2 * MiB + 0x12_3456, Access.WRITE | U)).toBe(block2m + 0x12_3456);
    expect(user.resolve(3 * 2 * MiB + 0x1f_fffc)).toBe(block2m + 0x1f_fffc);
    expect(user.translate(3 * 2 * MiB, Access.EXEC | U)).toBe(FaultCode.PROTECTION);
    // 1 GiB block at L1 entry 2 → [2 GiB, 3 GiB) onto 0x4000_0000, EL0 read-only, AF set.
    put(mem, l1 + 2 * 8, 0x4000_0000 | 1 | (3 << 6) | (1 << 10), (1 << 21) | (1 << 22));
    expect(user.translate(2 * GiB + 0x30_1234, Access.READ | U)).toBe(0x4030_1234);
    expect(user.translate(2 * GiB + 0x30_1234, Access.WRITE | U)).toBe(FaultCode.PROTECTION);
    // A block with AF clear: the hardware sets it (HA = 1).
    put(mem, l2 + 6 * 8, block2m | 1 | (1 << 6), 3 << 21);
    expect(user.translate(6 * 2 * MiB, Access.READ | U)).toBe(block2m);
    expect(desc(mem, l2 + 6 * 8).af).toBe(1);
    // Misaligned 2 MiB block: output address bits 20:12 set. As the walker (and the architecture's address
    // composition), the bits below the block's size are ignored: OA[47:21] from the descriptor, the rest from the VA.
    put(mem, l2 + 4 * 8, (block2m + 0x1000) | 1 | (1 << 6) | (1 << 10), 3 << 21);
    expect(user.translate(4 * 2 * MiB + 0x2345, Access.READ | U)).toBe(block2m + 0x2345);
    // Level-3 descriptor with bits[1:0] = 01 is reserved.
    const l3 = desc(mem, l2).oa;
    put(mem, l3 + 7 * 8, frame() | 1 | (1 << 6) | (1 << 10), 3 << 21);
    expect(user.translate(7 * 4096, Access.READ | U)).toBe(FaultCode.BAD_ADDRESS);
    // A block at level 0 is not allowed with a 4 KiB granule.
    put(mem, user.root + 1 * 8, 0x4000_0000 | 1 | (1 << 6) | (1 << 10), 3 << 21);
    expect(user.translate(512 * GiB, Access.READ | U)).toBe(FaultCode.BAD_ADDRESS);
    // Output address bits 49:48 set (RES0 without FEAT_LPA2): an Address size fault.
    put(mem, l2 + 5 * 8, block2m | 1 | (1 << 6) | (1 << 10), (1 << 16) | (3 << 21));
    expect(user.translate(5 * 2 * MiB, Access.READ | U)).toBe(FaultCode.BAD_ADDRESS);
    for (const a of [l2 + 3 * 8, l1 + 2 * 8, l2 + 6 * 8, l2 + 4 * 8, l2 + 5 * 8, l3 + 7 * 8, user.root + 8]) put(mem, a, 0, 0);
    user.flushTlb();
    user.check();
  });

  it('applies AP[2:1], UXN and PXN as the stage 1 permission tables say (PAN = 0, WXN = 0)', () => {
    const { mem, user, frame } = boot();
    expect(user.enter(frame(), 0x1000, PRESENT | READ | USER)).toBe(0);
    const l3 = desc(mem, desc(mem, desc(mem, user.root).oa).oa).oa;
    const pa = frame();
    // [AP[2:1], UXN, PXN] → allowed at EL1 (R W X) and EL0 (R W X), from the Arm ARM's tables: AP 00 EL1 RW/EL0 none,
    // 01 RW/RW, 10 RO/none, 11 RO/RO; EL0 executes where UXN = 0 whatever AP says; EL1 executes where PXN = 0
    // unless EL0 may write (AP = 01).
    const cases: [number, number, number, string, string][] = [
      [0, 0, 0, 'RWX', '--X'],
      [0, 1, 0, 'RWX', '---'],
      [0, 1, 1, 'RW-', '---'],
      [1, 0, 0, 'RW-', 'RWX'],
      [1, 1, 0, 'RW-', 'RW-'],
      [2, 1, 0, 'R-X', '---'],
      [2, 0, 1, 'R--', '--X'],
      [3, 0, 0, 'R-X', 'R-X'],
      [3, 1, 1, 'R--', 'R--'],
    ];
    cases.forEach(([ap, uxn, pxn, el1, el0], i) => {
      const va = (16 + i) * 4096;
      put(mem, l3 + (16 + i) * 8, pa | 3 | (ap << 6) | (1 << 10), (pxn << 21) | (uxn << 22));
      const got = (mode: number) =>
        [Access.READ, Access.WRITE, Access.EXEC].map((k, j) => (user.translate(va, k | mode) === pa ? 'RWX'[j] : '-')).join('');
      expect([got(0), got(U)], `AP=${ap} UXN=${uxn} PXN=${pxn}`).toEqual([el1, el0]);
    });
    // Table restrictions: APTable = 01 (no EL0 access) and UXNTable on the level-2 entry of a second 2 MiB region.
    const l2 = desc(mem, desc(mem, user.root).oa).oa;
    expect(user.enter(frame(), 2 * MiB, PRESENT | READ | WRITE | EXEC | USER)).toBe(0);
    const l2e = l2 + 1 * 8;
    put(mem, l2e, mem.read32(l2e), mem.read32(l2e + 4) | (1 << 29));
    user.flushTlb();
    expect(user.translate(2 * MiB, Access.READ | U)).toBe(FaultCode.PROTECTION);
    // APTable limits data accesses; execution is UXNTable's (this pmap's reading: AP[1] = 0 leaves EL0 execution too).
    expect(user.translate(2 * MiB, Access.EXEC | U)).toBe(user.resolve(2 * MiB));
    put(mem, l2e, mem.read32(l2e), mem.read32(l2e + 4) | (1 << 28) | (1 << 30));
    user.flushTlb();
    expect(user.translate(2 * MiB, Access.EXEC | U)).toBe(FaultCode.PROTECTION);
    expect(user.translate(2 * MiB, Access.WRITE)).toBe(FaultCode.PROTECTION);
    expect(user.translate(2 * MiB, Access.READ)).toBe(user.resolve(2 * MiB));
    put(mem, l2e, mem.read32(l2e), mem.read32(l2e + 4) & ~(0xf << 27));
    for (let i = 0; i < cases.length; i++) put(mem, l3 + (16 + i) * 8, 0, 0);
    user.flushTlb();
    user.check();
  });
});

describe('createAarch64 options', () => {
  it('refuses anything but vaBits 39 | 48 and a boolean hardwareAccessFlag (EINVAL)', () => {
    for (const bad of [null, 42, { vaBits: 40 }, { vaBits: '48' }, { vaBits: 48.5 }, { hardwareAccessFlag: 'yes' }, { hardwareAccessFlag: 1 }]) {
      expect(() => createAarch64(bad as never), JSON.stringify(bad)).toThrow(/EINVAL/);
    }
    expect(createAarch64().name).toBe('aarch64');
    expect(createAarch64({ vaBits: 48, hardwareAccessFlag: true }).userRange).toEqual(aarch64.userRange);
  });
});

describe('aarch64 with 39-bit VA (three levels from level 1)', () => {
  const va39 = createAarch64({ vaBits: 39 });

  it('names itself, splits at 2^39, and indexes its root with VA[38:30]', () => {
    expect(va39.name).toBe('aarch64-va39');
    expect(va39.userRange).toEqual([0x1000, 2 ** 39]);
    expect(va39.kernelRange).toEqual([2 ** 40 - GiB, 2 ** 40]);
    const { mem, user, kernel, frame } = boot(va39);
    const va = 0x45_6789_a000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | USER)).toBe(0);
    const l2 = desc(mem, user.root + idx(va, 1) * 8);
    expect(l2).toMatchObject({ valid: 1, tableOrPage: 1 });
    const l3 = desc(mem, l2.oa + idx(va, 2) * 8);
    expect(desc(mem, l3.oa + idx(va, 3) * 8)).toMatchObject({ valid: 1, tableOrPage: 1, oa: pa, ap: 3 });
    expect(user.translate(va + 4, Access.READ | U)).toBe(pa + 4);
    expect(user.translate(2 ** 40, Access.READ)).toBe(FaultCode.NON_CANONICAL);
    // A 1 GiB block in the level-1 root itself.
    put(mem, user.root + 3 * 8, 0x4000_0000 | 1 | (3 << 6) | (1 << 10), 3 << 21);
    expect(user.translate(3 * GiB + 0x1234, Access.READ | U)).toBe(0x4000_1234);
    put(mem, user.root + 3 * 8, 0, 0);
    user.flushTlb();
    const kpa = frame();
    expect(kernel.enter(kpa, va39.kernelRange[0], PRESENT | READ | WRITE)).toBe(0);
    expect(user.translate(va39.kernelRange[0], Access.WRITE)).toBe(kpa);
    user.check();
    kernel.check();
  });
});

describe('aarch64 without hardware A/D management (Access Flag and dirty faults served in software)', () => {
  const sw = createAarch64({ hardwareAccessFlag: false });

  it('sets AF and clears AP[2] in the fault path, counting each fault; the tables end as with HA/HD', () => {
    expect(sw.name).toBe('aarch64-swaf');
    const { mem, user, frame } = boot(sw);
    const pa = frame();
    expect(user.enter(pa, 0x1000, PRESENT | READ | WRITE | USER)).toBe(0);
    const pte = user.leaves()[0].pte;
    expect(desc(mem, pte)).toMatchObject({ af: 0, ap: 3, dbm: 1 });
    expect(user.translate(0x1000, Access.READ | U)).toBe(pa);
    expect(user.softwareFaults()).toBe(1); // Access Flag fault
    expect(desc(mem, pte)).toMatchObject({ af: 1, ap: 3 });
    expect(user.translate(0x1000, Access.READ | U)).toBe(pa);
    expect(user.softwareFaults()).toBe(1); // a TLB hit: no fault
    expect(user.translate(0x1004, Access.WRITE | U)).toBe(pa + 4);
    expect(user.softwareFaults()).toBe(2); // Permission fault on the clean DBM page
    expect(desc(mem, pte)).toMatchObject({ af: 1, ap: 1 });
    // A denied access takes no Access Flag fault first and sets nothing.
    const ro = frame();
    expect(user.enter(ro, 0x2000, PRESENT | READ | USER)).toBe(0);
    expect(user.translate(0x2000, Access.WRITE | U)).toBe(FaultCode.PROTECTION);
    expect(user.referenced(0x2000)).toBe(false);
    expect(user.softwareFaults()).toBe(2);
    // A first write to a fresh page: both faults at once.
    expect(user.translate(0x2000, Access.READ | U)).toBe(ro);
    expect(user.enter(frame(), 0x3000, PRESENT | READ | WRITE | USER)).toBe(0);
    expect(user.translate(0x3000, Access.WRITE | U)).toBeGreaterThan(0);
    expect(user.softwareFaults()).toBe(5);
    user.check();
  });
});

describe('ASIDs (the original\'s allocator: lazy, round-robin recycling, never the running space)', () => {
  class Space implements AsidHolder {
    asidSlot = 0;
    flushed = 0;
    asidEvicted(): void {
      this.flushed++;
    }
  }

  it('hands out ASIDs on activate, 1…65535 on aarch64, and frees them on destroy', () => {
    const { kernel, user } = boot();
    expect(user.asid).toBe(0);
    expect(kernel.asid).toBe(0);
    user.activate();
    expect(user.asid).toBe(1);
    const u2 = aarch64.createUser(kernel) as MmuPmap;
    u2.activate();
    expect(u2.asid).toBe(2);
    user.activate();
    expect(user.asid).toBe(1);
    kernel.activate();
    expect(kernel.asid).toBe(0);
    user.destroy();
    // The last one handed out moves into the freed slot, with its ASID value.
    expect(u2.asid).toBe(2);
    u2.check();
  });

  it('recycles round-robin when all are taken, skipping the running space, and flushes the evicted TLB', () => {
    const a = new AsidAllocator<Space>(3);
    const s = Array.from({ length: 5 }, () => new Space());
    for (let i = 0; i < 3; i++) a.assign(s[i], null);
    expect(s.slice(0, 3).map((x) => a.asidOf(x))).toEqual([1, 2, 3]);
    // All three taken; s[0] (slot 1) is running: slot 2 goes to s[3], s[1] is evicted and flushed.
    a.assign(s[3], s[0]);
    expect(a.asidOf(s[3])).toBe(2);
    expect([a.asidOf(s[1]), s[1].flushed]).toEqual([0, 1]);
    a.assign(s[4], s[3]);
    expect(a.asidOf(s[4])).toBe(3);
    expect([a.asidOf(s[2]), s[2].flushed]).toEqual([0, 1]);
    expect(a.live()).toBe(3);
    a.check();
    // Releasing a middle slot moves the last-handed-out space down with its value.
    a.release(s[3]);
    expect(a.asidOf(s[4])).toBe(3);
    expect(s[4].asidSlot).toBe(2);
    expect(a.live()).toBe(2);
    a.check();
    a.assign(s[1], null);
    expect(a.asidOf(s[1])).toBe(2);
    a.check();
  });
});
