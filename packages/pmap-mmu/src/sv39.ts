import { FaultCode, PageAttr } from '@vmlayers/phys';
import type { PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import { accessMask } from './internal/access-mask.js';
import type { PagingFormat } from './internal/format.js';
import { frameWords } from './internal/frame-words.js';
import type { WalkCache } from './walk-cache.js';
import { makeFactory } from './factory.js';

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
// other bit (PTE bits 54–60 and 63) is reserved and faults.
const HI_PPN = 0x3f_ffff;
const HI_PBMT = 0x6000_0000;
const HI_RESERVED = 0x9fc0_0000;
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

/**
 * The access codes a leaf allows, by its flag byte (V R W X U G A D): an `accessMask` set, or the fault of an entry
 * that maps nothing (V clear: `NOT_MAPPED`) or is reserved (W without R, or R=W=X=0 where only a leaf may be:
 * `BAD_ADDRESS`). Supervisor access to a U page faults (sstatus.SUM=0), and so does a user access to a non-U page;
 * a read of an execute-only page faults too (sstatus.MXR=0): R is required.
 */
const LEAF_PERM = new Int32Array(256);
for (let b = 0; b < 256; b++) {
  const kinds = (b >>> 1) & 7;
  if ((b & Pte.V) === 0) LEAF_PERM[b] = Fault.NOT_MAPPED;
  else if (kinds === 0 || (b & (Pte.R | Pte.W)) === Pte.W) LEAF_PERM[b] = Fault.BAD_ADDRESS;
  else LEAF_PERM[b] = b & Pte.U ? accessMask(0, kinds) : accessMask(kinds, 0);
}
/** The access codes with the WRITE bit (2, 3, 6, 7 and their USER forms): left out while D is clear. */
const WRITE_CODES = 0xcccc;

/**
 * The level-0 leaf at word `i` of a leaf table's words (a live view of RAM): the walk's answer for it, with A/D
 * written straight into the view.
 */
function leafIn(words: Uint32Array, i: number, access: number, out: Float64Array): number {
  const lo = words[i];
  const full = LEAF_PERM[lo & 0xff];
  if (full === Fault.NOT_MAPPED) return full;
  const hi = words[i + 1];
  if ((hi & HI_RESERVED) !== 0 || (hi & HI_PBMT) === HI_PBMT || full < 0) return Fault.BAD_ADDRESS;
  out[0] = ((lo >>> 10) + (hi & HI_PPN) * PPN_LO) * 4096;
  if (access === 0) return 0;
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
  const full = LEAF_PERM[lo & 0xff];
  if (full === Fault.NOT_MAPPED) return full;
  const w = words[i + 1];
  // HI_RESERVED, HI_PBMT, HI_PPN and WRITE_CODES as literals: a module-scope binding is a load from the module's
  // context on every miss (HI_RESERVED, above 2^31, two: it is a boxed double), which the miss set's PTEs push out
  // of L1.
  if ((w & 0x9fc0_0000) !== 0 || (w & 0x6000_0000) === 0x6000_0000 || full < 0) return Fault.BAD_ADDRESS;
  const hi = w & 0x3f_ffff;
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
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
    for (; level >= 0; level--) {
      const addr = table + ((vpn >>> (9 * level)) & 511) * 8;
      const lo = mem.read32(addr);
      if ((lo & Pte.V) === 0) return Fault.NOT_MAPPED;
      const w = mem.read32(addr + 4);
      if ((w & HI_RESERVED) !== 0) return Fault.BAD_ADDRESS;
      const hi = w & HI_PPN;
      if ((lo & (Pte.R | Pte.W | Pte.X)) === 0) {
        // Svpbmt: PBMT on a pointer is reserved, and faults.
        if ((w & HI_PBMT) !== 0) return Fault.BAD_ADDRESS;
        table = frameOf(lo, hi);
        // Only a table edited by hand points outside RAM; the bus would fault there.
        if (!mem.isRam(table, 4096)) return Fault.BAD_ADDRESS;
        if (level === 1 && cache !== null) {
          const words = frameWords(mem, table);
          cache.fill(key, table, 0, words);
          if (words !== null) return leafIn(words, (vpn & 511) << 1, access, out);
        }
        continue;
      }
      const full = LEAF_PERM[lo & 0xff];
      if (full < 0 || (w & HI_PBMT) === HI_PBMT) return Fault.BAD_ADDRESS;
      let ppn = (lo >>> 10) + hi * PPN_LO;
      if (level > 0) {
        // A superpage leaf: its PPN must be aligned to the superpage, else the spec raises a page fault.
        const span = 2 ** (9 * level);
        if (ppn % span !== 0) return Fault.BAD_ADDRESS;
        ppn += vpn & (span - 1);
      }
      out[0] = ppn * 4096;
      if (access === 0) return level;
      if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
      // Hardware A/D update (Svadu): A on any access, D on a store.
      const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
      if ((lo & need) !== need) mem.write32(addr, (lo | need) >>> 0);
      out[1] = (lo | need) & Pte.D ? full : full & ~WRITE_CODES;
      return level;
    }
    // A pointer where only a leaf may be.
    return Fault.BAD_ADDRESS;
  },

  leafIn(words: Uint32Array, vpn: number, _bits: number, access: number, out: Float64Array): number {
    return leafIn(words, (vpn & 511) << 1, access, out);
  },

  leafFill(words: Uint32Array, vpn: number, _bits: number, access: number, tlb: Int32Array, k: number, out: Float64Array): number {
    return leafFill(words, (vpn & 511) << 1, vpn, access, tlb, k, out);
  },

  leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number {
    let table = root;
    for (let level = 2; level >= 1; level--) {
      const addr = table + ((vpn >>> (9 * level)) & 511) * 8;
      const lo = mem.read32(addr);
      if ((lo & Pte.V) === 0 || (lo & (Pte.R | Pte.W | Pte.X)) !== 0) return -1;
      table = frameOf(lo, mem.read32(addr + 4));
      if (!mem.isRam(table, 4096)) return -1;
    }
    out[0] = table;
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
