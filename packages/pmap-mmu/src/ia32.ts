import { FaultCode, PageAttr } from '@vmlayers/phys';
import type { PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import { accessMask } from './internal/access-mask.js';
import { LeafBit, type PagingFormat } from './internal/format.js';
import { frameWords } from './internal/frame-words.js';
import type { WalkCache } from './walk-cache.js';
import { makeFactory } from './factory.js';

/*
 * 32-bit paging (Intel SDM vol. 3A §4.3): a page directory of 1024 4-byte PDEs, page tables of 1024 4-byte
 * PTEs, 4 KiB pages. CR4.PSE is off (PDE bit 7 is ignored, no 4 MiB pages), there is no NX bit without PAE,
 * CR0.WP=1 (supervisor writes honour R/W), and neither SMEP nor SMAP is on (supervisor may touch user pages).
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
// The values of phys's FaultCode (checked in test/layout.test.ts).
const enum Fault {
  NOT_MAPPED = -1,
  PROTECTION = -2,
  BAD_ADDRESS = -5,
}

const KERNEL_BASE = 0xc000_0000;
const VA_LIMIT = 2 ** 32;
// The whole kernel half is built at boot (256 page tables): the original's page directories copy the kernel
// PDEs by value, so a kernel page table added later would be missing from every existing address space.
const KERNEL_SIZE = VA_LIMIT - KERNEL_BASE;

/**
 * The access codes a present page allows, by the flag byte of its PTE ANDed with its PDE (P RW US …): read and
 * execute always (no NX), write with RW (CR0.WP=1: in supervisor mode too), user mode with US; the supervisor may
 * touch user pages (no SMEP/SMAP). Entries with P clear never get here.
 */
const LEAF_PERM = new Int32Array(256);
for (let b = 0; b < 256; b++) {
  const kinds = Kind.READ | Kind.EXEC | (b & Pte.RW ? Kind.WRITE : 0);
  LEAF_PERM[b] = b & Pte.P ? accessMask(kinds, b & Pte.US ? kinds : 0) : 0;
}
/** The access codes with the WRITE bit (2, 3, 6, 7 and their USER forms): left out while D is clear. */
const WRITE_CODES = 0xcccc;

/**
 * The PTE at index `i` of a page table's words (a live view of RAM) under a PDE with bits `pde`: the walk's answer
 * for it, with A/D written straight into the view.
 */
function leafIn(words: Uint32Array, i: number, pde: number, access: number, out: Float64Array): number {
  const pte = words[i];
  if ((pte & Pte.P) === 0) return Fault.NOT_MAPPED;
  out[0] = (pte & 0xffff_f000) >>> 0;
  if (access === 0) return 0;
  // Every PDE here is P: the AND keeps P from the PTE, and RW/US from both levels.
  const full = LEAF_PERM[pte & pde & 0xff];
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
  if ((pte & need) !== need) words[i] = pte | need;
  out[1] = (pte | need) & Pte.D ? full : full & ~WRITE_CODES;
  return 0;
}

/** leafIn for a TLB miss (see `PagingFormat.leafFill`): every ia32 frame lies below 4 GiB. */
function leafFill(words: Uint32Array, i: number, pde: number, vpn: number, access: number, tlb: Int32Array, k: number): number {
  const pte = words[i];
  if ((pte & Pte.P) === 0) return Fault.NOT_MAPPED;
  const full = LEAF_PERM[pte & pde & 0xff];
  if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
  const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
  if ((pte & need) !== need) words[i] = pte | need;
  const perm = (pte | need) & Pte.D ? full : full & ~WRITE_CODES;
  const frame = pte & 0xffff_f000;
  tlb[k] = vpn;
  // The hit word (see Tlb): the frame, supervisor kinds at bits 0–2 and user kinds at 8–10, from `perm`.
  tlb[k + 1] = frame | ((perm >>> 1) & 0x303) | ((perm >>> 2) & 0x404);
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

  isPointer(_lo: number, level: number): boolean {
    return level > 0;
  },

  walk(mem: PhysicalMemory, root: number, vpn: number, access: number, out: Float64Array, cache: WalkCache | null): number {
    const key = vpn >>> 10;
    let pde: number;
    let table: number;
    const c = cache === null ? 0 : key & (cache.size - 1);
    if (cache !== null && cache.key[c] === key) {
      pde = cache.bits[c];
      let words = cache.words[c];
      // A table whose frame held no host memory when cached may have been written since.
      if (words === null) words = cache.words[c] = frameWords(mem, cache.table[c]);
      if (words !== null) return leafIn(words, vpn & 1023, pde, access, out);
      table = cache.table[c];
    } else {
      const pdeAddr = root + key * 4;
      pde = mem.read32(pdeAddr);
      if ((pde & Pte.P) === 0) return Fault.NOT_MAPPED;
      table = (pde & 0xffff_f000) >>> 0;
      // Only a directory edited by hand points outside RAM; the bus would fault there.
      if (!mem.isRam(table, 4096)) return Fault.BAD_ADDRESS;
      if (access !== 0) {
        // The processor sets A in every paging-structure entry it uses, whatever the outcome of the access.
        if ((pde & Pte.A) === 0) mem.write32(pdeAddr, (pde | Pte.A) >>> 0);
        if (cache !== null) {
          const words = frameWords(mem, table);
          cache.fill(key, table, pde | Pte.A, words);
          if (words !== null) return leafIn(words, vpn & 1023, pde, access, out);
        }
      }
    }
    const pteAddr = table + (vpn & 1023) * 4;
    const pte = mem.read32(pteAddr);
    if ((pte & Pte.P) === 0) return Fault.NOT_MAPPED;
    out[0] = (pte & 0xffff_f000) >>> 0;
    if (access === 0) return 0;
    const full = LEAF_PERM[pte & pde & 0xff];
    if (((full >>> access) & 1) === 0) return Fault.PROTECTION;
    const need = access & Kind.WRITE ? Pte.A | Pte.D : Pte.A;
    if ((pte & need) !== need) mem.write32(pteAddr, (pte | need) >>> 0);
    out[1] = (pte | need) & Pte.D ? full : full & ~WRITE_CODES;
    return 0;
  },

  leafIn(words: Uint32Array, vpn: number, bits: number, access: number, out: Float64Array): number {
    return leafIn(words, vpn & 1023, bits, access, out);
  },

  leafFill(words: Uint32Array, vpn: number, bits: number, access: number, tlb: Int32Array, k: number): number {
    return leafFill(words, vpn & 1023, bits, vpn, access, tlb, k);
  },

  leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number {
    const pde = mem.read32(root + (vpn >>> 10) * 4);
    if ((pde & Pte.P) === 0 || !mem.isRam((pde & 0xffff_f000) >>> 0, 4096)) return -1;
    out[0] = (pde & 0xffff_f000) >>> 0;
    out[1] = pde;
    return 0;
  },
};

/**
 * ia32 two-level 32-bit paging: 4-byte PDE/PTE (P, RW, US, PWT, PCD, A, D), 4 KiB pages, no execute
 * protection. Kernel half `[0xC0000000, 0x100000000)` built whole at boot and copied into every page directory;
 * user space `[0x1000, 0xC0000000)`.
 */
export const ia32: PmapFactory = makeFactory(format);
