/*
 * RISC-V page-table walkers: Sv32, Sv39 and Sv48 (privileged specification, "Supervisor-Level ISA", the
 * virtual-address translation process, with Svpbmt, Svnapot, Svade and Svadu). Re-implemented from the
 * specification's algorithm, step by step; the step numbers below are the specification's.
 */
import { FaultCode, VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { WalkerBase } from './walker-base.js';
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
// PBMT at 29–30, N at 31.
const HI_PPN = 0x3f_ffff;
const HI_RSV = 0x1fc0_0000;
const HI_PBMT = 0x6000_0000;
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
  // The high-word bits that are reserved with this walker's extensions.
  private readonly hiReserved: number;
  // 2^(bits × level) by level: the page number's index fields without a power computed per walk.
  private readonly levelDiv: Float64Array;

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
    this.hiReserved = HI_RSV | (this.svpbmt ? 0 : HI_PBMT) | (this.svnapot ? 0 : HI_N);
    this.levelDiv = Float64Array.from({ length: geo.levels }, (_, i) => 2 ** (geo.bits * i));
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
    this.flushes++;
    if (va !== undefined && this.wide && (va < -this.hiLimit * 4294967296 || va >= this.hiLimit * 4294967296)) return;
    const vpn = va === undefined ? null : Math.floor(this.normalize(va) / 4096);
    this.tlb.invalidate(vpn, asid ?? -1, asid === undefined);
    this.pscFlush();
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
    const mem = this.mem;
    const indexMask = g.pteSize === 8 ? 511 : 1023;
    let a = root;
    let global = false;
    let i = g.levels - 1;
    // The span of one last-level table (2 MiB; Sv32 4 MiB): a paging-structure cache hit starts at level 0.
    const span0 = Math.floor(vpn / this.levelDiv[1]);
    const c = this.pscFind(span0, root, asid);
    if (c >= 0) {
      a = this.pscTable[c];
      global = this.pscBits[c] !== 0;
      i = 0;
    }
    // Steps 2–4, from the root (level LEVELS-1) down.
    for (; i >= 0; i--) {
      const pteAddr = a + (Math.floor(vpn / this.levelDiv[i]) & indexMask) * g.pteSize;
      // Step 2: a PTE access that violates PMA (nothing answers there) raises the access fault of the access type.
      if (!this.readEntry(pteAddr, g.pteSize)) return this.raise('pte-access', i, va, access, user);
      const lo = this.entryLo;
      const hi = this.entryHi;
      // Step 3. With V=0 every other bit is the OS's, so nothing else is looked at.
      if ((lo & Pte.V) === 0) return this.raise('invalid', i, va, access, user);
      if ((lo & (Pte.R | Pte.W)) === Pte.W) return this.raise('write-only', i, va, access, user);
      if ((hi & this.hiReserved) !== 0) return this.raise('reserved', i, va, access, user);
      const ppnHi = hi & HI_PPN;
      const ppn = (lo >>> 10) + ppnHi * 4194304;
      if ((lo & (Pte.R | Pte.X)) === 0) {
        // Step 4, a pointer: D, A and U are reserved on it, and so are PBMT (Svpbmt) and N (Svnapot).
        if ((lo & (Pte.D | Pte.A | Pte.U)) !== 0 || (hi & (HI_PBMT | HI_N)) !== 0) return this.raise('reserved', i, va, access, user);
        // G on a pointer makes every mapping below it global.
        if ((lo & Pte.G) !== 0) global = true;
        if (i === 0) return this.raise('no-leaf', 0, va, access, user);
        a = ppn * 4096;
        if (i === 1) this.pscFill(span0, root, asid, a, global ? 1 : 0);
        continue;
      }
      // A leaf. PBMT=3 is reserved; N is defined only on a level-0 leaf whose PPN ends in 1000 (a 64 KiB page).
      if ((hi & HI_PBMT) === HI_PBMT) return this.raise('reserved', i, va, access, user);
      const napot = (hi & HI_N) !== 0;
      if (napot && (i !== 0 || (lo >>> 10) % 16 !== 8)) return this.raise('reserved', i, va, access, user);
      // Step 5: the R/W/X/U rules with SUM and MXR.
      const perm = PERM[(lo >>> 1) & 15];
      if (((perm >>> (3 * ctx)) & kinds) !== kinds) return this.raise('permission', i, va, access, user);
      // Step 6: a superpage's PPN must be aligned to its size.
      const span = this.levelDiv[i];
      if (i > 0 && ppn % span !== 0) return this.raise('misaligned', i, va, access, user);
      // Step 7: A, and D on a store.
      const needAd = kinds & 2 ? Pte.A | Pte.D : Pte.A;
      let pte = lo;
      if ((lo & needAd) !== needAd) {
        if (this.ad === 'svade') return this.raise((lo & Pte.A) === 0 ? 'accessed' : 'dirty', i, va, access, user);
        // Svadu: set them in RAM. The PTE was read from RAM just now and nothing runs in between, so the
        // specification's compare-and-set always succeeds here.
        pte = (lo | needAd) >>> 0;
        mem.write32(pteAddr, pte);
      }
      // Step 8: the page's frame — a superpage keeps va's lower VPN fields, a NAPOT page va's VPN[0] bits 3–0.
      const frame = napot ? ppn - 8 + (vpn & 15) : i > 0 ? ppn + (vpn & (span - 1)) : ppn;
      const pa = frame * 4096;
      // Beyond 2^53 the translation succeeded (A/D are set, as step 7 says) but the access itself cannot be made:
      // the access fault the bus raises for memory that is not there.
      if (pa + 4096 > 2 ** 53) return this.raise('pa-range', i, va, access, user);
      if ((pte & Pte.G) !== 0) global = true;
      const shift = napot ? 16 : 12 + g.bits * i;
      // A clean page's TLB entry allows no store: the first store walks again and sets D (or faults, Svade).
      // The key word as tlbKey makes it, written out (an imported call on every miss costs a getter under tsx).
      const key = (Math.floor(vpn / 4294967296) & 0xf) | (global ? 0x10_0000 : asid << 4);
      this.tlb.fill(vpn | 0, asid, key, pte & Pte.D ? perm : perm & ~WRITE_BITS, pa, shift);
      // The slot of va holds the translation now; the caller reads the address from it.
      return 1;
    }
    // Not reached: the loop returns at level 0.
    return FaultCode.BAD_ADDRESS;
  }
}
