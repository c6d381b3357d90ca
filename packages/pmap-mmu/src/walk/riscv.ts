/*
 * RISC-V page-table walkers: Sv32, Sv39 and Sv48 (privileged specification, "Supervisor-Level ISA", the
 * virtual-address translation process, with Svpbmt, Svnapot, Svade and Svadu). Re-implemented from the
 * specification's algorithm, step by step; the step numbers below are the specification's.
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { TableEntry, WalkerBase } from './walker-base.js';
import type { PageWalker, TranslateOptions, WalkFaultKind } from './types.js';
import { checkAccess, checkAsid, checkOptionsObject, checkRoot, resultOf } from './types.js';

/** The RISC-V formats. */
export type RiscvFormat = 'sv32' | 'sv39' | 'sv48';

/** How a RISC-V walker is built: the extensions it implements, and its TLB size. */
export interface RiscvWalkerOptions {
  /**
   * How A and D are maintained: `'svadu'` (default) — the walker sets A, and D on a store, in the PTE in RAM, as
   * the hardware update does (atomic: nothing else runs in between); `'svade'` — a leaf with A=0, or a store to
   * a leaf with D=0, raises the page fault and software sets the bits.
   */
  readonly ad?: 'svadu' | 'svade';
  /**
   * Svpbmt (Sv39/Sv48; default true): PTE bits 62–61 are PBMT (0 PMA, 1 NC, 2 IO; 3 reserved → page fault, and
   * non-zero on a pointer → page fault). Without it those bits are reserved (→ page fault when set).
   */
  readonly svpbmt?: boolean;
  /**
   * Svnapot (Sv39/Sv48; default true): PTE bit 63 (N) on a level-0 leaf whose PPN ends in `1000` maps a naturally
   * aligned 64 KiB page; N anywhere else, or with another PPN ending, is reserved (→ page fault). Without it N is
   * reserved wherever it is set.
   */
  readonly svnapot?: boolean;
  /** TLB slots, a power of two (default 256). */
  readonly tlbSize?: number;
}

const enum Pte {
  V = 0x01,
  R = 0x02,
  W = 0x04,
  X = 0x08,
  U = 0x10,
  G = 0x20,
  A = 0x40,
  D = 0x80,
}

// The high word of an Sv39/Sv48 PTE (PTE bits 32–63): PPN bits 22–43 at bits 0–21, bits 54–60 reserved (22–28),
// PBMT at 29–30, N at 31 (the entry decoder reads bits 22–31 as one field, `hi >>> 22`).
const HI_PPN = 0x3f_ffff;
const HI_N = 0x8000_0000;

// scause values (privileged spec, "Supervisor Cause register"): page faults, and the access faults a PTE access
// outside RAM raises.
const CAUSE_FETCH_ACCESS = 1;
const CAUSE_LOAD_ACCESS = 5;
const CAUSE_STORE_ACCESS = 7;
const CAUSE_FETCH_PAGE = 12;
const CAUSE_LOAD_PAGE = 13;
const CAUSE_STORE_PAGE = 15;

// The write bit of every privilege context in a TLB permission word (bit 3c+1 for c = 0…7).
const WRITE_BITS = 0x49_2492;

/**
 * Privilege contexts: bit 0 user mode, bit 1 SUM, bit 2 MXR; a TLB permission word holds the kinds each of the
 * eight allows at bits 3c … 3c+2. Indexed by a leaf's R W X U bits (`(pte >> 1) & 15`), step 5 of the algorithm
 * for every context at once: a load needs R, or X with MXR; a store W; a fetch X; user mode needs U; supervisor
 * mode may load and store to a U page only with SUM, and never fetch from one.
 */
const PERM = new Int32Array(16);
for (let b = 0; b < 16; b++) {
  const r = (b & 1) !== 0;
  const w = (b & 2) !== 0;
  const x = (b & 4) !== 0;
  const u = (b & 8) !== 0;
  let word = 0;
  for (let c = 0; c < 8; c++) {
    const user = (c & 1) !== 0;
    const sum = (c & 2) !== 0;
    const mxr = (c & 4) !== 0;
    let kinds = (r || (mxr && x) ? 1 : 0) | (w ? 2 : 0) | (x ? 4 : 0);
    if (user) kinds = u ? kinds : 0;
    else if (u) kinds = sum ? kinds & 3 : 0;
    word |= kinds << (3 * c);
  }
  PERM[b] = word;
}

/*
 * The walk core: the one implementation of the RISC-V walk, shared by RiscvWalker's miss path and the Sv39 pmap
 * (src/sv39.ts). It classifies entries and follows pointers; what is done with a leaf — which privilege context
 * asks, hardware A/D update or an Svade fault, which TLB is filled — is each caller's policy.
 *
 * Its answers are numbers: a leaf's rights (PERM's word, or the caller's form of it, never negative), or a negative
 * code — RV_POINTER, or a fault kind
 * (RV_INVALID …), written as literals where it matters (a module-scope binding is a context load per use).
 */

/** @internal `RvEntries.entry`'s answer for a pointer to the next-level table. */
export const RV_POINTER = -8;
/** @internal Fault kinds of the walk core (negative), indexing {@link RV_KINDS} by their negation. */
export const RV_INVALID = -1;
/** @internal W without R. */
export const RV_WRITE_ONLY = -2;
/** @internal A reserved bit or encoding. */
export const RV_RESERVED = -3;
/** @internal A pointer at level 0. */
export const RV_NO_LEAF = -4;
/** @internal A table entry outside RAM (the access fault). */
export const RV_PTE_ACCESS = -5;
/** @internal The walker's fault kind of each core kind `-k`. */
export const RV_KINDS: readonly WalkFaultKind[] = ['none', 'invalid', 'write-only', 'reserved', 'no-leaf', 'pte-access'];

/**
 * @internal {@link RvEntries.entry} as a plain function of the decoder's tables, for a pmap's miss path: called
 * through a module-local alias (`const entry = rvEntry`) it inlines without the decoder object's loads.
 */
export function rvEntry(kinds: Int32Array, leafReserved: number, lo: number, hi: number, level: number): number {
  // V R W X U at once: V=0, W without R, a pointer, or the leaf's rights.
  const r = kinds[lo & 0x1f];
  // PTE bits 54–63: reserved 54–60, PBMT 61–62, N 63. Zero in every PTE but a Svpbmt or Svnapot leaf's.
  const top = hi >>> 22;
  if (r >= 0) return top === 0 || leafTopOk(top, lo, level, leafReserved) ? r : -3;
  if (r !== -8) return r;
  // A pointer (R=X=0): D, A and U are reserved on it, and so are PBMT and N.
  return top !== 0 || (lo & 0xd0) !== 0 ? -3 : -8;
}

/**
 * A leaf's PTE bits 54–63 (`top`, not 0) allowed: no reserved bit, PBMT not 3 and only with Svpbmt, N only with
 * Svnapot on a level-0 leaf whose PPN ends in 1000. Out of line: the usual leaf has none of them.
 */
function leafTopOk(top: number, lo: number, level: number, leafReserved: number): boolean {
  if ((top & 0x7f) !== 0) return false;
  const ext = top >>> 7;
  if (((leafReserved >>> ext) & 1) !== 0) return false;
  return ext < 4 || (level === 0 && (lo & 0x3c00) === 0x2000);
}

/**
 * @internal The RISC-V entry decoder of the walk core (see above), for one format and set of extensions. Apart
 * from {@link RvWalk}, whose fields every walk writes: this object is never written after construction, so V8
 * keeps the fields a miss path reads (`kinds`, `leafReserved`) as constants of a stable map. Methods rather than
 * imported functions: a method on a monomorphic object inlines into the caller, where an imported function is,
 * under some loaders (tsx), a getter on the module namespace first.
 */
export class RvEntries {
  /** Index bits per level: 10 (Sv32) or 9. */
  readonly bits: number;
  /** Bytes per PTE: 4 (Sv32) or 8. */
  readonly pteSize: number;
  /**
   * What bits 0–4 of a PTE (V R W X U) make of it: `RV_INVALID` (V=0), `RV_WRITE_ONLY`, `RV_POINTER` (R=X=0), or
   * a leaf's rights in the caller's form — one load for the usual answer of `entry`.
   */
  readonly kinds = new Int32Array(32);
  /**
   * The values of a leaf's PBMT | N << 2 that are reserved whatever the level, one bit each: PBMT=3 always; PBMT
   * other than 0 without Svpbmt; N without Svnapot.
   */
  readonly leafReserved: number;

  /**
   * A decoder for `bits` index bits per level, `pteSize`-byte PTEs and the extensions Svpbmt and Svnapot.
   * `rights` gives a leaf's rights in the caller's form (non-negative, below 2^24) from its PERM word — the kinds
   * each of the eight privilege contexts may use, 3 bits each — so that `entry` answers in it with one load (the
   * walker keeps the word as it is; a pmap keeps the contexts it models, as its TLB's codes).
   */
  constructor(bits: number, pteSize: number, svpbmt: boolean, svnapot: boolean, rights: (perm: number) => number = (perm) => perm) {
    this.bits = bits;
    this.pteSize = pteSize;
    let bad = 0;
    for (let ext = 0; ext < 8; ext++) {
      if ((ext & 3) === 3 || (!svpbmt && (ext & 3) !== 0) || (!svnapot && (ext & 4) !== 0)) bad |= 1 << ext;
    }
    this.leafReserved = bad;
    for (let b = 0; b < 32; b++) {
      this.kinds[b] = (b & 1) === 0 ? -1 : (b & 6) === 4 ? -2 : (b & 10) === 0 ? -8 : rights(PERM[(b >>> 1) & 15]);
    }
  }

  /**
   * Step 3 of the algorithm and the leaf checks of step 5, for the PTE `lo`/`hi` at `level` (Sv32: `hi` 0): a
   * leaf's rights (see the constructor), `RV_POINTER`, or `RV_INVALID` (V=0: every other bit is the OS's),
   * `RV_WRITE_ONLY`, `RV_RESERVED` (reserved high bits; D, A, U, PBMT or N on a pointer; PBMT=3; N anywhere but
   * on a level-0 leaf whose PPN ends in 1000).
   */
  entry(lo: number, hi: number, level: number): number {
    return rvEntry(this.kinds, this.leafReserved, lo, hi, level);
  }
}

/**
 * @internal The RISC-V walk core's descent (see above): follows the tables to a leaf with an {@link RvEntries}
 * and leaves what it found in the fields.
 */
export class RvWalk {
  /** Physical address of the last entry read (the leaf, or the one that faulted). */
  addr = 0;
  /** The level of the last entry read. */
  level = 0;
  /** Its words. */
  lo = 0;
  hi = 0;
  /** The leaf's rights (`RvEntries.entry`). */
  perm = 0;
  /** The page's frame number: a superpage's keeps the page number's lower fields, a NAPOT page its bits 3–0. */
  frame = 0;
  /** log2 of the leaf's page size. */
  shift = 12;
  /** A superpage whose PPN is not aligned to its size (step 6: a page fault once step 5 allows the access). */
  misaligned = false;
  /** A pointer on the way had G set: every mapping below it is global. */
  global = false;
  /** The level-0 table the walk reached (for paging-structure caches), -1 when it ended above. */
  table0 = -1;
  /** The decoder. */
  readonly entries: RvEntries;
  private readonly entryWords = new TableEntry();

  constructor(entries: RvEntries) {
    this.entries = entries;
  }

  /**
   * Steps 2–4 and 6–8 of the algorithm: from the table at `table`, which is at `level` (the root, or the level-0
   * table a cache gave), to the leaf of page `vpn` (negative in Sv39/Sv48's upper half). Returns the leaf's level
   * with the fields describing it, or a negative fault kind (`addr`, `level`, `lo`, `hi`: the entry that raised it;
   * `RV_PTE_ACCESS` when an entry lies outside RAM, `RV_NO_LEAF` for a pointer at level 0).
   */
  walk(mem: PhysicalMemory, table: number, level: number, vpn: number): number {
    const dec = this.entries;
    const bits = dec.bits;
    const size = dec.pteSize;
    const mask = (1 << bits) - 1;
    const words = this.entryWords;
    let a = table;
    this.global = false;
    this.table0 = level === 0 ? table : -1;
    for (let i = level; i >= 0; i--) {
      const span = i === 0 ? 1 : 2 ** (bits * i);
      const addr = a + ((i === 0 ? vpn : Math.floor(vpn / span)) & mask) * size;
      this.addr = addr;
      this.level = i;
      if (!words.read(mem, addr, size)) return -5;
      const lo = words.lo;
      const hi = words.hi;
      this.lo = lo;
      this.hi = hi;
      const r = dec.entry(lo, hi, i);
      if (r < 0 && r !== -8) return r;
      const ppn = (lo >>> 10) + (hi & HI_PPN) * 4194304;
      if (r === -8) {
        if ((lo & Pte.G) !== 0) this.global = true;
        if (i === 0) return -4;
        a = ppn * 4096;
        if (i === 1) this.table0 = a;
        continue;
      }
      this.perm = r;
      const napot = (hi & HI_N) !== 0;
      this.misaligned = i > 0 && ppn % span !== 0;
      this.frame = napot ? ppn - 8 + (vpn & 15) : i > 0 ? ppn + (vpn & (span - 1)) : ppn;
      this.shift = napot ? 16 : 12 + bits * i;
      return i;
    }
    // Not reached: the loop returns at level 0.
    return -4;
  }
}

interface Geometry {
  readonly levels: number;
  readonly bits: number; // index bits per level
  readonly pteSize: 4 | 8;
  readonly vaBits: number;
  readonly asidBits: number;
  readonly rootLimit: number; // root must lie below: what satp.PPN × 4096 can hold (and a number exactly)
}

const GEOMETRY: Readonly<Record<RiscvFormat, Geometry>> = {
  // Sv32: 2 levels of 1024 4-byte PTEs, 22-bit PPN (34-bit physical addresses), satp.ASID 9 bits.
  sv32: { levels: 2, bits: 10, pteSize: 4, vaBits: 32, asidBits: 9, rootLimit: 2 ** 34 },
  // Sv39/Sv48: 8-byte PTEs, 44-bit PPN (56-bit physical addresses; a number is exact below 2^53), ASID 16 bits.
  sv39: { levels: 3, bits: 9, pteSize: 8, vaBits: 39, asidBits: 16, rootLimit: 2 ** 53 },
  sv48: { levels: 4, bits: 9, pteSize: 8, vaBits: 48, asidBits: 16, rootLimit: 2 ** 53 },
};

/**
 * A RISC-V page-table walker (Sv32, Sv39 or Sv48) with its own ASID-tagged TLB.
 *
 * **Root.** `translate`'s `root` is the physical address of the root page table, `satp.PPN × 4096` — not the satp
 * value: a 64-bit satp with MODE set does not fit a number, and MODE is which walker you call. The ASID comes in
 * `options.asid`.
 *
 * **Addresses.** Sv39/Sv48 take the 64-bit address as a signed number (the register read as int64), so the upper
 * half is negative: `-0x1000` is `0xFFFF_FFFF_FFFF_F000`. An address whose bits 63…39 (Sv48: 63…48) are not all
 * equal to bit 38 (47) is a page fault, as the specification says. Sv32 takes a 32-bit address as an unsigned or a
 * signed 32-bit integer. A number that is not such an integer throws `VmError('EINVAL')`.
 */
export class RiscvWalker extends WalkerBase implements PageWalker {
  /** The format this walker walks. */
  readonly format: RiscvFormat;
  /** How A/D are maintained (`'svadu'` or `'svade'`). */
  readonly ad: 'svadu' | 'svade';
  /** Whether Svpbmt is implemented (always false for Sv32). */
  readonly svpbmt: boolean;
  /** Whether Svnapot is implemented (always false for Sv32). */
  readonly svnapot: boolean;
  private readonly geo: Geometry;
  // Sv39/Sv48: the upper half of a canonical address divided by 2^32 lies in [-hiLimit, hiLimit).
  private readonly hiLimit: number;
  private readonly asidMask: number;
  // Pages one last-level table maps (2^bits): the paging-structure cache's span.
  private readonly leafSpan: number;
  // The walk core.
  private readonly walk: RvWalk;

  /** A walker over `mem`; see {@link createWalker}. Unknown format or bad options → `VmError('EINVAL')`. */
  constructor(format: RiscvFormat, mem: PhysicalMemory, options: RiscvWalkerOptions = {}) {
    if (typeof format !== 'string' || !Object.hasOwn(GEOMETRY, format)) {
      throw new VmError('EINVAL', `format must be sv32, sv39 or sv48, got ${hex(format)}`);
    }
    checkOptionsObject(options, 'options');
    const ad = options.ad ?? 'svadu';
    if (ad !== 'svadu' && ad !== 'svade') throw new VmError('EINVAL', `options.ad must be 'svadu' or 'svade', got ${hex(ad)}`);
    for (const name of ['svpbmt', 'svnapot'] as const) {
      const v = options[name];
      if (v !== undefined && typeof v !== 'boolean') throw new VmError('EINVAL', `options.${name} must be a boolean, got ${hex(v)}`);
    }
    const geo = GEOMETRY[format];
    super(mem, geo.pteSize === 8, options.tlbSize);
    this.format = format;
    this.geo = geo;
    this.hiLimit = 2 ** (geo.vaBits - 1 - 32);
    this.asidMask = 2 ** geo.asidBits - 1;
    this.ad = ad;
    this.svpbmt = this.wide && options.svpbmt !== false;
    this.svnapot = this.wide && options.svnapot !== false;
    this.walk = new RvWalk(new RvEntries(geo.bits, geo.pteSize, this.svpbmt, this.svnapot));
    this.leafSpan = 2 ** geo.bits;
  }

  /**
   * Translates `va` for `access` over the tables at `root` (see the class description and
   * {@link PageWalker.translate}). A TLB hit reads one slot; a miss walks RAM, sets A/D (Svadu) and fills the
   * slot. A fault returns its `FaultCode` (`NOT_MAPPED` for V=0, `PROTECTION` for a denied access or an Svade
   * A/D fault, `NON_CANONICAL`, `BAD_ADDRESS` for reserved encodings, misaligned superpages, a pointer at level 0,
   * and access faults) with `scause`, `stval` and the level in {@link RiscvWalker.fault}.
   */
  translate(root: number, va: number, access: number, options?: TranslateOptions): number {
    if (typeof va !== 'number' || typeof access !== 'number' || options === null || (options !== undefined && typeof options !== 'object')) {
      this.refuse(va, access, options);
    }
    let ctx = (access >>> 3) & 1;
    let asid = 0;
    if (options !== undefined) {
      if (options.user === true) ctx = 1;
      if (options.sum === true) ctx |= 2;
      if (options.mxr === true) ctx |= 4;
      if (options.asid !== undefined) asid = options.asid;
    }
    // Two small hit tests rather than one large one, so that V8 inlines the one in use into the caller: a
    // translation then stays an unboxed integer there instead of a heap number per call.
    // An address below 2^32 (every Sv32 one, the low 4 GiB of Sv39/Sv48) takes the 32-bit test: its page number
    // is an int32 and its key has no high bits, so no floating-point step is needed.
    return va === va >>> 0 || !this.wide ? this.hitNarrow(root, va, access, ctx, asid) : this.hitWide(root, va, access, ctx, asid);
  }

  // The hit test for 64-bit addresses: the page number in two int32 pieces (`lo`, and bits 32–35 in `nib`),
  // compared with the slot's tag and key; then the access's kinds in its context's field of the permission word.
  // `low === low >>> 0` admits integers only; the range test keeps a non-canonical address from aliasing a
  // canonical page (it goes to the slow path, which faults it).
  private hitWide(root: number, va: number, access: number, ctx: number, asid: number): number {
    // The kinds of a CPU access (1 READ, 2 WRITE, 3 READ|WRITE, 4 EXEC) in its context's field; 0 for anything
    // else, which then fails the test and is refused on the slow path. Arithmetic and literals, not imported
    // tables or constants: an imported binding is a getter call under some loaders (tsx), and this is the hot path.
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
      hi >= -this.hiLimit &&
      hi < this.hiLimit &&
      access === (access & 15) &&
      asid === (asid & 0xffff)
    ) {
      this.hits++;
      // A frame below 4 GiB answers as a uint32 straight from the slot, which V8 keeps unboxed in the caller.
      if (e[k + 4] === 0) return (e[k + 3] | (low & 4095)) >>> 0;
    } else {
      const r = this.miss(root, va, access, ctx, asid);
      if (r < 0) return r;
    }
    return this.fromSlot(k, low);
  }

  // The hit test for 32-bit addresses: Sv32's, unsigned or signed, and Sv39/Sv48 addresses below 2^32.
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
      if (e[k + 4] === 0) return (e[k + 3] | (va & 4095)) >>> 0;
    } else {
      const r = this.miss(root, va, access, ctx, asid);
      if (r < 0) return r;
    }
    return this.fromSlot(k, va >>> 0);
  }

  /**
   * `sfence.vma rs1, rs2`: with neither argument, every entry goes (global ones too); with `va` only, every
   * entry for the page of `va` in every address space; with `asid` only, every non-global entry of that ASID; with
   * both, the non-global entries of that ASID for that page. Global entries survive any flush naming an ASID, as
   * the specification says. Entries of a superpage containing `va` go whole. A `va` that is not a valid virtual
   * address (Sv39/Sv48: not canonical) makes the instruction do nothing, as the specification says. Bad arguments
   * (not an integer address, an ASID too wide) → `VmError('EINVAL')`.
   */
  sfenceVma(va?: number, asid?: number): void {
    if (va !== undefined) this.checkVa(va, 'va');
    if (asid !== undefined) checkAsid(asid, this.geo.asidBits, 'asid');
    if (va !== undefined && this.wide && (va < -this.hiLimit * 4294967296 || va >= this.hiLimit * 4294967296)) {
      // The instruction ran (and is counted) but names no valid address: nothing goes.
      this.flushes++;
      return;
    }
    this.flush(va === undefined ? null : Math.floor(this.normalize(va) / 4096), asid ?? -1, asid === undefined);
  }

  // Sv32 takes a signed 32-bit address too; the walk uses its unsigned form.
  private normalize(va: number): number {
    return this.wide ? va : va >>> 0;
  }

  private raise(kind: WalkFaultKind, level: number, va: number, access: number, user: boolean): number {
    const f = this.fault;
    const kinds = access & 7;
    const accessFault = kind === 'pte-access' || kind === 'pa-range';
    f.result = resultOf(kind);
    f.cause = kinds & 2 ? (accessFault ? CAUSE_STORE_ACCESS : CAUSE_STORE_PAGE) : kinds === 4 ? (accessFault ? CAUSE_FETCH_ACCESS : CAUSE_FETCH_PAGE) : accessFault ? CAUSE_LOAD_ACCESS : CAUSE_LOAD_PAGE;
    f.code = 0;
    f.va = va;
    f.level = level;
    f.access = kinds | (user ? 8 : 0);
    f.kind = kind;
    this.faults++;
    return f.result;
  }

  // The cold path: argument checks (junk never reaches the tables), then the walk. Returns 1 when the TLB slot of
  // `va` under `asid` now holds the translation, or the fault's code.
  private miss(root: number, va: number, access: number, ctx: number, asid: number): number {
    const g = this.geo;
    const kinds = access & 7;
    // The usual case answered with a few comparisons; anything else gets the checks that name what is wrong.
    const vaOk = this.wide ? va === Math.floor(va) && va >= -(2 ** 63) && va < 2 ** 63 : va === va >>> 0 || va === (va | 0);
    const ok =
      vaOk &&
      access === (access & 15) &&
      kinds !== 0 &&
      kinds < 5 &&
      typeof root === 'number' &&
      root >= 0 &&
      root < g.rootLimit &&
      root % 4096 === 0 &&
      asid === (asid & this.asidMask);
    if (!ok) {
      this.checkVa(va, 'va');
      checkAccess(access);
      checkRoot(root, 4096, g.rootLimit);
      checkAsid(asid, g.asidBits, 'options.asid');
    }
    this.misses++;
    const user = (ctx & 1) !== 0;
    // Canonical check (Sv39/Sv48): bits 63…vaBits must all equal bit vaBits-1, else a page fault.
    if (this.wide && (va < -this.hiLimit * 4294967296 || va >= this.hiLimit * 4294967296)) return this.raise('non-canonical', -1, va, access, user);
    const v = this.wide ? va : va >>> 0;
    const vpn = Math.floor(v / 4096);
    // The span of one last-level table (2 MiB; Sv32 4 MiB): a paging-structure cache hit starts at level 0.
    const span0 = Math.floor(vpn / this.leafSpan);
    const c = this.pscFind(span0, root, asid);
    const w = this.walk;
    // One call site, so V8 inlines the walk (and the entry read in it) once.
    const level = w.walk(this.mem, c >= 0 ? this.pscTable[c] : root, c >= 0 ? 0 : g.levels - 1, vpn);
    // The global bit the paging-structure cache gathered above the level-0 table.
    if (c >= 0 && this.pscBits[c] !== 0) w.global = true;
    // A walk that reached a level-0 table caches it, whatever it found there.
    if (c < 0 && w.table0 >= 0) this.pscFill(span0, root, asid, w.table0, w.global ? 1 : 0);
    if (level < 0) return this.raise(RV_KINDS[-level], w.level, va, access, user);
    // Step 5: the R/W/X/U rules with SUM and MXR; then step 6, a superpage's PPN aligned to its size.
    const perm = w.perm;
    if (((perm >>> (3 * ctx)) & kinds) !== kinds) return this.raise('permission', level, va, access, user);
    if (w.misaligned) return this.raise('misaligned', level, va, access, user);
    // Step 7: A, and D on a store.
    const lo = w.lo;
    const needAd = kinds & 2 ? Pte.A | Pte.D : Pte.A;
    let pte = lo;
    if ((lo & needAd) !== needAd) {
      if (this.ad === 'svade') return this.raise((lo & Pte.A) === 0 ? 'accessed' : 'dirty', level, va, access, user);
      // Svadu: set them in RAM. The PTE was read from RAM just now and nothing runs in between, so the
      // specification's compare-and-set always succeeds here.
      pte = (lo | needAd) >>> 0;
      this.mem.write32(w.addr, pte);
    }
    // Step 8: the page's frame (the core made it).
    const pa = w.frame * 4096;
    // Beyond 2^53 the translation succeeded (A/D are set, as step 7 says) but the access itself cannot be made:
    // the access fault the bus raises for memory that is not there.
    if (pa + 4096 > 2 ** 53) return this.raise('pa-range', level, va, access, user);
    const global = w.global || (pte & Pte.G) !== 0;
    // A clean page's TLB entry allows no store: the first store walks again and sets D (or faults, Svade).
    // The key word as tlbKey makes it, written out (an imported call on every miss costs a getter under tsx).
    const key = (Math.floor(vpn / 4294967296) & 0xf) | (global ? 0x10_0000 : asid << 4);
    this.tlb.fill(vpn | 0, asid, key, pte & Pte.D ? perm : perm & ~WRITE_BITS, pa, w.shift);
    // The slot of va holds the translation now; the caller reads the address from it.
    return 1;
  }
}
