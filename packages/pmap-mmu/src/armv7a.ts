import { FaultCode, PageAttr } from '@vmlayers/phys';
import type { PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import { accessMask } from './internal/access-mask.js';
import { LeafBit } from './internal/format.js';
import type { PagingFormat } from './internal/format.js';
import { frameWords } from './internal/frame-words.js';
import { TableEntry } from './walk/walker-base.js';
import {
  Armv7a,
  Armv7aConfig,
  armv7aEntry,
  armv7aFrame,
  armv7aGlobal,
  armv7aIsSmall,
  armv7aIsTable,
  armv7aPageBits,
  armv7aRights,
  armv7aSecond,
  armv7aShift,
  armv7aSmall,
  armv7aTableBits,
  armv7aWalk,
} from './walk/armv7a.js';
import type { WalkCache } from './walk-cache.js';
import { makeFactory } from './factory.js';

/*
 * ARMv7-A short-descriptor translation (ARM ARM B3.5), SCTLR.AFE = 0 (AP[2:0] are all permission bits), SCTLR.TRE = 0
 * (TEX/C/B memory types), TTBCR.N = 1: TTBR0 translates [0, 2 GiB) through an 8 KiB level-1 table of 2048 entries,
 * TTBR1 everything above through a 16 KiB table of 4096 (its lower half unused). Every domain is a client (DACR),
 * so the descriptors' permissions are always checked.
 *
 * Level-1 descriptor (4 bytes, index VA[31:20]): bits[1:0] 00 fault; 01 coarse page table — PXN bit 2, NS 3,
 * domain 8:5, level-2 table base 31:10; 1x section (bit 18 = 0) — PXN bit 0, B 2, C 3, XN 4, domain 8:5,
 * AP[1:0] 11:10, TEX 14:12, AP[2] 15, S 16, nG 17, base 31:20; bit 18 = 1 a supersection.
 * Level-2 descriptor (index VA[19:12], 256 to a 1 KiB table): bits[1:0] 00 fault; 01 large page; 1x small page —
 * XN bit 0, B 2, C 3, AP[1:0] 5:4, TEX 8:6, AP[2] 9, S 10, nG 11, base 31:12.
 *
 * One frame holds four level-2 tables, linked from four consecutive level-1 descriptors (`pdi & ~3`, at
 * pa, pa + 0x400, pa + 0x800, pa + 0xC00), as the original's `_pmap_addTable`: `MmuPmap` handles the frame as one
 * leaf table of 1024 PTEs (word `vpn & 1023`, since the four tables lie in the order of their descriptors) and the
 * level-1 table as groups of four descriptors.
 *
 * The walk is the Armv7aWalker's (its core in `walk/armv7a.ts`): this file holds the encoders and adapters from the
 * core's answers to `PagingFormat`'s. So sections, supersections and large pages, which this pmap never writes,
 * translate as the hardware reads them when written by hand; `leaves()` lists them, `check()` accounts the memory
 * they map, `enter` refuses to overwrite them and `remove`/`protect` leave them alone, as hand-written superpages
 * on the other formats.
 */
const enum L1 {
  COARSE = 0x1,
}
const enum L2 {
  SMALL = 0x2,
  XN = 0x1,
  B = 0x4,
  C = 0x8,
  AP0 = 0x10,
  AP1 = 0x20,
  TEX0 = 0x40,
  AP2 = 0x200,
  S = 0x400,
  NG = 0x800,
}
const enum Fault {
  NOT_MAPPED = -1,
  PROTECTION = -2,
  BAD_ADDRESS = -5,
}
const MiB = 2 ** 20;
const KERNEL_BASE = 0xc000_0000;
const SPLIT = 0x8000_0000;

/**
 * The rights the walk core reads a leaf's AP[2:0] | XN << 3 | PXN << 4 as, with this pmap's settings (PXN
 * implemented, SCTLR.AFE/WXN/UWXN clear, every domain a client): the PL1 kinds | the PL0 kinds << 3 (`RIGHTS`, for
 * reports), and as the TLB's access mask (`PERM`, PL1 the supervisor context — no PAN — and PL0 the user one).
 */
const RIGHTS = new Int32Array(32);
const PERM = new Int32Array(32);
for (let key = 0; key < 32; key++) {
  const r = armv7aRights(key & 7, (key & 8) !== 0, (key & 16) !== 0, false, false, false);
  RIGHTS[key] = r;
  PERM[key] = accessMask(r & 7, r >>> 3);
}

// The walk core's scratch: the page's address, the second-level table and its bits; and the last descriptor read.
const walked = new Float64Array(3);
const entry = new TableEntry();

// A walk core fault as this pmap reports it: a Translation fault is NOT_MAPPED, a descriptor outside RAM (the
// external abort) BAD_ADDRESS. No Access flag faults: SCTLR.AFE is clear.
function faultOf(r: number): number {
  return r >= Armv7a.TRANSLATION_L2 ? Fault.NOT_MAPPED : Fault.BAD_ADDRESS;
}

/** The page `vpn` at word `i` of a leaf-table frame's words under level-1 PXN `pxn` (0/1): the walk's answer. */
function leafIn(words: Uint32Array, i: number, pxn: number, vpn: number, access: number, out: Float64Array): number {
  const d = words[i];
  const full = armv7aSecond(d, pxn, Armv7aConfig.PXN, PERM);
  if (full < 0) return faultOf(full);
  out[0] = armv7aPageBits(d, vpn) >>> 0;
  if (access === 0) return 0;
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  out[1] = full;
  return 0;
}

// The walk core's functions the miss path calls, as module-local bindings: a call through an imported binding
// (a module cell and its hole check on every call) measured ~1 ns more per TLB miss (13.4 ns against 12.4 ns).
const isSmall = armv7aIsSmall;
const small = armv7aSmall;
const pageBits = armv7aPageBits;

/**
 * leafIn for a TLB miss (see `PagingFormat.leafFill`): every page lies below 4 GiB. A small page, the one leaf this
 * pmap writes, is decoded in line; anything else (a fault, a large page written by hand) out of line, which keeps
 * this small enough for V8 to inline into the miss path whole.
 */
function leafFill(words: Uint32Array, i: number, pxn: number, vpn: number, access: number, tlb: Int32Array, k: number): number {
  const d = words[i];
  if (!isSmall(d)) return leafFillAny(words, i, pxn, vpn, access, tlb, k);
  const full = small(d, pxn, Armv7aConfig.PXN, PERM);
  if (full < 0) return faultOf(full);
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  tlb[k] = vpn;
  tlb[k + 1] = pageBits(d, vpn) | ((full >>> 1) & 0x303) | ((full >>> 2) & 0x404);
  return 1;
}

// leafFill of any second-level descriptor.
function leafFillAny(words: Uint32Array, i: number, pxn: number, vpn: number, access: number, tlb: Int32Array, k: number): number {
  const d = words[i];
  const full = armv7aSecond(d, pxn, Armv7aConfig.PXN, PERM);
  if (full < 0) return faultOf(full);
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  tlb[k] = vpn;
  tlb[k + 1] = armv7aPageBits(d, vpn) | ((full >>> 1) & 0x303) | ((full >>> 2) & 0x404);
  return 1;
}

/**
 * The leaf-table frame of a group of four level-1 descriptors at `addr` when they are the four coarse tables of one
 * frame in order with the same PXN (what this pmap writes), else -1: only such a group can be read as one frame.
 */
function groupFrame(mem: PhysicalMemory, addr: number): number {
  const d0 = mem.read32(addr);
  if (!armv7aIsTable(d0) || (d0 & 0xc00) !== 0) return -1;
  const frame = (d0 & 0xffff_f000) >>> 0;
  for (let j = 1; j < 4; j++) {
    const d = mem.read32(addr + 4 * j);
    if (d !== d0 + j * 0x400) return -1;
  }
  return frame;
}

// The hardware level of a descriptor `MmuPmap` finds at its `level` (0: a leaf-table entry, 1: a root group's).
function hwLevel(level: number): number {
  return level === 0 ? 2 : 1;
}

const format: PagingFormat = {
  name: 'armv7a',
  levels: 2,
  // MmuPmap's view: 1024 leaf PTEs a frame (four level-2 tables), 1024 groups of four level-1 descriptors.
  indexBits: 10,
  pteSize: 4,
  vaLimit: 2 ** 32,
  paLimit: 2 ** 32,
  userRange: [4096, SPLIT],
  kernelRange: [KERNEL_BASE, 2 ** 32],
  defaultBoard: 'zynq7000-256m',
  capabilities: Object.freeze({
    hasMmu: true,
    execProtect: true,
    // VMSAv7 has no execute-only memory: an instruction fetch needs read permission.
    execImpliesRead: true,
    supervisorReadsUser: true,
    sharedKernelHalf: true,
    // No dirty bit in short descriptors, and AF only as AP[0] with SCTLR.AFE = 1 (software-managed): nothing to age
    // pages by, as on the original's armv7a.
    accessedDirty: false,
  }),
  badVaCode: FaultCode.BAD_ADDRESS,
  // Two base registers: the user's TTBR0 table holds 512 groups (2048 descriptors, 8 KiB), no entry is copied.
  kernelRootFirst: 512,
  kernelRootEnd: 512,
  splitVpn: SPLIT / 4096,
  // TTBR1's table is indexed by VA[31:20] like TTBR0's: its entry 0 is address 0.
  kernelRootBase: 0,
  asids: 255,
  adBits: 0,
  accessedBit: 0,
  dirtyBit: 0,
  rootBytes: { kernel: 16 * 1024, user: 8 * 1024 },
  rootEntryBytes: 16,
  // A small page (1x) or a large page (01): any of bits[1:0]; this pmap's own entries set bit 0 only with bit 1.
  leafValidMask: 3,
  // A level-1 page-table descriptor (01), or a section or supersection written by hand (1x).
  upperValidMask: 3,

  // The original's `_pmap_kernelSpaceExpand` amount, as Sv39: max(RAM/4, 8 MiB) in 4 MiB steps (a frame of level-2
  // tables each); later ones are linked into the kernel's TTBR1 table, which every space walks.
  bootExpand(ramSize: number): number {
    const want = Math.max(ramSize / 4, 8 * MiB);
    return Math.min(Math.ceil(want / (4 * MiB)) * 4 * MiB, 2 ** 32 - KERNEL_BASE);
  },

  // AP from the rights: PL1 RW 001, PL1 R 101, PL0 RW 011, PL0 R 111; XN without EXEC; nG unless GLOBAL; Normal
  // memory write-back write-allocate shareable (TEX 001 C B S), UNCACHED Normal non-cacheable (TEX 001), DEVICE
  // shareable Device (TEX 000 B), as the original's TT2S_CACHED / TT2S_NOTCACHED / TT2S_SHARED_DEV. Without
  // PRESENT bits[1:0] are 00 (a fault entry, every other bit ignored by the hardware and kept for `protect`); the
  // memory-type bits keep it from being all zeros.
  leafLo(pa: number, attr: number): number {
    let pte = pa;
    if (attr & PageAttr.PRESENT) pte |= L2.SMALL | (attr & PageAttr.EXEC ? 0 : L2.XN);
    pte |= attr & PageAttr.USER ? (attr & PageAttr.WRITE ? L2.AP1 | L2.AP0 : L2.AP2 | L2.AP1 | L2.AP0) : attr & PageAttr.WRITE ? L2.AP0 : L2.AP2 | L2.AP0;
    if (!(attr & PageAttr.GLOBAL)) pte |= L2.NG;
    if (attr & PageAttr.DEVICE) pte |= L2.B;
    else if (attr & PageAttr.UNCACHED) pte |= L2.TEX0;
    else pte |= L2.TEX0 | L2.C | L2.B | L2.S;
    return pte >>> 0;
  },

  leafHi(): number {
    return 0;
  },

  pointerLo(pa: number): number {
    return (pa | L1.COARSE) >>> 0;
  },

  pointerHi(): number {
    return 0;
  },

  // Four coarse descriptors, one per 1 KiB level-2 table of the frame, domain 0, PXN clear.
  writePointer(mem: PhysicalMemory, addr: number, pa: number): void {
    for (let j = 0; j < 4; j++) mem.write32(addr + 4 * j, (pa + j * 0x400) | L1.COARSE);
  },

  frameOf(lo: number): number {
    return (lo & 0xffff_f000) >>> 0;
  },

  // What the walk core reads in the descriptor (a coarse-table pointer at a root group: reported present, so it is
  // descended), as LeafBit bits.
  leafBits(lo: number, _hi: number, level = 0): number {
    const r = armv7aEntry(lo, hwLevel(level), 0, Armv7aConfig.PXN, RIGHTS);
    if (r === Armv7a.TABLE) return LeafBit.PRESENT;
    if (r < 0) return 0;
    return (
      LeafBit.PRESENT |
      ((r & 0o11) !== 0 ? LeafBit.READ : 0) |
      ((r & 0o22) !== 0 ? LeafBit.WRITE : 0) |
      ((r & 0o44) !== 0 ? LeafBit.EXEC : 0) |
      ((r & 0o70) !== 0 ? LeafBit.USER : 0) |
      (armv7aGlobal(lo, hwLevel(level)) ? LeafBit.GLOBAL : 0)
    );
  },

  leafFrame(lo: number, _hi: number, level: number, vpn: number): number {
    return armv7aFrame(lo, hwLevel(level), vpn * 4096);
  },

  // A large page (64 KiB) and a supersection (16 MiB) are each 16 replicated descriptors.
  leafPages(lo: number, _hi: number, level: number): number {
    return 2 ** (armv7aShift(lo, hwLevel(level)) - 12);
  },

  isPointer(lo: number, level: number): boolean {
    return level > 0 && armv7aIsTable(lo);
  },

  walk(mem: PhysicalMemory, root: number, vpn: number, access: number, out: Float64Array, cache: WalkCache | null): number {
    const key = vpn >>> 10;
    if (cache !== null) {
      const c = key & (cache.size - 1);
      if (cache.key[c] === key) {
        let words = cache.words[c];
        if (words === null) words = cache.words[c] = frameWords(mem, cache.table[c]);
        if (words !== null) return leafIn(words, vpn & 1023, cache.bits[c] & 1, vpn, access, out);
        // No host memory behind the frame yet: every PTE reads as zero.
        return Fault.NOT_MAPPED;
      }
    }
    const r = armv7aWalk(mem, root, vpn * 4096, -1, 0, Armv7aConfig.PXN, PERM, walked, entry);
    // A group as this pmap links it is cached as one frame of 1024 PTEs once its table was read, whatever the leaf.
    if (walked[1] >= 0 && r !== Armv7a.ABORT_L2 && access !== 0 && cache !== null) {
      const frame = groupFrame(mem, root + (vpn >>> 10) * 16);
      if (frame >= 0) cache.fill(key, frame, walked[2] >>> 4, frameWords(mem, frame));
    }
    if (r < 0) return faultOf(r);
    out[0] = walked[0];
    const level = r >>> Armv7a.SIZE_SHIFT >= 20 ? 1 : 0;
    if (access === 0) return level;
    const full = r & Armv7a.PERM_MASK;
    if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
    out[1] = full;
    return level;
  },

  leafIn(words: Uint32Array, vpn: number, bits: number, access: number, out: Float64Array): number {
    return leafIn(words, vpn & 1023, bits & 1, vpn, access, out);
  },

  leafFill(words: Uint32Array, vpn: number, bits: number, access: number, tlb: Int32Array, k: number): number {
    return leafFill(words, vpn & 1023, bits & 1, vpn, access, tlb, k);
  },

  leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number {
    const frame = groupFrame(mem, root + (vpn >>> 10) * 16);
    if (frame < 0 || !mem.isRam(frame, 4096)) return -1;
    out[0] = frame;
    // The walk cache's bits: 1 for a PXN level-1 descriptor.
    out[1] = armv7aTableBits(mem.read32(root + (vpn >>> 10) * 16), Armv7aConfig.PXN) >>> 4;
    return 0;
  },
};

/**
 * ARMv7-A short-descriptor translation (TTBCR.N = 1): a 16 KiB level-1 table for the kernel (TTBR1) and an 8 KiB one
 * per user space (TTBR0, [0, 2 GiB)), coarse level-2 tables of 256 small-page descriptors packed four to a frame,
 * 4 KiB pages, AP[2:0] / XN / PXN, 8-bit ASIDs on the original's 255-entry allocator. Kernel range
 * `[0xC0000000, 2^32)`, user range `[0x1000, 0x80000000)`. No accessed or dirty bits (`referenced`/`dirty` throw
 * `ENOSYS`).
 */
export const armv7a: PmapFactory = makeFactory(format);
