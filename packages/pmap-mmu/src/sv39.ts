import { FaultCode, PageAttr } from '@vmlayers/phys';
import type { PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import { accessMask } from './internal/access-mask.js';
import type { PagingFormat } from './internal/format.js';
import { frameWords } from './internal/frame-words.js';
import type { WalkCache } from './walk-cache.js';
import { makeFactory } from './factory.js';
import { RvEntries, RvWalk, rvEntry } from './walk/riscv.js';

/*
 * RISC-V Sv39 (privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System"). PTE bits 0–7 are
 * V R W X U G A D, bits 8–9 RSW (free for supervisor software), the PPN from bit 10 to bit 53, bits 54–63
 * bits 54–60 reserved, bits 61–62 PBMT (Svpbmt: 0 PMA, 1 NC, 2 IO, 3 reserved → page fault; on a leaf only — a
 * pointer with PBMT set faults too), bit 63 N (Svnapot, not implemented: must be zero).
 */
// Const enums: the compiler inlines them as literals, so the walk reads no module-scope binding for them. SW_ENTERED
// (RSW bit 8) marks a PTE that `enter` wrote without PRESENT: V=0 makes it invisible to hardware, and the spec
// leaves every other bit of an invalid PTE to software, so the frame and permissions survive for `protect`.
const enum Pte {
  V = 0x01,
  R = 0x02,
  W = 0x04,
  X = 0x08,
  U = 0x10,
  G = 0x20,
  A = 0x40,
  D = 0x80,
  SW_ENTERED = 0x100,
}
// Access kinds (phys's Access.READ/WRITE/EXEC).
const enum Kind {
  READ = 1,
  WRITE = 2,
  EXEC = 4,
}
// The values of phys's FaultCode (checked in test/layout.test.ts).
const enum Fault {
  NOT_MAPPED = -1,
  PROTECTION = -2,
  BAD_ADDRESS = -5,
}
const PPN_LO = 0x40_0000; // PPN bits 0–21 live in lo (bits 10–31)
// The high word of a PTE (bits 32–63): PPN bits 22–43 in bits 0–21, PBMT (PTE bits 61–62) in bits 29–30; every
// other bit (PTE bits 54–60 and 63) is reserved and faults (the walk core with Svpbmt, without Svnapot).
const HI_PPN = 0x3f_ffff;
// Svpbmt's encodings, in the high word: NC (non-cacheable memory) and IO (non-cacheable, strongly-ordered I/O).
const HI_PBMT_NC = 0x2000_0000;
const HI_PBMT_IO = 0x4000_0000;

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
// The original's VADDR_KERNEL: the top GiB of the lower half, root entry 255.
const KERNEL_BASE = 0x3f_c000_0000;
const VA_LIMIT = 2 ** 38;
// One level-0 table maps 2 MiB.
const LEAF_TABLE_SPAN = 2 * MiB;

function frameOf(lo: number, hi: number): number {
  return ((lo >>> 10) + (hi & 0x3f_ffff) * PPN_LO) * 4096;
}

function ppnWords(pa: number): number {
  return (pa / 4096) % PPN_LO;
}

/*
 * The walk is the RISC-V walker's (src/walk/riscv.ts): one RvWalk classifies entries and follows the tables for
 * the walker and for this pmap alike. What is the pmap's own is the hardware it stands for — supervisor mode with
 * SUM=0 and MXR=0, user mode, Svpbmt without Svnapot (N is reserved), Svadu — and how it keeps an answer: as
 * `accessMask` codes in its TLB.
 */
/**
 * The walk core, answering a leaf's rights as the access codes it allows (`accessMask`): privilege context 0
 * (supervisor, SUM=0, MXR=0) and context 1 (user) of the core's rights word. A read of an execute-only page faults
 * (MXR=0: R is required), and a supervisor access to a U page faults (SUM=0), as the core's rights say.
 */
const entries = new RvEntries(9, 8, true, false, (perm) => accessMask(perm & 7, (perm >>> 3) & 7));
const core = new RvWalk(entries);
// The decoder's tables and function as module-local bindings: an imported binding is a cell load and check at each
// use, and the decoder object's fields one load more each, on the miss path.
const KINDS = entries.kinds;
const LEAF_RESERVED = entries.leafReserved;
const entry = rvEntry;

/** The access codes with the WRITE bit (2, 3, 6, 7 and their USER forms): left out while D is clear. */
const WRITE_CODES = 0xcccc;

/**
 * The core's answer for an entry that is not a leaf, as a `FaultCode`: V=0 is `NOT_MAPPED`; a reserved encoding,
 * a pointer where only a leaf may be, or an entry outside RAM is `BAD_ADDRESS` (a page or access fault the pmap
 * does not tell apart).
 */
function faultOf(kind: number): number {
  return kind === -1 ? Fault.NOT_MAPPED : Fault.BAD_ADDRESS;
}

/**
 * The level-0 leaf at word `i` of a leaf table's words (a live view of RAM): the walk's answer for it, with A/D
 * written straight into the view.
 */
function leafIn(words: Uint32Array, i: number, access: number, out: Float64Array): number {
  const lo = words[i];
  const hi = words[i + 1];
  const r = entries.entry(lo, hi, 0);
  if (r < 0) return r === -1 ? Fault.NOT_MAPPED : Fault.BAD_ADDRESS;
  out[0] = ((lo >>> 10) + (hi & HI_PPN) * PPN_LO) * 4096;
  if (access === 0) return 0;
  const full = r;
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
  if ((lo & need) !== need) words[i] = lo | need;
  out[1] = (lo | need) & Pte.D ? full : full & ~WRITE_CODES;
  return 0;
}

/**
 * leafIn for a TLB miss (see `PagingFormat.leafFill`): the frame's address bits as int32s — low 32 bits
 * `(lo >>> 10) << 12`, bits 32–47 `(lo >>> 30) | (hi << 2)` — so no double is made unless the frame lies at or
 * above 2^48.
 */
function leafFill(words: Uint32Array, i: number, vpn: number, access: number, tlb: Int32Array, k: number, out: Float64Array): number {
  const lo = words[i];
  const w = words[i + 1];
  const r = entry(KINDS, LEAF_RESERVED, lo, w, 0);
  if (r < 0) return r === -1 ? Fault.NOT_MAPPED : Fault.BAD_ADDRESS;
  // WRITE_CODES and HI_PPN as literals: a module-scope binding is a load from the module's context on every miss,
  // which the miss set's PTEs push out of L1.
  const full = r;
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  const hi = w & 0x3f_ffff;
  const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
  if ((lo & need) !== need) words[i] = lo | need;
  const perm = (lo | need) & Pte.D ? full : full & ~0xcccc;
  const high = (lo >>> 30) | (hi << 2);
  if (high > 0xffff) {
    // At or above 2^48: never cached. Only a leaf written by hand reaches 2^52; the bus would fault there.
    if (hi >>> 18 !== 0) return Fault.BAD_ADDRESS;
    out[0] = ((lo >>> 10) + hi * PPN_LO) * 4096;
    return 0;
  }
  const frame = (lo >>> 10) << 12;
  tlb[k] = vpn;
  if (high === 0) {
    // The hit word alone (see Tlb): the frame, supervisor kinds at bits 0–2 and user kinds at 8–10.
    tlb[k + 1] = frame | ((perm >>> 1) & 0x303) | ((perm >>> 2) & 0x404);
    return 1;
  }
  // Above 4 GiB: no hit word; the codes and the frame in words 2–3.
  tlb[k + 1] = 0;
  tlb[k + 2] = perm | (high << 16);
  tlb[k + 3] = frame;
  return 2;
}

const format: PagingFormat = {
  name: 'sv39',
  levels: 3,
  indexBits: 9,
  pteSize: 8,
  vaLimit: VA_LIMIT,
  // Physical addresses below 2^52 (4 PiB): translate's result is an integer within ±2^52 (see MmuPmap.translate).
  paLimit: 2 ** 52,
  userRange: [4096, KERNEL_BASE],
  kernelRange: [KERNEL_BASE, VA_LIMIT],
  defaultBoard: 'riscv-virt-64m',
  capabilities: Object.freeze({
    hasMmu: true,
    execProtect: true,
    supervisorReadsUser: false,
    sharedKernelHalf: true,
    accessedDirty: true,
  }),
  badVaCode: FaultCode.NON_CANONICAL,
  kernelRootFirst: KERNEL_BASE / GiB,
  kernelRootEnd: VA_LIMIT / GiB,
  // One root: user roots copy the kernel's entries; no ASIDs (each address space owns its TLB).
  splitVpn: Infinity,
  asids: 0,
  adBits: Pte.A | Pte.D,
  accessedBit: Pte.A,
  dirtyBit: Pte.D,

  // The original pre-expands max(RAM/4, 8 MiB) of kernel space; here that many level-0 tables are built at boot
  // under the one level-1 table every user root points to. Tables added later hang off that shared level-1
  // table, so every address space sees them at once and the whole GiB stays usable.
  bootExpand(ramSize: number): number {
    const want = Math.max(ramSize / 4, 8 * MiB);
    return Math.min(Math.ceil(want / LEAF_TABLE_SPAN) * LEAF_TABLE_SPAN, VA_LIMIT - KERNEL_BASE);
  },

  leafLo(pa: number, attr: number): number {
    // W without R is a reserved encoding, and R=W=X=0 would make the leaf a pointer: a writable page is
    // readable, and a present page with no access bits at all is read-only (as on ia32).
    let bits = attr & PageAttr.PRESENT ? Pte.V : Pte.SW_ENTERED;
    if (attr & (PageAttr.READ | PageAttr.WRITE) || !(attr & PageAttr.EXEC)) bits |= Pte.R;
    if (attr & PageAttr.WRITE) bits |= Pte.W;
    if (attr & PageAttr.EXEC) bits |= Pte.X;
    if (attr & PageAttr.USER) bits |= Pte.U;
    if (attr & PageAttr.GLOBAL) bits |= Pte.G;
    return ppnWords(pa) * 1024 + bits;
  },

  // Svpbmt: DEVICE memory is IO, UNCACHED memory NC; everything else follows the physical memory attributes (0).
  leafHi(pa: number, attr: number): number {
    return Math.floor(pa / 4096 / PPN_LO) + (attr & PageAttr.DEVICE ? HI_PBMT_IO : attr & PageAttr.UNCACHED ? HI_PBMT_NC : 0);
  },

  pointerLo(pa: number): number {
    return ppnWords(pa) * 1024 + Pte.V;
  },

  pointerHi(pa: number): number {
    return Math.floor(pa / 4096 / PPN_LO);
  },

  frameOf,

  // Sv39's V R W X U G A D are bits 0-7 in the same order as LeafBit's PRESENT READ WRITE EXEC USER GLOBAL
  // ACCESSED DIRTY.
  leafBits(lo: number): number {
    return lo & Pte.V ? lo & 0xff : 0;
  },

  isPointer(lo: number, level: number): boolean {
    return level > 0 && (lo & (Pte.R | Pte.W | Pte.X)) === 0;
  },

  walk(mem: PhysicalMemory, root: number, vpn: number, access: number, out: Float64Array, cache: WalkCache | null): number {
    let table = root;
    let level = 2;
    const key = vpn >>> 9;
    if (cache !== null) {
      const c = key & (cache.size - 1);
      if (cache.key[c] === key) {
        let words = cache.words[c];
        // A table whose frame held no host memory when cached may have been written since.
        if (words === null) words = cache.words[c] = frameWords(mem, cache.table[c]);
        if (words !== null) return leafIn(words, (vpn & 511) << 1, access, out);
        table = cache.table[c];
        level = 0;
      }
    }
    const w = core;
    const r = w.walk(mem, table, level, vpn);
    // A walk that reached a level-0 table caches it, whatever it found there — a table wholly in RAM: only a
    // table edited by hand points elsewhere, and the walk's reads there are the bus's faults.
    if (cache !== null && level > 0 && w.table0 >= 0 && mem.isRam(w.table0, 4096)) {
      cache.fill(key, w.table0, 0, frameWords(mem, w.table0));
    }
    if (r < 0) return faultOf(r);
    out[0] = w.frame * 4096;
    if (access === 0) return w.misaligned ? Fault.BAD_ADDRESS : r;
    const full = w.perm;
    if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
    // A superpage's PPN must be aligned to its size (checked after the rights, as the specification orders it).
    if (w.misaligned) return Fault.BAD_ADDRESS;
    // Hardware A/D update (Svadu): A on any access, D on a store.
    const lo = w.lo;
    const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
    if ((lo & need) !== need) mem.write32(w.addr, (lo | need) >>> 0);
    out[1] = (lo | need) & Pte.D ? full : full & ~WRITE_CODES;
    return r;
  },

  leafIn(words: Uint32Array, vpn: number, _bits: number, access: number, out: Float64Array): number {
    return leafIn(words, (vpn & 511) << 1, access, out);
  },

  leafFill(words: Uint32Array, vpn: number, _bits: number, access: number, tlb: Int32Array, k: number, out: Float64Array): number {
    return leafFill(words, (vpn & 511) << 1, vpn, access, tlb, k, out);
  },

  leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number {
    core.walk(mem, root, 2, vpn);
    // The level-0 table, if the walk reached one wholly in RAM (whatever its entry says).
    if (core.table0 < 0 || !mem.isRam(core.table0, 4096)) return -1;
    out[0] = core.table0;
    out[1] = 0;
    return 0;
  },
};

/**
 * RISC-V Sv39: three levels of 512 8-byte PTEs, 4 KiB pages, the lower half of the address space only
 * (va < 2^38; anything else is `NON_CANONICAL`). Kernel half `[0x3FC0000000, 0x4000000000)`, one level-1
 * table shared by every address space; user space `[0x1000, 0x3FC0000000)`.
 */
export const sv39: PmapFactory = makeFactory(format);
