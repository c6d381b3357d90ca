import { FaultCode, PageAttr, VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import { accessMask } from './internal/access-mask.js';
import { LeafBit } from './internal/format.js';
import type { LeafState, PagingFormat } from './internal/format.js';
import { frameWords } from './internal/frame-words.js';
import type { WalkCache } from './walk-cache.js';
import { makeFactory } from './factory.js';
import { A64Walk, a64Page, a64Rights, a64Touches } from './walk/aarch64.js';

/*
 * VMSAv8-64 stage 1, EL1&0 translation regime, 4 KiB granule (Arm ARM D8, "The VMSAv8-64 address translation
 * system"). Descriptors are 8 bytes, handled as two little-endian u32 halves: `lo` = bits 0–31, `hi` = bits 32–63.
 *
 * lo: bit 0 valid; bit 1 table (levels 0–2) / page (level 3), clear = block (levels 1–2); AttrIndx[2:0] bits 2–4;
 *     NS bit 5; AP[1] bit 6 (EL0 access); AP[2] bit 7 (read-only); SH bits 8–9; AF bit 10; nG bit 11; output
 *     address bits 12–31.
 * hi: output address bits 32–47 in bits 0–15; descriptor bits 48–49 (hi 16–17) RES0 without FEAT_LPA2 — set, they
 *     are an Address size fault; bit 50 GP (ignored); DBM bit 51 (hi 19); Contiguous bit 52 (hi 20, a hint);
 *     PXN bit 53 (hi 21); UXN bit 54 (hi 22); bits 55–58 for software (hi 23–26). Table descriptors: PXNTable bit 59
 *     (hi 27), UXNTable bit 60 (hi 28), APTable bits 61–62 (hi 29–30: [0] no EL0 access, [1] no write), NSTable 63.
 *
 * The walk itself — decoding descriptors, the descent, the permission model — is the AArch64 walker's core
 * (`src/walk/aarch64.ts`: `A64Walk`, `a64Rights`) with the walker's settings TCR_EL1.IPS = 48, HD = 1 for the
 * rights (without `hardwareAccessFlag` the pmap serves the Access flag and dirty faults itself), PAN = 0, WXN = 0.
 * This file holds the encoders and the pmap's policy: access masks, A/D updates, probes, and its TLB slot fill.
 */
const enum Lo {
  V = 0x1,
  T = 0x2,
  AP1 = 0x40,
  AP2 = 0x80,
  SH_INNER = 0x300,
  AF = 0x400,
  NG = 0x800,
}
const enum Hi {
  OA = 0xffff,
  DBM = 0x8_0000,
  PXN = 0x20_0000,
  UXN = 0x40_0000,
  // Software bit 55 (Linux's PTE_DIRTY): a page made read-only while dirty keeps its dirty state here, as DBM with
  // AP[2] = 1 would read as clean.
  SW_DIRTY = 0x80_0000,
  // Software bit 56: a descriptor `enter` wrote without PRESENT. V = 0 makes the hardware ignore every other bit,
  // so the frame and rights survive for `protect`, and the descriptor is never all zeros.
  SW_ENTERED = 0x100_0000,
}
// MAIR_EL1 as this pmap programs it: Attr0 = 0xFF (Normal, write-back), Attr1 = 0x44 (Normal, non-cacheable),
// Attr2 = 0x00 (Device-nGnRnE). AttrIndx is lo bits 2–4.
const ATTR_NC = 1 << 2;
const ATTR_DEVICE = 2 << 2;
const enum Fault {
  NOT_MAPPED = -1,
  PROTECTION = -2,
  BAD_ADDRESS = -5,
}
/** The access codes with the WRITE bit (2, 3, 6, 7 and their USER forms): left out while AP[2] is set. */
const WRITE_CODES = 0xcccc;
const GiB = 2 ** 30;
// The core's page step for the TLB miss, bound to module-local names: an imported binding is a cell load and a
// check at each use, a method a load of the core object.
const page = a64Page;
const touches = a64Touches;
const MiB = 2 ** 20;

/**
 * The access codes a valid block/page descriptor allows, by the core's 10-bit key (`A64Walk.key` | table controls
 * << 6): the walker's rights (`a64Rights`, HD = 1, WXN = 0) as access masks, EL1 the supervisor context and EL0 the
 * user one, in bits 0–15. A write to a DBM page with AP[2] = 1 is allowed — the walk then clears AP[2], the
 * hardware dirty state, or without `hardwareAccessFlag` the pmap's fault path does. Bits 16–31: the codes a TLB
 * slot may hold for the descriptor as it stands, without the writes while AP[2] is set (a write walks again and
 * clears it) — one load on the miss path for both.
 */
const PERM = new Int32Array(1024);
for (let key = 0; key < 1024; key++) {
  const r = a64Rights(key, true, false);
  const full = accessMask(r & 7, r >>> 3);
  PERM[key] = full | ((key & 2 ? full & ~WRITE_CODES : full) << 16);
}

// A negative answer of the core's decoder as the pmap's FaultCode: -1 (invalid) NOT_MAPPED; reserved encodings,
// Address size faults and external aborts on the walk BAD_ADDRESS.
function faultOf(d: number): number {
  return d === -1 ? Fault.NOT_MAPPED : Fault.BAD_ADDRESS;
}

function frameOf(lo: number, hi: number): number {
  return ((lo & 0xffff_f000) >>> 0) + (hi & Hi.OA) * 2 ** 32;
}

/** Options of {@link createAarch64}. */
export interface Aarch64Options {
  /**
   * Virtual address bits per half: 48 (TCR_EL1.T0SZ = T1SZ = 16, four levels starting at level 0; the default) or
   * 39 (T0SZ = T1SZ = 25, three levels starting at level 1).
   */
  vaBits?: 39 | 48;
  /**
   * True (default): FEAT_HAFDBS with TCR_EL1.HA = HD = 1 — the walk sets AF on an access and clears AP[2] of a DBM
   * page on a write. False: HA = HD = 0 — such an access takes an Access Flag fault (or a Permission fault for the
   * write), which this pmap's fault path serves in software by setting AF (clearing AP[2]) and retrying, counted by
   * `MmuPmap.softwareFaults()`. The tables end up the same either way.
   */
  hardwareAccessFlag?: boolean;
}

function makeFormat(vaBits: 39 | 48, hw: boolean): PagingFormat {
  const levels = vaBits === 48 ? 4 : 3;
  // Numbers stand for 64-bit addresses sign-extended from bit `vaBits`: [0, 2^vaBits) is TTBR0's half, and
  // [2^vaBits, 2^(vaBits+1)) is TTBR1's, whose 64-bit addresses are 0xFFFF… with the same low `vaBits` bits.
  const vaLimit = 2 ** (vaBits + 1);
  const kernelBase = vaLimit - GiB;
  const splitVpn = 2 ** (vaBits - 12);

  // The walk core (TCR_EL1.IPS = 48) and its state for this format's walks.
  const w = new A64Walk(48);
  // Its Address size mask, an immutable binding of this closure for the miss path.
  const addrFault = w.addrFault;

  // The descriptor's low word after the last access `allow` allowed: the caller writes it back when it differs.
  let stored = 0;

  /**
   * The pmap's answer for a block or page descriptor the core decoded (permission key `key`) at `level` (0 = page)
   * for page `vpn`, under table controls `tb`. For an allowed access, `stored` is the low word with AF set (and
   * AP[2] cleared by a write to a DBM page), and each change made without HA/HD counts one software-served fault in
   * `out[2]`. A probe (`access` 0) checks nothing.
   */
  function allow(lo: number, hi: number, key: number, level: number, vpn: number, tb: number, access: number, out: Float64Array): number {
    out[0] = w.output(lo, hi, level, vpn);
    if (access === 0) return level;
    const entry = PERM[key | (tb << 6)];
    // A denied access changes nothing: Permission faults are reported before the Access Flag is set (the pmap's
    // fault path checks the rights of the descriptor it holds before it sets AF).
    if (((entry >>> access) & 1) === 0) return Fault.PROTECTION;
    const nlo = w.touched(lo, access);
    // Without HA/HD each change was one exception (Access Flag, or Permission for the write), served in software.
    if (!hw && nlo !== lo) out[2] += ((lo & Lo.AF) === 0 ? 1 : 0) + ((lo & ~nlo & Lo.AP2) !== 0 ? 1 : 0);
    stored = nlo;
    out[1] = PERM[w.key(nlo, hi) | (tb << 6)] >>> 16;
    return level;
  }

  // A first access (AF) or first write (AP[2] of a DBM page): the new descriptor stored, the software faults it
  // stands for counted without HA/HD, and the codes the TLB may now hold.
  function update(words: Uint32Array, i: number, lo: number, hi: number, access: number, tb: number, out: Float64Array): number {
    const nlo = w.touched(lo, access);
    words[i] = nlo;
    if (!hw) out[2] += ((lo & 0x400) === 0 ? 1 : 0) + ((lo & ~nlo & 0x80) !== 0 ? 1 : 0);
    return PERM[w.key(nlo, hi) | tb] >>> 16;
  }

  function leafInWords(words: Uint32Array, i: number, vpn: number, tb: number, access: number, out: Float64Array): number {
    const lo = words[i];
    const hi = words[i + 1];
    const key = w.page(lo, hi);
    if (key < 0) return faultOf(key);
    const r = allow(lo, hi, key, 0, vpn, tb, access, out);
    if (r >= 0 && access !== 0 && stored !== lo) words[i] = stored;
    return r;
  }

  const state: LeafState = {
    accessed(lo: number): boolean {
      return (lo & Lo.AF) !== 0;
    },
    // Dirty: a DBM page whose AP[2] the hardware (or the fault path) cleared, or the software bit.
    dirty(lo: number, hi: number): boolean {
      return (hi & Hi.SW_DIRTY) !== 0 || ((hi & Hi.DBM) !== 0 && (lo & Lo.AP2) === 0);
    },
    clear(lo: number, hi: number, dirty: boolean, out: Float64Array): void {
      if (!dirty) {
        out[0] = (lo & ~Lo.AF) >>> 0;
        out[1] = hi;
        return;
      }
      // Clean again: a DBM page read-only until the next write dirties it.
      out[0] = (hi & Hi.DBM ? lo | Lo.AP2 : lo) >>> 0;
      out[1] = (hi & ~Hi.SW_DIRTY) >>> 0;
    },
    reprotect(lo: number, hi: number, attr: number, out: Float64Array): void {
      const pa = frameOf(lo, hi);
      let nlo = leafLo(pa, attr) | (lo & Lo.AF);
      let nhi = leafHi(pa, attr);
      if (state.dirty(lo, hi)) {
        // Kept dirty: writable → AP[2] clear (the hardware state); read-only → the software bit.
        if (nhi & Hi.DBM) nlo &= ~Lo.AP2;
        else nhi |= Hi.SW_DIRTY;
      }
      out[0] = nlo >>> 0;
      out[1] = nhi >>> 0;
    },
  };

  // The descriptor words `enter` writes: AF = 0, a writable page clean (AP[2] = 1 with DBM).
  function leafLo(pa: number, attr: number): number {
    let lo = (pa % 2 ** 32) | Lo.T | Lo.NG;
    if (attr & PageAttr.PRESENT) lo |= Lo.V;
    if (attr & PageAttr.GLOBAL) lo &= ~Lo.NG;
    const readable = (attr & (PageAttr.READ | PageAttr.WRITE)) !== 0 || (attr & PageAttr.EXEC) === 0;
    // AP[1] gives EL0 data access: a user page that is only executable stays execute-only.
    if (attr & PageAttr.USER && readable) lo |= Lo.AP1;
    // Writable pages start clean: read-only until the first write, which DBM turns into AP[2] = 0.
    lo |= Lo.AP2;
    if (attr & PageAttr.DEVICE) lo |= ATTR_DEVICE;
    else if (attr & PageAttr.UNCACHED) lo |= ATTR_NC | Lo.SH_INNER;
    else lo |= Lo.SH_INNER;
    return lo >>> 0;
  }

  function leafHi(pa: number, attr: number): number {
    let hi = Math.floor(pa / 2 ** 32);
    if (attr & PageAttr.WRITE) hi |= Hi.DBM;
    // The kernel never executes user pages (PXN), EL0 never kernel pages (UXN).
    if (attr & PageAttr.USER) hi |= Hi.PXN | (attr & PageAttr.EXEC ? 0 : Hi.UXN);
    else hi |= Hi.UXN | (attr & PageAttr.EXEC ? 0 : Hi.PXN);
    if (!(attr & PageAttr.PRESENT)) hi |= Hi.SW_ENTERED;
    return hi >>> 0;
  }

  const format: PagingFormat = {
    name: `aarch64${vaBits === 39 ? '-va39' : ''}${hw ? '' : '-swaf'}`,
    levels,
    indexBits: 9,
    pteSize: 8,
    vaLimit,
    // TCR_EL1.IPS = 48 bits.
    paLimit: 2 ** 48,
    userRange: [4096, 2 ** vaBits],
    kernelRange: [kernelBase, vaLimit],
    defaultBoard: 'aarch64-virt-128m',
    capabilities: Object.freeze({
      hasMmu: true,
      execProtect: true,
      supervisorReadsUser: true,
      sharedKernelHalf: true,
      accessedDirty: true,
    }),
    badVaCode: FaultCode.NON_CANONICAL,
    // Two base registers: nothing is copied, every user root entry is the space's own.
    kernelRootFirst: 512,
    kernelRootEnd: 512,
    splitVpn,
    asids: 65535,
    adBits: 0,
    accessedBit: Lo.AF,
    dirtyBit: 0,
    leafState: state,

    // As Sv39 (the original's `_pmap_kernelSpaceExpand` amount): max(RAM/4, 8 MiB) of level-3 tables at boot, under
    // level-2 tables of the kernel's own TTBR1 root, so a table added later is seen by every space at once.
    bootExpand(ramSize: number): number {
      const want = Math.max(ramSize / 4, 8 * MiB);
      return Math.min(Math.ceil(want / (2 * MiB)) * 2 * MiB, GiB);
    },

    leafLo,
    leafHi,
    pointerLo(pa: number): number {
      return ((pa % 2 ** 32) + (Lo.V | Lo.T)) >>> 0;
    },
    pointerHi(pa: number): number {
      return Math.floor(pa / 2 ** 32);
    },
    frameOf,

    leafBits(lo: number, hi = 0): number {
      if ((lo & Lo.V) === 0) return 0;
      const user = (lo & Lo.AP1) !== 0 || (hi & Hi.UXN) === 0;
      const exec = user ? (hi & Hi.UXN) === 0 : (hi & Hi.PXN) === 0;
      return (
        LeafBit.PRESENT |
        (user && (lo & Lo.AP1) === 0 ? 0 : LeafBit.READ) |
        ((lo & Lo.AP2) === 0 || (hi & Hi.DBM) !== 0 ? LeafBit.WRITE : 0) |
        (exec ? LeafBit.EXEC : 0) |
        (user ? LeafBit.USER : 0) |
        (lo & Lo.NG ? 0 : LeafBit.GLOBAL) |
        (lo & Lo.AF ? LeafBit.ACCESSED : 0) |
        (state.dirty(lo, hi) ? LeafBit.DIRTY : 0)
      );
    },

    // A block written by hand with output address bits below its size: the walk ignores them, and so do reports.
    leafFrame(lo: number, hi: number, level: number, vpn: number): number {
      return w.output(lo, hi, level, vpn);
    },

    isPointer(lo: number, level: number): boolean {
      // The core's answer for a table descriptor: 64 | its table controls.
      return w.decode(lo, 0, level) >= 64;
    },

    walk(mem: PhysicalMemory, root: number, vpn: number, access: number, out: Float64Array, cache: WalkCache | null): number {
      let table = root;
      let level = levels - 1;
      let tb = 0;
      const key = vpn < 2147483648 ? vpn >>> 9 : Math.floor(vpn / 512);
      if (cache !== null) {
        const c = key & (cache.size - 1);
        if (cache.key[c] === key) {
          let words = cache.words[c];
          tb = cache.bits[c];
          if (words === null) words = cache.words[c] = frameWords(mem, cache.table[c]);
          if (words !== null) return leafInWords(words, (vpn & 511) << 1, vpn, tb, access, out);
          table = cache.table[c];
          level = 0;
        }
      }
      let k = 0;
      if (level !== 0) {
        k = w.descend(mem, table, level, vpn);
        if (k < 0) return faultOf(k);
        level = k;
        tb = w.bits;
        if (level === 0) {
          table = w.table0;
          if (cache !== null) {
            // frameWords refuses a frame outside RAM; reading the descriptor there is the walk's external abort.
            if (!mem.isRam(table, 4096)) return Fault.BAD_ADDRESS;
            const words = frameWords(mem, table);
            cache.fill(key, table, tb, words);
            if (words !== null) return leafInWords(words, (vpn & 511) << 1, vpn, tb, access, out);
          }
        }
      }
      if (level === 0) {
        k = w.leaf(mem, table, vpn);
        if (k < 0) return faultOf(k);
      } else {
        k = w.key(w.lo, w.hi);
      }
      const lo = w.lo;
      const r = allow(lo, w.hi, k, level, vpn, tb, access, out);
      if (r >= 0 && access !== 0 && stored !== lo) mem.write32(w.addr, stored);
      return r;
    },

    leafIn(words: Uint32Array, vpn: number, bits: number, access: number, out: Float64Array): number {
      return leafInWords(words, (vpn & 511) << 1, vpn, bits, access, out);
    },

    // The usual miss: `leafInWords` written out with int32 operations only (no double for the frame), as Sv39's
    // leafFill; the frame's bits 32–47 are the high word's bits 0–15.
    leafFill(words: Uint32Array, vpn: number, bits: number, access: number, tlb: Int32Array, k: number, out: Float64Array): number {
      const i = (vpn & 511) << 1;
      const lo = words[i];
      const hi = words[i + 1];
      const key = page(lo, hi, addrFault);
      if (key < 0) return key === -1 ? Fault.NOT_MAPPED : Fault.BAD_ADDRESS;
      const tb = bits << 6;
      const entry = PERM[key | tb];
      if (((entry >>> access) & 1) === 0) return Fault.PROTECTION;
      // The descriptor changes on a page's first access or first write only: kept out of line, so this function
      // stays small enough for V8 to inline into the pmap's miss path.
      const perm = touches(lo, access) ? update(words, i, lo, hi, access, tb, out) : entry >>> 16;
      const high = hi & 0xffff;
      const frame = lo & -4096;
      tlb[k] = vpn;
      if (high === 0) {
        tlb[k + 1] = frame | ((perm >>> 1) & 0x303) | ((perm >>> 2) & 0x404);
        return 1;
      }
      tlb[k + 1] = 0;
      tlb[k + 2] = perm | (high << 16);
      tlb[k + 3] = frame;
      return 2;
    },

    leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number {
      if (w.descend(mem, root, levels - 1, vpn) !== 0) return -1;
      const table = w.table0;
      // The walk cache takes a view of the table: a frame outside RAM has none.
      if (!mem.isRam(table, 4096)) return -1;
      out[0] = table;
      out[1] = w.bits;
      return 0;
    },
  };
  return format;
}

/**
 * An AArch64 `PmapFactory` (VMSAv8-64, 4 KiB granule) with the given options; see {@link Aarch64Options}. Its name
 * is `aarch64`, with `-va39` for 39-bit addresses and `-swaf` without hardware A/D management. Bad options →
 * `VmError('EINVAL')`.
 */
export function createAarch64(options: Aarch64Options = {}): PmapFactory {
  if (options === null || typeof options !== 'object') throw new VmError('EINVAL', `options must be an object, got ${hex(options)}`);
  const { vaBits = 48, hardwareAccessFlag = true } = options;
  if (vaBits !== 39 && vaBits !== 48) throw new VmError('EINVAL', `vaBits must be 39 or 48, got ${hex(vaBits)}`);
  if (typeof hardwareAccessFlag !== 'boolean') {
    throw new VmError('EINVAL', `hardwareAccessFlag must be a boolean, got ${hex(hardwareAccessFlag)}`);
  }
  return makeFactory(makeFormat(vaBits, hardwareAccessFlag));
}

/**
 * AArch64 VMSAv8-64: 4 KiB granule, four levels of 512 8-byte descriptors (48-bit addresses), hardware Access Flag
 * and dirty state (FEAT_HAFDBS), 16-bit ASIDs. User space `[0x1000, 2^48)` walked from TTBR0; the kernel half is
 * TTBR1's, numbered `[2^48, 2^49)` (a 64-bit address 0xFFFF_xxxx_xxxx_xxxx is 2^48 + its low 48 bits), of which
 * the top GiB `[2^49 - 2^30, 2^49)` (0xFFFF_FFFF_C000_0000 up, the original's `VADDR_KERNEL`) is the kernel range.
 * `createAarch64` makes the 39-bit and software-Access-Flag variants.
 */
export const aarch64: PmapFactory = createAarch64();
