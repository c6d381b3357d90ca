/*
 * x86 page-table walkers: 32-bit paging (with CR4.PSE 4 MiB pages and PSE-36), PAE paging (with EFER.NXE and 2 MiB
 * pages) and 4-level paging (2 MiB and 1 GiB pages), after the Intel SDM vol. 3A chapter 4 ("Paging"): the
 * access-rights rules of §4.6 (CR0.WP, SMEP, SMAP with EFLAGS.AC, NX), the page-fault error code of §4.7, the A/D
 * updates of §4.8, and the TLB rules of §4.10 (global pages with CR4.PGE, PCIDs, INVLPG, MOV to CR3).
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { WalkerBase } from './walker-base.js';
import type { PageWalker, TranslateOptions, WalkFaultKind } from './types.js';
import { checkAccess, checkAsid, checkOptionsObject, checkRoot, resultOf } from './types.js';

/** The x86 formats: `ia32` 32-bit paging, `pae` PAE paging, `x86-64` 4-level paging. */
export type X86Format = 'ia32' | 'pae' | 'x86-64';

/** The control-register bits and processor properties a walker runs with (fixed for the walker's life). */
export interface X86WalkerOptions {
  /** CR0.WP (default true): supervisor writes honour R/W. Without it the supervisor writes any page. */
  readonly wp?: boolean;
  /** CR4.PSE (32-bit paging only, default true): a PDE with PS=1 maps a 4 MiB page; without it PS is ignored. */
  readonly pse?: boolean;
  /** CR4.PGE (default true): the G bit of a leaf makes its TLB entry global (kept across CR3 loads and PCIDs). */
  readonly pge?: boolean;
  /** IA32_EFER.NXE (PAE and 4-level only, default true): bit 63 is XD; without it bit 63 is reserved. */
  readonly nxe?: boolean;
  /** CR4.SMEP (default false): supervisor fetches from user pages fault. */
  readonly smep?: boolean;
  /** CR4.SMAP (default false): supervisor data accesses to user pages fault unless EFLAGS.AC (`options.sum`). */
  readonly smap?: boolean;
  /** CR4.PCIDE (4-level only, default false): TLB entries carry the PCID given as `options.asid` (12 bits). */
  readonly pcide?: boolean;
  /** 1 GiB pages supported (4-level only, default true); without them PS in a PDPTE is reserved. */
  readonly gbPages?: boolean;
  /**
   * MAXPHYADDR, 32 … 52 (default 36 for `ia32` and `pae`, 48 for `x86-64`): address bits at and above it in an
   * entry are reserved (RSVD); for 32-bit paging's 4 MiB pages (PSE-36) it is capped at 40.
   */
  readonly maxPhysAddr?: number;
  /** TLB slots, a power of two (default 256). */
  readonly tlbSize?: number;
}

/** The options of {@link X86Walker.loadCr3}. */
export interface LoadCr3Options {
  /** The PCID of the new CR3 (bits 11:0); 0 unless the walker has `pcide`. */
  readonly pcid?: number;
  /** Bit 63 of the source operand (with `pcide` only): load without invalidating anything. */
  readonly noflush?: boolean;
}

const enum E {
  P = 0x001,
  RW = 0x002,
  US = 0x004,
  A = 0x020,
  D = 0x040,
  PS = 0x080,
  G = 0x100,
}

// Exception vectors and #PF error-code bits (SDM vol. 3A §4.7, Figure 4-12).
const VEC_GP = 13;
const VEC_PF = 14;
const VEC_MC = 18;
const PF_P = 1;
const PF_WR = 2;
const PF_US = 4;
const PF_RSVD = 8;
const PF_ID = 16;

// The write bit of each of the four privilege contexts (user | AC << 1) in a TLB permission word.
const WRITE_BITS = 0x492;

interface Geometry {
  readonly levels: number; // tables walked in RAM, PAE's PDPTE registers included
  readonly pteSize: 4 | 8;
  readonly rootAlign: number;
  readonly defaultMaxPhys: number;
}

const GEOMETRY: Readonly<Record<X86Format, Geometry>> = {
  ia32: { levels: 2, pteSize: 4, rootAlign: 4096, defaultMaxPhys: 36 },
  // CR3 holds a 32-byte aligned PDPT address in PAE paging.
  pae: { levels: 3, pteSize: 8, rootAlign: 32, defaultMaxPhys: 36 },
  'x86-64': { levels: 4, pteSize: 8, rootAlign: 4096, defaultMaxPhys: 48 },
};

/*
 * The walk core: the one implementation of the x86 walk, shared by X86Walker's miss path and the ia32 pmap's
 * format object (src/ia32.ts). It decodes entries and descends the tables; what each consumer does with the result
 * (the walker's fault record and TLB fill, the pmap's access masks, probe mode and TLB slot) stays with it. A class
 * rather than module functions: its methods inline into both callers as calls on one monomorphic object, where an
 * imported function is, under some loaders (tsx), a getter on the module namespace first.
 */

/**
 * @internal The rights an entry grants and a walk gathers, in one word: R/W and U/S at their entry positions (ANDed
 * over the levels), XD as bit 3 (ORed), and, from {@link X86Core.entry} only, bit 0 set for an entry that points to
 * a table. The effective rights index the permission words of {@link X86Core.rights} as `(bits >>> 1) & 7`.
 */
export const enum X86Bits {
  POINTER = 0x1,
  RW = 0x2,
  US = 0x4,
  XD = 0x8,
  /** Where a walk starts: every right, no XD. */
  ALL = 0x6,
}

/**
 * @internal The walk core's faults (negative; `INVALID` and `RESERVED` are `FaultCode.NOT_MAPPED` and
 * `FaultCode.BAD_ADDRESS`, which the pmap returns as they are).
 */
export const enum X86Fault {
  /** P clear: a not-present #PF. */
  INVALID = -1,
  /** A reserved bit in a present entry, or a large page's misaligned address bits: a #PF with RSVD. */
  RESERVED = -5,
  /** A reserved bit in a present PAE PDPTE: the #GP(0) of the MOV to CR3 that would have loaded it. */
  PDPTE_RESERVED = -6,
  /** The entry lies outside RAM: what the platform answers (a machine check, for the walker). */
  PTE_ACCESS = -7,
}

/** @internal The control-register settings the core walks with: {@link X86Walker.config}. */
export type X86Config = Readonly<Required<Omit<X86WalkerOptions, 'tlbSize'>>>;

/**
 * @internal What {@link X86Core.descend} (or {@link X86Core.leafAt}) found: the entry it stopped at (the leaf, or the one that faulted) and, for
 * a leaf, the effective rights and the page's address; and the last-level table it went through, for the
 * paging-structure caches. Reused across walks: no allocation.
 */
export class X86Walk {
  /** The address of the entry the walk stopped at. */
  addr = 0;
  /** That entry's level (0 = a PTE). */
  level = 0;
  /** Its bits 0–31 and 32–63 (0 for a 4-byte entry). */
  lo = 0;
  hi = 0;
  /** A leaf's effective rights ({@link X86Bits}): its own ANDed (R/W, U/S) or ORed (XD) with every level's above. */
  rights = 0;
  /** A leaf's physical address for the 4 KiB page of the walked address. */
  pa = 0;
  /** The page table the walk reached, -1 when it stopped above it; and the rights gathered above it. */
  table = -1;
  tableRights = 0;
}

/**
 * @internal The x86 walk for one format and one setting of the control registers: the entry decoder
 * ({@link X86Core.entry}), the descent ({@link X86Core.descend}) and the permission words by effective rights.
 */
export class X86Core {
  /** Table levels walked in RAM (PAE's PDPT included): 2, 3 or 4. */
  readonly levels: number;
  readonly pteSize: 4 | 8;
  /** The level of PAE's PDPT (whose entries have PDPTE-register rules), -1 in the other formats. */
  readonly pdpt: number;
  /** CR4.PSE in 32-bit paging: a PDE with PS maps 4 MiB. */
  readonly pse: boolean;
  /** 1 GiB pages (4-level paging). */
  readonly gbPages: boolean;
  /** X86Bits.XD with EFER.NXE, else 0: the mask bit 63 of an entry (shifted to bit 3) passes through. */
  readonly xd: number;
  /** Reserved bits of the high word of an 8-byte entry (address bits 51:M, and XD without NXE). */
  readonly hiRsv: number;
  /** The high word's address bits (M-1:32) of an 8-byte entry. */
  readonly hiAddr: number;
  /** 32-bit paging 4 MiB PDE: the PSE-36 address bits (20:13) in use, and the reserved ones (21:13 minus those). */
  readonly pse36Mask: number;
  readonly pse36Rsv: number;
  /**
   * The kinds each privilege context may use, 3 bits a context (`user | AC << 1`: supervisor, user, supervisor
   * with EFLAGS.AC, user), by effective rights `(bits >>> 1) & 7`.
   */
  readonly rights = new Int32Array(8);

  constructor(format: X86Format, config: X86Config) {
    const geo = GEOMETRY[format];
    const m = config.maxPhysAddr;
    this.levels = geo.levels;
    this.pteSize = geo.pteSize;
    this.pdpt = format === 'pae' ? 2 : -1;
    this.pse = format === 'ia32' && config.pse;
    this.gbPages = format === 'x86-64' && config.gbPages;
    this.xd = format !== 'ia32' && config.nxe ? X86Bits.XD : 0;
    this.hiAddr = 2 ** (m - 32) - 1;
    // 4-level paging ignores bits 62:52 (software's, or protection keys); PAE paging reserves 62:M. A 4-byte entry has
    // no high word.
    this.hiRsv =
      format === 'ia32' ? 0 : ((format === 'pae' ? 0x7fff_ffff : 0xf_ffff) & ~this.hiAddr) | (this.xd !== 0 ? 0 : 0x8000_0000);
    const pse36 = Math.min(m, 40) - 32;
    this.pse36Mask = 2 ** pse36 - 1;
    this.pse36Rsv = 0x3f_e000 & ~(this.pse36Mask << 13);
    for (let b = 0; b < 8; b++) this.rights[b] = permissionWord((b & 1) !== 0, (b & 2) !== 0, (b & 4) !== 0, config);
  }

  /**
   * Decodes the entry `lo`/`hi` at `level` (0 = a PTE): a negative {@link X86Fault} (P clear; a reserved bit —
   * including PS where the level has no large page and a large page's misaligned address bits — or a PAE PDPTE's
   * reserved bit), or the rights it grants ({@link X86Bits}) with `POINTER` set when it points to a table rather
   * than mapping a page. A PDPTE grants every right (it has no R/W, U/S or XD).
   */
  entry(lo: number, hi: number, level: number): number {
    if (level === 0) return this.leaf(lo, hi, X86Bits.ALL);
    if ((lo & 1) === 0) return X86Fault.INVALID;
    if (level === this.pdpt) {
      return (lo & 0x1e6) !== 0 || (hi & (this.hiRsv | 0x8000_0000)) !== 0 ? X86Fault.PDPTE_RESERVED : X86Bits.POINTER | X86Bits.ALL;
    }
    if ((hi & this.hiRsv) !== 0) return X86Fault.RESERVED;
    const own = (lo & 6) | ((hi >>> 28) & this.xd);
    // PS: a 4 MiB page in a 32-bit PDE (with CR4.PSE; without it PS is ignored), a 2 MiB page in a PDE, a 1 GiB one
    // in a PDPTE (with 1 GiB pages); reserved in a PML4E. The address bits below the page's alignment are reserved.
    if ((lo & 0x80) === 0) return own | X86Bits.POINTER;
    if (this.pteSize === 4) return !this.pse ? own | X86Bits.POINTER : (lo & this.pse36Rsv) !== 0 ? X86Fault.RESERVED : own;
    if (level === 1) return (lo & 0x1f_e000) !== 0 ? X86Fault.RESERVED : own;
    return level === 2 && this.gbPages && (lo & 0x3fff_e000) === 0 ? own : X86Fault.RESERVED;
  }

  /**
   * The PTE `lo`/`hi` (level 0) under the rights `above` gathered over the levels above it: a negative
   * {@link X86Fault}, or the leaf's effective rights. {@link X86Core.entry}'s level 0.
   */
  leaf(lo: number, hi: number, above: number): number {
    const f = this.leafFault(lo, hi);
    return f !== 0 ? f : this.leafRights(lo, hi, above);
  }

  /**
   * {@link X86Core.leaf}'s fault alone: 0 for a PTE that maps its page, else the {@link X86Fault}. With
   * {@link X86Core.leafRights}, the last step of a walk whose leaf table a cache holds: two small methods whose
   * result needs no test on the common path (a combined answer costs the pmap's TLB miss a second branch).
   */
  leafFault(lo: number, hi: number): number {
    return x86LeafFault(lo, hi, this.hiRsv);
  }

  /** {@link X86Core.leaf}'s rights for a PTE whose {@link X86Core.leafFault} is 0. */
  leafRights(lo: number, hi: number, above: number): number {
    return x86LeafRights(lo, hi, above, this.xd);
  }

  /**
   * The physical address of the 4 KiB page `vpn` in the page that the leaf `lo`/`hi` at `level` maps: a large
   * page's address bits sit above its offset bits (PAT at bit 12 is no address; PSE-36 puts bits 39:32 at 20:13).
   */
  pageAddress(lo: number, hi: number, level: number, vpn: number): number {
    if (level === 0) return ((lo & 0xffff_f000) >>> 0) + (hi & this.hiAddr) * 4294967296;
    if (this.pteSize === 4) return ((lo & 0xffc0_0000) >>> 0) + ((lo >>> 13) & this.pse36Mask) * 4294967296 + (vpn & 1023) * 4096;
    if (level === 1) return ((lo & 0xffe0_0000) >>> 0) + (hi & this.hiAddr) * 4294967296 + (vpn & 511) * 4096;
    return ((lo & 0xc000_0000) >>> 0) + (hi & this.hiAddr) * 4294967296 + (vpn & 262143) * 4096;
  }

  /**
   * Walks page `vpn` from the table at `table` (an entry of `level`; the root is at `levels - 1`) with the rights
   * `rights` gathered above it, down to the leaf. With `setA`, sets A in every entry that points to a table it
   * follows (SDM §4.8: whatever the outcome of the access; not in PAE's PDPTEs, which the processor holds in
   * registers). Returns the leaf's level, or a negative {@link X86Fault}; `w` says where it stopped and what it
   * found. Checks no access: the rights are the consumer's to apply.
   */
  descend(mem: PhysicalMemory, table: number, level: number, vpn: number, rights: number, setA: boolean, w: X86Walk): number {
    const size = this.pteSize;
    w.table = -1;
    for (; level > 0; level--) {
      // 512 entries a table: 9 bits of the page number a level (2^27 at most, so `>>` on vpn's low 32 bits would not
      // reach the PML4 index of an address above 2^44: divide instead); 1024 in 32-bit paging.
      const idx =
        size === 4 ? (vpn >>> (10 * level)) & 1023 : Math.floor(vpn / (level === 1 ? 512 : level === 2 ? 262144 : 134217728)) & 511;
      // Every table is page-aligned but PAE's PDPT (32 bytes).
      const off = (table & 4095) + idx * size;
      const addr = table + idx * size;
      w.addr = addr;
      w.level = level;
      if (!this.read(mem, addr - off, off, w)) return X86Fault.PTE_ACCESS;
      const lo = w.lo;
      const hi = w.hi;
      const d = this.entry(lo, hi, level);
      if (d < 0) return d;
      // R/W and U/S ANDed, XD ORed (SDM §4.6: the effective rights are the strictest of every level's).
      rights = (rights & (d | ~X86Bits.ALL)) | (d & X86Bits.XD);
      if ((d & X86Bits.POINTER) === 0) {
        w.rights = rights;
        w.pa = this.pageAddress(lo, hi, level, vpn);
        return level;
      }
      if (setA && (lo & 0x20) === 0 && level !== this.pdpt) mem.write32(addr, (lo | 0x20) >>> 0);
      table = ((lo & 0xffff_f000) >>> 0) + (hi & this.hiAddr) * 4294967296;
    }
    w.table = table;
    w.tableRights = rights;
    return this.leafAt(mem, table, vpn, rights, w);
  }

  /**
   * The last step of {@link X86Core.descend}: the PTE of page `vpn` in the page table at `table`, under the rights
   * `above` gathered over the levels above it. Returns 0 (`w` holding the PTE, its effective rights and the page's
   * address) or a negative {@link X86Fault}. On its own, small, for a walk whose page table a paging-structure
   * cache holds: it inlines into the walker's miss where the whole descent would not (V8's inlining budget), and
   * it stores the address into `w` rather than returning a double a call would box.
   */
  leafAt(mem: PhysicalMemory, table: number, vpn: number, above: number, w: X86Walk): number {
    // A page table is page-aligned: the entry's offset is its index's.
    const off = (vpn & (this.pteSize === 4 ? 1023 : 511)) * this.pteSize;
    w.addr = table + off;
    w.level = 0;
    if (!this.read(mem, table, off, w)) return X86Fault.PTE_ACCESS;
    const lo = w.lo;
    const hi = w.hi;
    const f = this.leafFault(lo, hi);
    if (f !== 0) return f;
    w.rights = this.leafRights(lo, hi, above);
    w.pa = ((lo & 0xffff_f000) >>> 0) + (hi & this.hiAddr) * 4294967296;
    return 0;
  }

  // Reads the entry at byte `off` of the page-aligned frame `frame` (w.addr) into w.lo/w.hi through the frame's view;
  // false when it is not in RAM. The frame and offset come apart from the caller, with int32 operations: `addr %
  // 4096` on an address above 2^31 (a double) is a call to fmod. Not TableEntry.read (the other walkers' reader):
  // through it the x86 miss measured 63–113 ns against 63–67 ns here (the descent no longer inlined every time).
  private read(mem: PhysicalMemory, frame: number, off: number, w: X86Walk): boolean {
    let words: Uint32Array | null;
    try {
      // frameWords refuses a frame that is not all RAM (EFAULT); that is rare — a guest's bad pointer, or a bank
      // that does not end on a page — so it is caught rather than asked about first with isRam (a second lookup).
      words = mem.frameWords(frame);
    } catch {
      if (!mem.isRam(frame + off, this.pteSize)) return false;
      words = null;
    }
    if (words !== null) {
      w.lo = words[off >>> 2];
      w.hi = this.pteSize === 8 ? words[(off >>> 2) + 1] : 0;
    } else {
      // No view: a frame that holds no host memory (read32 answers zeros), a big-endian host, or the edge of a bank.
      w.lo = mem.read32(frame + off);
      w.hi = this.pteSize === 8 ? mem.read32(frame + off + 4) : 0;
    }
    return true;
  }
}

/**
 * @internal {@link X86Core.leafFault} as a plain function of the core's reserved-bit mask, for a pmap's TLB miss:
 * bound to a module-local name it inlines without a load of the core object.
 */
export function x86LeafFault(lo: number, hi: number, hiRsv: number): number {
  return (lo & 1) === 0 ? X86Fault.INVALID : (hi & hiRsv) !== 0 ? X86Fault.RESERVED : 0;
}

/** @internal {@link X86Core.leafRights} as a plain function of the core's XD mask (see {@link x86LeafFault}). */
export function x86LeafRights(lo: number, hi: number, above: number, xd: number): number {
  return (above & (lo | ~X86Bits.ALL)) | ((hi >>> 28) & xd);
}

/**
 * The kinds each privilege context may use on a page with the effective rights `rw`, `us`, `xd` (SDM §4.6): user
 * mode needs U/S and reads, writes with R/W, fetches without XD; supervisor mode reads and writes user pages unless
 * SMAP without AC, writes with R/W when CR0.WP, fetches without XD and not from user pages under SMEP.
 */
function permissionWord(rw: boolean, us: boolean, xd: boolean, config: X86Config): number {
  const { wp, smep, smap } = config;
  let word = 0;
  for (let c = 0; c < 4; c++) {
    const user = (c & 1) !== 0;
    const ac = (c & 2) !== 0;
    let kinds: number;
    if (user) kinds = us ? 1 | (rw ? 2 : 0) | (xd ? 0 : 4) : 0;
    else {
      const data = !(us && smap && !ac);
      kinds = (data ? 1 | (rw || !wp ? 2 : 0) : 0) | (xd || (us && smep) ? 0 : 4);
    }
    word |= kinds << (3 * c);
  }
  return word;
}

/**
 * An x86 page-table walker (32-bit, PAE or 4-level paging) with its own PCID-tagged TLB.
 *
 * **Root.** `translate`'s `root` is the physical address CR3 points at: the page directory (32-bit paging), the
 * 32-byte aligned PDPT (PAE), the PML4 (4-level). The PCID comes in `options.asid` (with `pcide`).
 *
 * **Addresses.** 4-level paging takes the 64-bit linear address as a signed number (the upper half negative,
 * `-0x1000` is `0xFFFF_FFFF_FFFF_F000`); an address whose bits 63…47 are not all equal is a #GP(0) (vector 13), as
 * the SDM says of non-canonical accesses (a stack access would raise #SS instead; the walker does not know which
 * segment an access used). 32-bit and PAE paging take a 32-bit address, unsigned or signed.
 *
 * **Faults.** #PF (vector 14) with the error code of SDM §4.7: P (bit 0) set for a protection or reserved-bit
 * fault, clear for a not-present one; W/R (bit 1) for a write; U/S (bit 2) for a user-mode access; RSVD (bit 3) for
 * a reserved bit set in a present entry; I/D (bit 4) for an instruction fetch when SMEP is on or NX is in use (PAE
 * or 4-level with NXE). A page-table entry outside RAM is reported as a machine check (vector 18, code 0): what a
 * platform does for a paging-structure read nothing answers varies (an all-ones read or a machine check), and a
 * plain report serves an emulator better than a fake PTE.
 *
 * **PAE's PDPTEs.** The processor loads the four PDPTEs into registers at a MOV to CR3 (#GP on a reserved bit).
 * {@link X86Walker.loadCr3} checks them the same way; `translate` reads them from RAM on every walk (a TLB miss), as
 * QEMU does — a guest that edits its PDPT without reloading CR3 sees the change at the next miss, where hardware
 * would keep the old registers — and reports a reserved bit in a present PDPTE as the #GP(0) its load would have
 * raised.
 */
export class X86Walker extends WalkerBase implements PageWalker {
  /** The format this walker walks. */
  readonly format: X86Format;
  /** The control-register settings the walker was made with, defaults filled in. */
  readonly config: Readonly<Required<Omit<X86WalkerOptions, 'tlbSize'>>>;
  private readonly geo: Geometry;
  private readonly asidMask: number;
  private readonly rootLimit: number;
  // The walk (shared with the ia32 pmap), and where it leaves what it found.
  private readonly core: X86Core;
  private readonly found = new X86Walk();
  // The G bit of a leaf when CR4.PGE makes it global, else 0.
  private readonly globalBit: number;
  // The I/D bit is reported (SMEP, or NX in use).
  private readonly idBit: number;
  private pcid = 0;

  /** A walker over `mem`; see {@link createWalker}. Unknown format or bad options → `VmError('EINVAL')`. */
  constructor(format: X86Format, mem: PhysicalMemory, options: X86WalkerOptions = {}) {
    if (typeof format !== 'string' || !Object.hasOwn(GEOMETRY, format)) {
      throw new VmError('EINVAL', `format must be ia32, pae or x86-64, got ${hex(format)}`);
    }
    checkOptionsObject(options, 'options');
    const flags = ['wp', 'pse', 'pge', 'nxe', 'smep', 'smap', 'pcide', 'gbPages'] as const;
    for (const name of flags) {
      const v = options[name];
      if (v !== undefined && typeof v !== 'boolean') throw new VmError('EINVAL', `options.${name} must be a boolean, got ${hex(v)}`);
    }
    const geo = GEOMETRY[format];
    const m = options.maxPhysAddr ?? geo.defaultMaxPhys;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 32 || m > 52) {
      throw new VmError('EINVAL', `options.maxPhysAddr must be an integer from 32 to 52, got ${hex(m)}`);
    }
    if (options.pcide === true && format !== 'x86-64') throw new VmError('EINVAL', `options.pcide needs 4-level paging (x86-64), not ${format}`);
    super(mem, format === 'x86-64', options.tlbSize);
    this.format = format;
    this.geo = geo;
    this.config = Object.freeze({
      wp: options.wp ?? true,
      pse: format === 'ia32' && options.pse !== false,
      pge: options.pge ?? true,
      nxe: format !== 'ia32' && options.nxe !== false,
      smep: options.smep ?? false,
      smap: options.smap ?? false,
      pcide: options.pcide ?? false,
      gbPages: format === 'x86-64' && options.gbPages !== false,
      maxPhysAddr: m,
    });
    this.asidMask = this.config.pcide ? 0xfff : 0;
    this.core = new X86Core(format, this.config);
    this.globalBit = this.config.pge ? E.G : 0;
    this.idBit = this.config.smep || this.config.nxe ? PF_ID : 0;
    this.rootLimit = this.wide ? 2 ** m : 2 ** 32;
  }

  /**
   * Translates `va` for `access` over the tables at `root` (see the class description and
   * {@link PageWalker.translate}); `options.sum` is EFLAGS.AC (lifts SMAP), `options.asid` the PCID (default: the
   * PCID of the last {@link X86Walker.loadCr3}, 0 before any), `options.mxr` is ignored. A fault returns its `FaultCode` (`NOT_MAPPED` not present, `PROTECTION` denied, `BAD_ADDRESS`
   * reserved bits or a table outside RAM, `NON_CANONICAL`) with the vector, error code, CR2 and level in
   * {@link X86Walker.fault}; a #PF also drops the TLB entries of the page, as the processor does.
   */
  translate(root: number, va: number, access: number, options?: TranslateOptions): number {
    if (typeof va !== 'number' || typeof access !== 'number' || options === null || (options !== undefined && typeof options !== 'object')) {
      this.refuse(va, access, options);
    }
    let ctx = (access >>> 3) & 1;
    // The PCID is CR3's: the last loadCr3's, unless the call names one.
    let asid = this.pcid;
    if (options !== undefined) {
      if (options.user === true) ctx = 1;
      if (options.sum === true) ctx |= 2;
      if (options.asid !== undefined) asid = options.asid;
    }
    // Two small hit tests rather than one large one, so that V8 inlines the one in use into the caller.
    // An address below 2^32 (every 32-bit and PAE one, the low 4 GiB in IA-32e) takes the 32-bit test: an int32
    // page number and no high key bits, no floating-point step.
    return va === va >>> 0 || !this.wide ? this.hitNarrow(root, va, access, ctx, asid) : this.hitWide(root, va, access, ctx, asid);
  }

  // The hit test for 64-bit addresses; see RiscvWalker's, which it mirrors (literals instead of imported
  // constants for the same reason).
  private hitWide(root: number, va: number, access: number, ctx: number, asid: number): number {
    const kinds = access & 7;
    const need = (kinds > 4 ? 0 : kinds) << (3 * ctx);
    const e = this.e;
    // The address's low 32 bits and the rest (an integer for an integer va, negative in the upper half): a
    // subtraction and an exact scaling, no floor.
    const low = va >>> 0;
    const hi = (va - low) * 2.3283064365386963e-10;
    const lo = (low >>> 12) | (hi << 20);
    const nib = (hi >> 12) & 0xf;
    const k = ((lo ^ (asid * 97)) & this.tlbMask) << 3;
    const kw = e[k + 1];
    if (
      e[k] === lo &&
      (kw === (nib | (asid << 4)) || kw === (nib | 0x10_0000)) &&
      (e[k + 2] & need) === need &&
      need !== 0 &&
      hi === (hi | 0) &&
      typeof va === 'number' &&
      hi >= -32768 &&
      hi < 32768 &&
      access === (access & 15) &&
      asid === (asid & this.asidMask)
    ) {
      this.hits++;
      // A frame below 4 GiB answers as a uint32 straight from the slot (see WalkerBase.fromSlot).
      if (e[k + 4] === 0) return (e[k + 3] | (low & 4095)) >>> 0;
    } else {
      const r = this.miss(root, va, access, ctx, asid);
      if (r < 0) return r;
    }
    return this.fromSlot(k, low);
  }

  // The hit test for 32-bit addresses (32-bit and PAE paging, unsigned or signed) and IA-32e addresses below 2^32.
  private hitNarrow(root: number, va: number, access: number, ctx: number, asid: number): number {
    const kinds = access & 7;
    const need = (kinds > 4 ? 0 : kinds) << (3 * ctx);
    const e = this.e;
    const lo = va >>> 12;
    const k = ((lo ^ (asid * 97)) & this.tlbMask) << 3;
    const kw = e[k + 1];
    if (
      e[k] === lo &&
      (kw === asid << 4 || kw === 0x10_0000) &&
      (e[k + 2] & need) === need &&
      need !== 0 &&
      (va === va >>> 0 || va === (va | 0)) &&
      access === (access & 15) &&
      asid === (asid & this.asidMask)
    ) {
      this.hits++;
      // A frame below 4 GiB answers as a uint32 straight from the slot (see WalkerBase.fromSlot).
      if (e[k + 4] === 0) return (e[k + 3] | (va & 4095)) >>> 0;
    } else {
      const r = this.miss(root, va, access, ctx, asid);
      if (r < 0) return r;
    }
    return this.fromSlot(k, va);
  }

  /**
   * INVLPG: drops the TLB entries of the page of `va` for the current PCID (the last {@link X86Walker.loadCr3}'s),
   * and global entries of that page whatever their PCID; a superpage containing `va` goes whole. A non-canonical
   * address is a no-op, as the SDM says. Not an integer address → `VmError('EINVAL')`.
   */
  invlpg(va: number): void {
    this.checkVa(va, 'va');
    if (this.wide && (va < -(2 ** 47) || va >= 2 ** 47)) {
      // Executed (and counted), but a non-canonical address names nothing.
      this.flushes++;
      return;
    }
    // INVLPG also invalidates the paging-structure caches of the current PCID (SDM §4.10.4.1): flush empties them.
    this.flush(Math.floor((this.wide ? va : va >>> 0) / 4096), this.pcid, true);
  }

  /**
   * MOV to CR3: makes `pcid` current and, unless `noflush`, drops the non-global TLB entries of that PCID (without
   * PCIDE every entry is PCID 0: every non-global entry). PAE: checks the four PDPTEs the processor would load —
   * a reserved bit in a present one is a #GP(0): the result is `FaultCode.BAD_ADDRESS` with the record filled, and
   * CR3, the PCID and the TLB stay as they were; otherwise 0. `root` as for `translate`; bad arguments (an
   * unaligned root, a PCID without `pcide`, `noflush` without `pcide`) → `VmError('EINVAL')`.
   */
  loadCr3(root: number, options: LoadCr3Options = {}): number {
    checkRoot(root, this.geo.rootAlign, this.rootLimit);
    checkOptionsObject(options, 'options');
    const pcid = options.pcid ?? 0;
    checkAsid(pcid, this.config.pcide ? 12 : 0, 'options.pcid');
    if (options.noflush !== undefined && typeof options.noflush !== 'boolean') {
      throw new VmError('EINVAL', `options.noflush must be a boolean, got ${hex(options.noflush)}`);
    }
    if (options.noflush === true && !this.config.pcide) throw new VmError('EINVAL', 'options.noflush needs CR4.PCIDE (the walker option pcide)');
    if (this.format === 'pae') {
      for (let i = 0; i < 4; i++) {
        const addr = root + i * 8;
        if (!this.mem.isRam(addr, 8)) return this.raise('pte-access', 2, i * 2 ** 30, 1, false);
        const lo = this.mem.read32(addr);
        const hi = this.mem.read32(addr + 4);
        if ((lo & E.P) !== 0 && ((lo & 0x1e6) !== 0 || (hi & (this.core.hiRsv | 0x8000_0000)) !== 0)) {
          return this.raise('reserved', 2, i * 2 ** 30, 1, false, VEC_GP);
        }
      }
    }
    this.pcid = pcid;
    if (options.noflush !== true) {
      this.flush(null, pcid, false);
    }
    return 0;
  }

  private raise(kind: WalkFaultKind, level: number, va: number, access: number, user: boolean, vector = VEC_PF): number {
    const f = this.fault;
    const kinds = access & 7;
    f.result = resultOf(kind);
    f.kind = kind;
    f.va = va;
    f.level = level;
    f.access = kinds | (user ? 8 : 0);
    if (kind === 'non-canonical') vector = VEC_GP;
    else if (kind === 'pte-access') vector = VEC_MC;
    f.cause = vector;
    f.code =
      vector !== VEC_PF
        ? 0
        : (kind === 'invalid' ? 0 : PF_P) |
          (kinds & 2 ? PF_WR : 0) |
          (user ? PF_US : 0) |
          (kind === 'reserved' ? PF_RSVD : 0) |
          (kinds === 4 ? this.idBit : 0);
    this.faults++;
    return f.result;
  }

  // The cold path: argument checks, then the walk. Returns 1 when the TLB slot of `va` under `asid` now holds the
  // translation, or the fault's code.
  private miss(root: number, va: number, access: number, ctx: number, asid: number): number {
    const kinds0 = access & 7;
    // The usual case answered with a few comparisons; anything else gets the checks that name what is wrong.
    const vaOk = this.wide ? va === Math.floor(va) && va >= -(2 ** 63) && va < 2 ** 63 : va === va >>> 0 || va === (va | 0);
    const ok =
      vaOk &&
      access === (access & 15) &&
      kinds0 !== 0 &&
      kinds0 < 5 &&
      typeof root === 'number' &&
      root >= 0 &&
      root < this.rootLimit &&
      root % this.geo.rootAlign === 0 &&
      asid === (asid & this.asidMask);
    if (!ok) {
      this.checkVa(va, 'va');
      checkAccess(access);
      checkRoot(root, this.geo.rootAlign, this.rootLimit);
      checkAsid(asid, this.config.pcide ? 12 : 0, 'options.asid');
    }
    this.misses++;
    const user = (ctx & 1) !== 0;
    if (this.wide && (va < -(2 ** 47) || va >= 2 ** 47)) return this.raise('non-canonical', -1, va, access, user);
    const r = this.walk(root, va, access, ctx, asid);
    // A #PF drops the page's TLB entries (SDM §4.10.4.1), so the handler's fix is seen without an INVLPG.
    if (r < 0 && this.fault.cause === VEC_PF) {
      this.tlb.invalidate(Math.floor((this.wide ? va : va >>> 0) / 4096), asid, true);
      this.pscFlush();
    }
    return r;
  }

  private walk(root: number, va: number, access: number, ctx: number, asid: number): number {
    const user = (ctx & 1) !== 0;
    const kinds = access & 7;
    const core = this.core;
    const w = this.found;
    const wide8 = core.pteSize === 8;
    const v = this.wide ? va : va >>> 0;
    const vpn = wide8 ? Math.floor(v / 4096) : v >>> 12;
    // The span of one last-level table (2 MiB; 32-bit paging 4 MiB): a paging-structure cache hit starts at the
    // page table, with the rights gathered above it.
    const span0 = wide8 ? Math.floor(vpn / 512) : v >>> 22;
    const c = this.pscFind(span0, root, asid);
    let level: number;
    if (c >= 0) level = core.leafAt(this.mem, this.pscTable[c], vpn, this.pscBits[c], w);
    else {
      level = core.descend(this.mem, root, core.levels - 1, vpn, X86Bits.ALL, true, w);
      if (w.table >= 0) this.pscFill(span0, root, asid, w.table, w.tableRights);
    }
    if (level < 0) {
      if (level === X86Fault.INVALID) return this.raise('invalid', w.level, va, access, user);
      if (level === X86Fault.PTE_ACCESS) return this.raise('pte-access', w.level, va, access, user);
      return this.raise('reserved', w.level, va, access, user, level === X86Fault.PDPTE_RESERVED ? VEC_GP : VEC_PF);
    }
    const perm = core.rights[(w.rights >>> 1) & 7];
    if (((perm >>> (3 * ctx)) & kinds) !== kinds) return this.raise('permission', level, va, access, user);
    // A on the leaf; D on a write (SDM §4.8). A denied access sets neither.
    const lo = w.lo;
    const needAd = kinds & 2 ? E.A | E.D : E.A;
    let entry = lo;
    if ((lo & needAd) !== needAd) {
      entry = (lo | needAd) >>> 0;
      this.mem.write32(w.addr, entry);
    }
    const shift = level === 0 ? 12 : wide8 ? 12 + 9 * level : 22;
    // The key word as tlbKey makes it, written out (an imported call on every miss costs a getter under tsx).
    const key = (Math.floor(vpn / 4294967296) & 0xf) | ((lo & this.globalBit) !== 0 ? 0x10_0000 : asid << 4);
    this.tlb.fill(vpn | 0, asid, key, entry & E.D ? perm : perm & ~WRITE_BITS, w.pa, shift);
    // The slot of va holds the translation now; the caller reads the address from it.
    return 1;
  }
}
