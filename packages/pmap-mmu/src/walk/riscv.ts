/*
 * RISC-V page-table walkers: Sv32, Sv39 and Sv48 (privileged specification, "Supervisor-Level ISA", the
 * virtual-address translation process, with Svpbmt, Svnapot, Svade and Svadu). Re-implemented from the
 * specification's algorithm, step by step; the step numbers below are the specification's.
 */
import { FaultCode, VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { GLOBAL_KEY, WalkTlb, tlbKey } from './tlb.js';
import type { PageWalker, TranslateOptions, WalkFaultKind, WalkerStats } from './types.js';
import { KINDS_OF, WalkFault, checkAccess, checkAsid, checkOptionsObject, checkRoot, resultOf } from './types.js';

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
export class RiscvWalker implements PageWalker {
  /** The format this walker walks. */
  readonly format: RiscvFormat;
  /** The last fault's details (see {@link WalkFault}). */
  readonly fault = new WalkFault();
  /** The walker's TLB (its slots can be inspected; flush it through {@link RiscvWalker.sfenceVma}). */
  readonly tlb: WalkTlb;
  /** How A/D are maintained (`'svadu'` or `'svade'`). */
  readonly ad: 'svadu' | 'svade';
  /** Whether Svpbmt is implemented (always false for Sv32). */
  readonly svpbmt: boolean;
  /** Whether Svnapot is implemented (always false for Sv32). */
  readonly svnapot: boolean;
  private readonly mem: PhysicalMemory;
  private readonly geo: Geometry;
  private readonly wide: boolean;
  // Sv39/Sv48: the upper half of a canonical address divided by 2^32 lies in [-hiLimit, hiLimit).
  private readonly hiLimit: number;
  private readonly asidMask: number;
  // The high-word bits that are reserved with this walker's extensions.
  private readonly hiReserved: number;
  private readonly e: Int32Array;
  private readonly tlbMask: number;
  private hits = 0;
  private misses = 0;
  private flushes = 0;
  private faults = 0;

  /** A walker over `mem`; see {@link createWalker}. Unknown format or bad options → `VmError('EINVAL')`. */
  constructor(format: RiscvFormat, mem: PhysicalMemory, options: RiscvWalkerOptions = {}) {
    if (typeof format !== 'string' || !Object.hasOwn(GEOMETRY, format)) {
      throw new VmError('EINVAL', `format must be sv32, sv39 or sv48, got ${hex(format)}`);
    }
    if (mem === null || typeof mem !== 'object' || typeof mem.isRam !== 'function') {
      throw new VmError('EINVAL', `mem must be a PhysicalMemory, got ${hex(mem)}`);
    }
    checkOptionsObject(options, 'options');
    const ad = options.ad ?? 'svadu';
    if (ad !== 'svadu' && ad !== 'svade') throw new VmError('EINVAL', `options.ad must be 'svadu' or 'svade', got ${hex(ad)}`);
    for (const name of ['svpbmt', 'svnapot'] as const) {
      const v = options[name];
      if (v !== undefined && typeof v !== 'boolean') throw new VmError('EINVAL', `options.${name} must be a boolean, got ${hex(v)}`);
    }
    this.format = format;
    this.mem = mem;
    this.geo = GEOMETRY[format];
    this.wide = this.geo.pteSize === 8;
    this.hiLimit = 2 ** (this.geo.vaBits - 1 - 32);
    this.asidMask = 2 ** this.geo.asidBits - 1;
    this.ad = ad;
    this.svpbmt = this.wide && options.svpbmt !== false;
    this.svnapot = this.wide && options.svnapot !== false;
    this.hiReserved = HI_RSV | (this.svpbmt ? 0 : HI_PBMT) | (this.svnapot ? 0 : HI_N);
    this.tlb = new WalkTlb(options.tlbSize);
    this.e = this.tlb.entries;
    this.tlbMask = this.tlb.mask;
  }

  /**
   * Translates `va` for `access` over the tables at `root` (see the class description and
   * {@link PageWalker.translate}). A TLB hit reads one slot; a miss walks RAM, sets A/D (Svadu) and fills the
   * slot. A fault returns its `FaultCode` (`NOT_MAPPED` for V=0, `PROTECTION` for a denied access or an Svade
   * A/D fault, `NON_CANONICAL`, `BAD_ADDRESS` for reserved encodings, misaligned superpages, a pointer at level 0,
   * and access faults) with `scause`, `stval` and the level in {@link RiscvWalker.fault}.
   */
  translate(root: number, va: number, access: number, options?: TranslateOptions): number {
    let ctx = (access >>> 3) & 1;
    let asid = 0;
    if (options !== undefined) {
      if (options.user === true) ctx = 1;
      if (options.sum === true) ctx |= 2;
      if (options.mxr === true) ctx |= 4;
      if (options.asid !== undefined) asid = options.asid;
    }
    const need = KINDS_OF[access & 7] << (3 * ctx);
    const e = this.e;
    if (this.wide) {
      const hi = Math.floor(va / 4294967296);
      const low = va - hi * 4294967296;
      const lo = (low >>> 12) | (hi << 20);
      const nib = (hi >> 12) & 0xf;
      const k = ((lo ^ (asid * 97)) & this.tlbMask) << 3;
      const kw = e[k + 1];
      if (
        e[k] === lo &&
        (kw === (nib | (asid << 4)) || kw === (nib | GLOBAL_KEY)) &&
        (e[k + 2] & need) === need &&
        need !== 0 &&
        low === low >>> 0 &&
        typeof va === 'number' &&
        hi >= -this.hiLimit &&
        hi < this.hiLimit &&
        access === (access & 15) &&
        asid === (asid & 0xffff)
      ) {
        this.hits++;
        const pw = e[k + 4];
        return pw === 0 ? (e[k + 3] | (low & 4095)) >>> 0 : pw * 4294967296 + ((e[k + 3] | (low & 4095)) >>> 0);
      }
    } else {
      const lo = va >>> 12;
      const k = ((lo ^ (asid * 97)) & this.tlbMask) << 3;
      const kw = e[k + 1];
      if (
        e[k] === lo &&
        (kw === asid << 4 || kw === GLOBAL_KEY) &&
        (e[k + 2] & need) === need &&
        need !== 0 &&
        (va === va >>> 0 || va === (va | 0)) &&
        access === (access & 15) &&
        asid === (asid & 0x1ff)
      ) {
        this.hits++;
        const pw = e[k + 4];
        return pw === 0 ? (e[k + 3] | (va & 4095)) >>> 0 : pw * 4294967296 + ((e[k + 3] | (va & 4095)) >>> 0);
      }
    }
    return this.miss(root, va, access, ctx, asid);
  }

  /**
   * `sfence.vma rs1, rs2`: with neither argument, every entry goes (global ones too); with `va` only, every
   * entry for the page of `va` in every address space; with `asid` only, every non-global entry of that ASID; with
   * both, the non-global entries of that ASID for that page. Global entries survive any flush naming an ASID, as
   * the specification says. Entries of a superpage containing `va` go whole. Bad arguments → `VmError('EINVAL')`.
   */
  sfenceVma(va?: number, asid?: number): void {
    if (va !== undefined) this.checkVa(va, 'va');
    if (asid !== undefined) checkAsid(asid, this.geo.asidBits, 'asid');
    this.flushes++;
    const vpn = va === undefined ? null : Math.floor(this.normalize(va) / 4096);
    this.tlb.invalidate(vpn, asid ?? -1, asid === undefined);
  }

  /** Drops every TLB entry, global ones included (`sfence.vma x0, x0`). */
  flushAll(): void {
    this.flushes++;
    this.tlb.invalidate(null, -1, true);
  }

  /** The TLB's counters. */
  stats(): WalkerStats {
    return { hits: this.hits, misses: this.misses, flushes: this.flushes, faults: this.faults, entries: this.tlb.count() };
  }

  // Sv32 takes a signed 32-bit address too; the walk uses its unsigned form.
  private normalize(va: number): number {
    return this.wide ? va : va >>> 0;
  }

  private checkVa(va: unknown, name: string): asserts va is number {
    const ok =
      typeof va === 'number' &&
      Number.isInteger(va) &&
      (this.wide ? va >= -(2 ** 63) && va < 2 ** 63 : va >= -(2 ** 31) && va < 2 ** 32);
    if (!ok) {
      throw new VmError(
        'EINVAL',
        `${name} must be an integer ${this.wide ? 'in [-2^63, 2^63) (a 64-bit address read as signed)' : 'in [-2^31, 2^32) (a 32-bit address)'}, got ${hex(va)}`,
      );
    }
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

  // The cold path: argument checks (junk never reaches the tables), then the walk.
  private miss(root: number, va: number, access: number, ctx: number, asid: number): number {
    this.checkVa(va, 'va');
    checkAccess(access);
    checkRoot(root, 4096, this.geo.rootLimit);
    checkAsid(asid, this.geo.asidBits, 'options.asid');
    this.misses++;
    const user = (ctx & 1) !== 0;
    const g = this.geo;
    const kinds = access & 7;
    // Canonical check (Sv39/Sv48): bits 63…vaBits must all equal bit vaBits-1, else a page fault.
    if (this.wide && (va < -(2 ** (g.vaBits - 1)) || va >= 2 ** (g.vaBits - 1))) return this.raise('non-canonical', -1, va, access, user);
    const v = this.normalize(va);
    const vpn = Math.floor(v / 4096);
    const mem = this.mem;
    const entries = 2 ** g.bits;
    let a = root;
    let global = false;
    // Steps 2–4, from the root (level LEVELS-1) down.
    for (let i = g.levels - 1; i >= 0; i--) {
      const pteAddr = a + (Math.floor(vpn / 2 ** (g.bits * i)) & (entries - 1)) * g.pteSize;
      // Step 2: a PTE access that violates PMA (nothing answers there) raises the access fault of the access type.
      if (!mem.isRam(pteAddr, g.pteSize)) return this.raise('pte-access', i, va, access, user);
      const lo = mem.read32(pteAddr);
      const hi = g.pteSize === 8 ? mem.read32(pteAddr + 4) : 0;
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
      const span = 2 ** (g.bits * i);
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
      const frame = napot ? ppn - 8 + (vpn & 15) : i > 0 ? ppn + (vpn % span + span) % span : ppn;
      const pa = frame * 4096;
      if (pa + 4096 > 2 ** 53) return this.raise('pa-range', i, va, access, user);
      if ((pte & Pte.G) !== 0) global = true;
      const shift = napot ? 16 : 12 + g.bits * i;
      // A clean page's TLB entry allows no store: the first store walks again and sets D (or faults, Svade).
      this.tlb.fill(vpn | 0, asid, tlbKey(Math.floor(vpn / 4294967296), asid, global), pte & Pte.D ? perm : perm & ~WRITE_BITS, pa, shift);
      return pa + (va & 4095);
    }
    // Not reached: the loop returns at level 0.
    return FaultCode.BAD_ADDRESS;
  }
}
