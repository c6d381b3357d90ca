/*
 * One walk for AArch64: the aarch64 pmap's walk is the walker's core (`A64Walk`), so on descriptors the pmap never
 * writes itself — hand-written 1 GiB and 2 MiB blocks (aligned or not), reserved encodings, Address size faults,
 * APTable/UXNTable/PXNTable on the table descriptors above, AF clear, DBM with AP[2] set — the pmap's `translate`
 * and an `Aarch64Walker` configured as the pmap's hardware (TCR.HA = HD = 1, PAN = 0, WXN = 0, TTBR0 the user
 * root, TTBR1 the kernel's, the space's ASID) give the same answer for every access code in both modes. The
 * software-Access-flag pmap serves AF and dirty faults itself and so answers as the HA/HD hardware does too.
 * Descriptors are written with the Arm ARM's bit positions as literals, not through the package's encoders.
 */
import { Access, FaultCode, PageOwner, PhysicalMemory } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aarch64, createAarch64 } from '../src/aarch64.js';
import { Aarch64Walker } from '../src/walk/aarch64.js';
import { bootSpaces } from './support/boot.js';

const PS = 4096;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const U = Access.USER;
const ACCESSES = [1, 2, 3, 4, 9, 10, 11, 12];

function put(mem: PhysicalMemory, addr: number, lo: number, hi: number): void {
  mem.write32(addr, lo >>> 0);
  mem.write32(addr + 4, hi >>> 0);
}

/** The output address of a descriptor (bits 47:12). */
function oa(mem: PhysicalMemory, addr: number): number {
  return (mem.read32(addr) & 0xffff_f000) + (mem.read32(addr + 4) & 0xffff) * 2 ** 32;
}

/** A booted pmap with a page entered at `va` (so every table on its path exists), and a walker over the same RAM. */
function boot(factory: PmapFactory, vaBits: 39 | 48, va: number) {
  const { mem, alloc, kernel, user } = bootSpaces(factory);
  user.activate();
  const frame = alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  expect(user.enter(frame, va, 0x1f)).toBe(0);
  const walker = new Aarch64Walker(mem, { t0sz: 64 - vaBits, ha: true, hd: true });
  // The descriptor addresses on va's path, by our level (0 = the Arm ARM's level 3), top level first.
  const path: number[] = [];
  let table = user.root;
  for (let level = (vaBits === 48 ? 4 : 3) - 1; level >= 0; level--) {
    const addr = table + (Math.floor(va / 2 ** (12 + 9 * level)) % 512) * 8;
    path[level] = addr;
    if (level > 0) table = oa(mem, addr);
  }
  const opts = { asid: user.asid, ttbr1: kernel.root };
  return { mem, user, kernel, walker, path, opts, frame };
}

type World = ReturnType<typeof boot>;

/**
 * Both translations of `va` for every access code, each after a flush of both TLBs (so each is a walk), walker
 * first: both set AF and clear AP[2] in the same RAM, and a walk only ever makes a descriptor more permissive.
 */
function agree(w: World, va: number, what: string): number {
  let ok = 0;
  for (const access of ACCESSES) {
    w.walker.tlbiVmalle1();
    w.user.flushTlb();
    const viaWalker = w.walker.translate(w.user.root, va, access, w.opts);
    const viaPmap = w.user.translate(va, access);
    expect(viaPmap, `${what} access=${access}`).toBe(viaWalker);
    if (viaPmap >= 0) ok++;
  }
  return ok;
}

/** A hand-written case: table controls on the pointers above the leaf, and the leaf at `level`. */
interface Case {
  level: number;
  controls: number[];
  lo: number;
  hi: number;
  frame: number;
  misalign: number;
  offset: number;
}

function caseArb(top: number): fc.Arbitrary<Case> {
  return fc.record({
    // 0: a page; 1, 2: a 2 MiB or 1 GiB block; 3: a block at the Arm ARM's level 0 (reserved with 4 KiB pages).
    level: fc.integer({ min: 0, max: top }),
    controls: fc.array(fc.nat(15), { minLength: 4, maxLength: 4 }),
    // V mostly set; bit 1 (table/page) either; AP[2:1]; AF; nG.
    lo: fc.record({ v: fc.nat(7), t: fc.boolean(), ap: fc.nat(3), af: fc.boolean(), ng: fc.boolean() }).map(
      (b) => (b.v > 0 ? 1 : 0) | (b.t ? 2 : 0) | (b.ap << 6) | (b.af ? 0x400 : 0) | (b.ng ? 0x800 : 0) | 0x300,
    ),
    // DBM, Contiguous, PXN, UXN, software bits, and now and then output address bits 49:48 (an Address size fault).
    hi: fc.record({ dbm: fc.boolean(), cont: fc.boolean(), pxn: fc.boolean(), uxn: fc.boolean(), sw: fc.nat(15), res0: fc.nat(15) }).map(
      (b) => (b.dbm ? 1 << 19 : 0) | (b.cont ? 1 << 20 : 0) | (b.pxn ? 1 << 21 : 0) | (b.uxn ? 1 << 22 : 0) | (b.sw << 23) | (b.res0 === 0 ? 1 << 16 : 0),
    ),
    // An output address in DRAM (0x4000_0000 up), or in the flash window at 0.
    frame: fc.oneof(fc.integer({ min: 0x4000_0, max: 0x47ff_f }), fc.integer({ min: 0, max: 0x7fff })),
    // A block's output address bits below its size, written anyway (ignored by the address composition).
    misalign: fc.nat(511),
    offset: fc.nat(PS - 4),
  });
}

/** Writes case `c` onto the path of `va`, checks agreement, and puts the path back. */
function runCase(w: World, va: number, c: Case): number {
  const { mem, path } = w;
  const saved = path.map((a) => [mem.read32(a), mem.read32(a + 4)]);
  const top = path.length - 1;
  const level = Math.min(c.level, top);
  // The table controls (APTable, UXNTable, PXNTable: high word bits 30:27) on every pointer above the leaf.
  for (let l = top; l > level; l--) put(mem, path[l], saved[l][0], (saved[l][1] & ~(0xf << 27)) | (c.controls[l] << 27));
  let pa = c.frame * PS;
  if (level > 0) pa = pa - (pa % (2 ** (9 * level) * PS)) + (c.misalign % 2 ** (9 * level)) * PS;
  const lo = (pa % 2 ** 32) | c.lo;
  const hi = Math.floor(pa / 2 ** 32) | c.hi;
  put(mem, path[level], lo, hi);
  // Somewhere in the leaf's span: its first page, or one further in for a block.
  const span = 2 ** (9 * level) * PS;
  const at = va - (va % span) + (level > 0 ? (c.misalign * 7 + 3) % 2 ** (9 * level) : 0) * PS + (c.offset & ~3);
  try {
    return agree(w, at, `level ${level} lo=${lo.toString(16)} hi=${hi.toString(16)} controls=${c.controls}`);
  } finally {
    // Also after a failed case, so that fast-check's shrinking starts each run from the pmap's own tables.
    path.forEach((a, l) => put(mem, a, saved[l][0], saved[l][1]));
    w.walker.tlbiVmalle1();
    w.user.flushTlb();
  }
}

describe('the aarch64 pmap and Aarch64Walker walk hand-written descriptors alike (one walk core)', () => {
  const configs: [string, PmapFactory, 39 | 48, number][] = [
    ['48-bit, HA/HD', aarch64, 48, 2 ** 39 + 3 * GiB + 5 * 2 * MiB + 7 * PS],
    ['39-bit, HA/HD', createAarch64({ vaBits: 39 }), 39, 3 * GiB + 5 * 2 * MiB + 7 * PS],
    ['48-bit, Access flag and dirty state in software', createAarch64({ hardwareAccessFlag: false }), 48, 2 ** 39 + 3 * GiB + 5 * 2 * MiB + 7 * PS],
  ];
  for (const [name, factory, vaBits, va] of configs) {
    it(`${name}: blocks, reserved encodings, Address size, APTable/UXNTable/PXNTable, AF, DBM`, () => {
      const w = boot(factory, vaBits, va);
      let translated = 0;
      fc.assert(
        fc.property(caseArb(vaBits === 48 ? 3 : 2), (c) => {
          translated += runCase(w, va, c);
        }),
        { numRuns: 400, seed: 64 },
      );
      // A test that compared only faults would prove little.
      expect(translated).toBeGreaterThan(150);
    });
  }

  it('examples: a misaligned 2 MiB block, UXNTable, APTable, AF clear and a clean DBM page', () => {
    const va = 2 ** 39 + 3 * GiB + 5 * 2 * MiB + 7 * PS;
    const w = boot(aarch64, 48, va);
    const { mem, path } = w;
    const saved = path.map((a) => [mem.read32(a), mem.read32(a + 4)]);
    const base = va - (va % (2 * MiB));
    // A 2 MiB block at 0x4060_0000 written with output address bits 20:12 = 1: they are ignored.
    put(mem, path[1], 0x4060_1000 | 0x1 | (1 << 6) | 0x400, 3 << 21);
    expect(agree(w, base + 0x2345, 'misaligned block')).toBeGreaterThan(0);
    expect(w.user.translate(base + 0x2345, Access.READ | U)).toBe(0x4060_2345);
    // Reports read the block as the walk does.
    expect(w.user.leaves().find((l) => l.va === base)).toMatchObject({ pa: 0x4060_0000, size: 2 * MiB });
    put(mem, path[1], saved[1][0], saved[1][1]);
    // UXNTable on the level-2 pointer: EL0 may not execute below it, even where the page allows it.
    put(mem, path[0], w.frame | 0x3 | (1 << 6) | 0x400, 1 << 21);
    put(mem, path[1], saved[1][0], saved[1][1] | (1 << 28));
    agree(w, va, 'UXNTable');
    expect(w.user.translate(va, Access.EXEC | U)).toBe(FaultCode.PROTECTION);
    expect(w.user.translate(va, Access.READ | U)).toBe(w.frame);
    // APTable[0] (no EL0 access) on the level-1 pointer: EL0 data accesses fault, EL1 reads and writes.
    put(mem, path[1], saved[1][0], saved[1][1]);
    put(mem, path[2], saved[2][0], saved[2][1] | (1 << 29));
    agree(w, va, 'APTable');
    w.user.flushTlb();
    expect(w.user.translate(va, Access.READ | U)).toBe(FaultCode.PROTECTION);
    expect(w.user.translate(va, Access.WRITE)).toBe(w.frame);
    put(mem, path[2], saved[2][0], saved[2][1]);
    // AF clear, DBM with AP[2] set (writable-clean): a read sets AF, a write clears AP[2] — in both walks alike.
    put(mem, path[0], w.frame | 0x3 | (3 << 6), (1 << 19) | (1 << 21));
    w.user.flushTlb();
    expect(w.user.translate(va, Access.READ | U)).toBe(w.frame);
    expect(mem.read32(path[0]) & 0x4c0).toBe(0x4c0);
    expect(w.user.translate(va, Access.WRITE | U)).toBe(w.frame);
    expect(mem.read32(path[0]) & 0x4c0).toBe(0x440);
    put(mem, path[0], w.frame | 0x3 | (3 << 6), (1 << 19) | (1 << 21));
    agree(w, va, 'AF clear, DBM clean');
    expect(mem.read32(path[0]) & 0x4c0).toBe(0x440);
  });
});
