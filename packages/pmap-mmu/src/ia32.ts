import { FaultCode, PageAttr } from '@vmlayers/phys';
import type { PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import { accessMask } from './internal/access-mask.js';
import { LeafBit, type PagingFormat } from './internal/format.js';
import { frameWords } from './internal/frame-words.js';
import type { WalkCache } from './walk-cache.js';
import { X86Core, X86Walk, x86LeafFault, x86LeafRights } from './walk/x86.js';
import { makeFactory } from './factory.js';

/*
 * 32-bit paging (Intel SDM vol. 3A §4.3): a page directory of 1024 4-byte PDEs, page tables of 1024 4-byte
 * PTEs, 4 KiB pages. The walk is the x86 walker's (src/walk/x86.ts) on the hardware this pmap models: CR0.WP=1
 * (supervisor writes honour R/W), CR4.PSE (a PDE with PS maps 4 MiB: this pmap writes none, a hand-written one is
 * walked as the processor walks it), no NX bit without PAE, neither SMEP nor SMAP (supervisor may touch user pages).
 */
// Const enums: the compiler inlines them as literals, so the walk reads no module-scope binding for them. SW_ENTERED
// (AVL bit 9) marks a PTE that `enter` wrote without PRESENT: the SDM leaves bits 1–31 of a not-present entry to
// software, so the frame and attributes survive for `protect`.
const enum Pte {
  P = 0x01,
  RW = 0x02,
  US = 0x04,
  PWT = 0x08,
  PCD = 0x10,
  A = 0x20,
  D = 0x40,
  G = 0x100,
  SW_ENTERED = 0x200,
}
// Access kinds (phys's Access.READ/WRITE/EXEC).
const enum Kind {
  READ = 1,
  WRITE = 2,
  EXEC = 4,
}
// The values of phys's FaultCode (checked in test/layout.test.ts). The core's faults are X86Fault: INVALID is
// NOT_MAPPED, every other (-5 and below: a reserved bit, a table outside RAM) answers BAD_ADDRESS.
const enum Fault {
  NOT_MAPPED = -1,
  PROTECTION = -2,
  BAD_ADDRESS = -5,
}
// X86Bits, the core's rights word (a const enum of another module is no literal here).
const enum Rights {
  POINTER = 0x1,
  ALL = 0x6,
}

const KERNEL_BASE = 0xc000_0000;
const VA_LIMIT = 2 ** 32;
// The whole kernel half is built at boot (256 page tables): the original's page directories copy the kernel
// PDEs by value, so a kernel page table added later would be missing from every existing address space.
const KERNEL_SIZE = VA_LIMIT - KERNEL_BASE;

// The hardware of the header comment. MAXPHYADDR 36 (the walker's default): a hand-written 4 MiB page may reach
// 64 GiB through PSE-36, the pmap answers such a frame through `out` as any frame above 4 GiB.
const CORE = new X86Core('ia32', {
  wp: true,
  pse: true,
  pge: true,
  nxe: false,
  smep: false,
  smap: false,
  pcide: false,
  gbPages: false,
  maxPhysAddr: 36,
});
// The core's leaf step for the TLB miss, bound to module-local names (an imported binding is a cell load and a
// check at each use); ia32 PTEs have no high word, so no reserved high bits and no XD.
const leafFault = x86LeafFault;
const leafRights = x86LeafRights;
// Where a full walk leaves what it found (a walk runs to its end before the next begins).
const FOUND = new X86Walk();

/**
 * The access codes a page allows, by the core's effective rights (`(rights >>> 1) & 7`): its permission word for a
 * supervisor without EFLAGS.AC (no SMAP here, so AC changes nothing) and for user mode, as an access mask.
 */
const LEAF_PERM = new Int32Array(8);
for (let b = 0; b < 8; b++) LEAF_PERM[b] = accessMask(CORE.rights[b] & 7, (CORE.rights[b] >>> 3) & 7);
/** The access codes with the WRITE bit (2, 3, 6, 7 and their USER forms): left out while D is clear. */
const WRITE_CODES = 0xcccc;
/**
 * The kinds bits of a TLB hit word (see Tlb: supervisor kinds at bits 0–2, user kinds at 8–10) by effective rights
 * and the leaf's D (bit 3): LEAF_PERM's codes, the write codes left out while D is clear. A table rather than the
 * shifts that make them: the TLB miss is a few operations shorter.
 */
const HIT_KINDS = new Int32Array(16);
for (let b = 0; b < 16; b++) {
  const perm = b & 8 ? LEAF_PERM[b & 7] : LEAF_PERM[b & 7] & ~WRITE_CODES;
  HIT_KINDS[b] = ((perm >>> 1) & 0x303) | ((perm >>> 2) & 0x404);
}

/**
 * The PTE at index `i` of a page table's words (a live view of RAM) under rights `bits` gathered above it (the walk
 * cache's word): the walk's answer for it, with A/D written straight into the view.
 */
function leafIn(words: Uint32Array, i: number, bits: number, access: number, out: Float64Array): number {
  const pte = words[i];
  const f = CORE.leafFault(pte, 0);
  if (f !== 0) return f < Fault.NOT_MAPPED ? Fault.BAD_ADDRESS : Fault.NOT_MAPPED;
  out[0] = CORE.pageAddress(pte, 0, 0, 0);
  if (access === 0) return 0;
  const full = LEAF_PERM[(CORE.leafRights(pte, 0, bits) >>> 1) & 7];
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
  if ((pte & need) !== need) words[i] = pte | need;
  out[1] = (pte | need) & Pte.D ? full : full & ~WRITE_CODES;
  return 0;
}

/** leafIn for a TLB miss (see `PagingFormat.leafFill`): every frame a PTE holds lies below 4 GiB. */
function leafFill(words: Uint32Array, i: number, bits: number, vpn: number, access: number, tlb: Int32Array, k: number): number {
  const pte = words[i];
  const f = leafFault(pte, 0, 0);
  if (f !== 0) return f < Fault.NOT_MAPPED ? Fault.BAD_ADDRESS : Fault.NOT_MAPPED;
  const rights = (leafRights(pte, 0, bits, 0) >>> 1) & 7;
  if (((LEAF_PERM[rights] >>> access) & 1) === 0) return Fault.PROTECTION;
  const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
  const entry = pte | need;
  if (entry !== pte) words[i] = entry;
  tlb[k] = vpn;
  // The hit word (see Tlb): the frame (the PTE's bits 31:12, an int32 as the slot holds it) and HIT_KINDS's bits.
  tlb[k + 1] = (pte & 0xffff_f000) | HIT_KINDS[rights | ((entry >>> 3) & 8)];
  return 1;
}

const format: PagingFormat = {
  name: 'ia32',
  levels: 2,
  indexBits: 10,
  pteSize: 4,
  vaLimit: VA_LIMIT,
  paLimit: VA_LIMIT,
  userRange: [4096, KERNEL_BASE],
  kernelRange: [KERNEL_BASE, VA_LIMIT],
  defaultBoard: 'ia32-pc-32m',
  capabilities: Object.freeze({
    hasMmu: true,
    execProtect: false,
    supervisorReadsUser: true,
    sharedKernelHalf: true,
    accessedDirty: true,
  }),
  badVaCode: FaultCode.BAD_ADDRESS,
  kernelRootFirst: KERNEL_BASE >>> 22,
  kernelRootEnd: 1024,
  // One root: user roots copy the kernel's entries; no ASIDs (each address space owns its TLB).
  splitVpn: Infinity,
  asids: 0,
  adBits: Pte.A | Pte.D,
  accessedBit: Pte.A,
  dirtyBit: Pte.D,

  bootExpand(): number {
    return KERNEL_SIZE;
  },

  // READ and EXEC have no bits: a present page is readable and executable. UNCACHED is the original's
  // PGHD_NOT_CACHED (PCD, UC-), DEVICE its PGHD_DEV (PCD|PWT, UC).
  leafLo(pa: number, attr: number): number {
    let bits = attr & PageAttr.PRESENT ? Pte.P : Pte.SW_ENTERED;
    if (attr & PageAttr.WRITE) bits |= Pte.RW;
    if (attr & PageAttr.USER) bits |= Pte.US;
    if (attr & PageAttr.DEVICE) bits |= Pte.PCD | Pte.PWT;
    else if (attr & PageAttr.UNCACHED) bits |= Pte.PCD;
    if (attr & PageAttr.GLOBAL) bits |= Pte.G;
    return pa + bits;
  },

  leafHi(): number {
    return 0;
  },

  // The PDE grants everything (as the original's PTHD_*): the PTE alone decides, the effective rights being
  // the AND of both levels.
  pointerLo(pa: number): number {
    return pa + (Pte.P | Pte.RW | Pte.US);
  },

  pointerHi(): number {
    return 0;
  },

  frameOf(lo: number): number {
    return (lo & 0xffff_f000) >>> 0;
  },

  // A 4 MiB page written by hand: its address bits sit above PAT (bit 12), with PSE-36's bits 39:32 at 20:13; the
  // walk's reading of them, for reports and checks.
  leafFrame(lo: number, hi: number, level: number, vpn: number): number {
    return CORE.pageAddress(lo, hi, level, vpn);
  },

  // Without PAE there is no NX: a present page can be read and executed; RW makes it writable. The pointers this
  // pmap writes allow everything (P|RW|US), so the leaf's bits are the effective ones.
  leafBits(lo: number): number {
    if ((lo & Pte.P) === 0) return 0;
    return (
      LeafBit.PRESENT |
      LeafBit.READ |
      LeafBit.EXEC |
      (lo & Pte.RW ? LeafBit.WRITE : 0) |
      (lo & Pte.US ? LeafBit.USER : 0) |
      (lo & Pte.G ? LeafBit.GLOBAL : 0) |
      (lo & Pte.A ? LeafBit.ACCESSED : 0) |
      (lo & Pte.D ? LeafBit.DIRTY : 0)
    );
  },

  // A PDE with PS maps 4 MiB (hand-written only); one with a reserved bit points nowhere either.
  isPointer(lo: number, level: number): boolean {
    const d = CORE.entry(lo, 0, level);
    return d >= 0 && (d & Rights.POINTER) !== 0;
  },

  walk(mem: PhysicalMemory, root: number, vpn: number, access: number, out: Float64Array, cache: WalkCache | null): number {
    const key = vpn >>> 10;
    const w = FOUND;
    let level: number;
    const c = cache === null ? 0 : key & (cache.size - 1);
    if (cache !== null && cache.key[c] === key) {
      let words = cache.words[c];
      // A table whose frame held no host memory when cached may have been written since.
      if (words === null) words = cache.words[c] = frameWords(mem, cache.table[c]);
      if (words !== null) return leafIn(words, vpn & 1023, cache.bits[c], access, out);
      level = CORE.descend(mem, cache.table[c], 0, vpn, cache.bits[c], access !== 0, w);
    } else {
      level = CORE.descend(mem, root, 1, vpn, Rights.ALL, access !== 0, w);
      // A page table is cached once an access has walked through it; one that is not all RAM (only a directory
      // edited by hand points there) has no view, and is not cached.
      if (access !== 0 && cache !== null && w.table >= 0 && mem.isRam(w.table, 4096)) {
        cache.fill(key, w.table, w.tableRights, frameWords(mem, w.table));
      }
    }
    if (level < 0) return level < Fault.NOT_MAPPED ? Fault.BAD_ADDRESS : Fault.NOT_MAPPED;
    out[0] = w.pa;
    if (access === 0) return level;
    const full = LEAF_PERM[(w.rights >>> 1) & 7];
    if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
    const lo = w.lo;
    const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
    if ((lo & need) !== need) mem.write32(w.addr, (lo | need) >>> 0);
    out[1] = (lo | need) & Pte.D ? full : full & ~WRITE_CODES;
    return level;
  },

  leafIn(words: Uint32Array, vpn: number, bits: number, access: number, out: Float64Array): number {
    return leafIn(words, vpn & 1023, bits, access, out);
  },

  leafFill(words: Uint32Array, vpn: number, bits: number, access: number, tlb: Int32Array, k: number): number {
    return leafFill(words, vpn & 1023, bits, vpn, access, tlb, k);
  },

  leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number {
    const w = FOUND;
    CORE.descend(mem, root, 1, vpn, Rights.ALL, false, w);
    // As walk caches it: a table that is not all RAM is none.
    if (w.table < 0 || !mem.isRam(w.table, 4096)) return -1;
    out[0] = w.table;
    out[1] = w.tableRights;
    return 0;
  },
};

/**
 * ia32 two-level 32-bit paging: 4-byte PDE/PTE (P, RW, US, PWT, PCD, A, D), 4 KiB pages, no execute
 * protection. Kernel half `[0xC0000000, 0x100000000)` built whole at boot and copied into every page directory;
 * user space `[0x1000, 0xC0000000)`.
 */
export const ia32: PmapFactory = makeFactory(format);
