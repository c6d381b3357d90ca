/*
 * The AArch64 page-table walker: VMSAv8-64 stage 1 for the EL1&0 regime with the 4 KiB granule (Arm ARM D8 "The
 * AArch64 Virtual Memory System Architecture"; D5 in older issues): TTBR0/TTBR1 by the top of the address and
 * TCR_EL1.T0SZ/T1SZ, table/block/page descriptors (1 GiB and 2 MiB blocks), AP[2:1], UXN/PXN with the table-level
 * APTable/UXNTable/PXNTable controls, the Access flag by fault or by hardware (FEAT_HAFDBS: TCR.HA), the dirty
 * state by DBM (TCR.HD), nG with 8- or 16-bit ASIDs, faults as ESR_EL1 (EC and DFSC/IFSC), and the TLBI operations.
 *
 * The order of checks is the pseudocode's (AArch64.S1Walk, then the permission check): per level, an external abort
 * on the descriptor read, a Translation fault (invalid or reserved descriptor), an Address size fault; then the
 * Access flag fault (HA = 0) in the walk; then the Permission fault; only an access that passes all of them sets AF
 * or clears AP[2] (HA/HD).
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { TableEntry, WalkerBase } from './walker-base.js';
import type { PageWalker, TranslateOptions, WalkFaultKind } from './types.js';
import { checkAccess, checkAsid, checkOptionsObject, checkRoot, resultOf } from './types.js';

/** The TCR_EL1 and SCTLR_EL1 fields an AArch64 walker runs with (fixed for its life). */
export interface Aarch64WalkerOptions {
  /**
   * TCR_EL1.T0SZ, 16 … 39 (default 16): TTBR0 translates `[0, 2^(64-T0SZ))`. 16 is a 48-bit half walked from level
   * 0 (four levels), 25 a 39-bit half walked from level 1 (three levels); the start level is the architecture's
   * `4 - ceil((64 - T0SZ - 12) / 9)`, its table `2^(64-T0SZ-12-9(3-level))` entries.
   */
  readonly t0sz?: number;
  /** TCR_EL1.T1SZ, 16 … 39 (default: T0SZ): TTBR1 translates `[-2^(64-T1SZ), 0)` (0xFFFF… addresses). */
  readonly t1sz?: number;
  /**
   * TCR_EL1.HA (default true, FEAT_HAFDBS): an access to a descriptor with AF (bit 10) = 0 sets AF in RAM. Without
   * it such an access is an Access flag fault.
   */
  readonly ha?: boolean;
  /**
   * TCR_EL1.HD (default true; needs `ha`): a write to a page with DBM (bit 51) = 1 and AP[2] = 1 (writable-clean)
   * clears AP[2] in RAM (dirty). Without it such a write is a Permission fault, and DBM only marks the page for
   * software.
   */
  readonly hd?: boolean;
  /**
   * TCR_EL1.IPS as a bit count: 32, 36, 40, 42, 44 or 48 (default 48). An output or next-table address at or
   * above 2^ips is an Address size fault.
   */
  readonly ips?: number;
  /** TCR_EL1.AS: 8 or 16 ASID bits (default 16). */
  readonly asidBits?: number;
  /** SCTLR_EL1.WXN (default false): a writable region is execute-never at that Exception level. */
  readonly wxn?: boolean;
  /** TLB slots, a power of two (default 256). */
  readonly tlbSize?: number;
}

// ESR_EL1 exception classes and fault status codes (Arm ARM D17 "ESR_EL1": ISS encoding for an exception from an
// Instruction Abort / a Data Abort).
const EC_IABT_LOWER = 0x20;
const EC_IABT_CUR = 0x21;
const EC_DABT_LOWER = 0x24;
const EC_DABT_CUR = 0x25;
const FSC_ADDRESS_SIZE = 0b000000;
const FSC_TRANSLATION = 0b000100;
const FSC_ACCESS_FLAG = 0b001000;
const FSC_PERMISSION = 0b001100;
const FSC_WALK_ABORT = 0b010100;
const ISS_WNR = 1 << 6;
const ESR_IL = 2 ** 25;

// Descriptor bits. Low word: valid 0, table/page 1, AP[1] 6, AP[2] 7, AF 10, nG 11. High word (bit 32 + n at n):
// output address bits 47:32 at 15:0, bits 49:48 RES0 at 17:16 (51:48 in a table descriptor), DBM 51 at 19,
// PXN 53 at 21, UXN 54 at 22, PXNTable 59 at 27, UXNTable 60 at 28, APTable 62:61 at 30:29.
const AP2 = 0x80;
const AF = 0x400;
const NG = 0x800;
const HI_DBM = 0x8_0000;

// The write bits of both privilege contexts in a permission word (EL1 at bits 0–2, EL0 at 3–5).
const WRITE_BITS = 0x12;

const IPS_VALUES = [32, 36, 40, 42, 44, 48];

/*
 * The walk core: VMSAv8-64 descriptor decoding and the descent through table descriptors, shared by
 * `Aarch64Walker`'s miss and the `aarch64` pmap's format (`src/aarch64.ts`), so the format is walked by one
 * implementation. Levels are counted from the leaf (0 = the Arm ARM's level 3). What stays with each consumer is
 * its policy: the walker's fault record, HA/HD (fault or update), TLB and paging-structure cache; the pmap's
 * access-mask conversion, software-served Access flag, probes and TLB slot fill.
 */

// What A64Walk.decode answers besides a leaf's permission key (0–63): a table descriptor, or a fault at the
// descriptor's level. The pmap file, which cannot see this enum, uses the literals (documented at decode).
const enum Desc {
  INVALID = -1,
  RESERVED = -5,
  ADDRESS_SIZE = -6,
  EXTERNAL = -7,
  POINTER = 64,
}

/**
 * @internal The high-word bits of a block or page descriptor that make an Address size fault under TCR_EL1.IPS =
 * `ips` bits: output address bits at or above IPS, and bits 49:48 (RES0 without FEAT_LPA2). A table descriptor
 * faults on these and bits 51:50 too (see {@link A64Walk.decode}).
 */
export function a64AddrFault(ips: number): number {
  return ((0xffff & ~(2 ** (ips - 32) - 1)) | 0x3_0000) >>> 0;
}

/**
 * @internal The kinds EL1 (bits 0–2) and EL0 (bits 3–5) may use on a block or page, by the 9-bit key
 * `A64Walk.key | tb << 6` (tb: PXNTable 0, UXNTable 1, APTable 2–3): the stage 1 EL1&0 check with PSTATE.PAN = 0.
 * APTable[0] takes EL0 data access away, APTable[1] write access; with `hd` (TCR_EL1.HD) a DBM page counts as
 * writable (the write clears its AP[2]) unless APTable[1] forbids writes. EL1 reads always; writes with AP[2] = 0;
 * EL0 reads with AP[1], writes with AP[2:1] = 01. EL0 executes without UXN/UXNTable — read permission is not needed
 * (execute-only memory); EL1 without PXN/PXNTable and never from a page EL0 may write. `wxn` (SCTLR_EL1.WXN): a
 * writable page executes at neither level.
 */
export function a64Rights(key: number, hd: boolean, wxn: boolean): number {
  const ap1 = (key & 1) !== 0 && (key & 0x100) === 0;
  const noWrite = (key & 0x200) !== 0;
  const writable = !noWrite && ((key & 2) === 0 || (hd && (key & 4) !== 0));
  const pxn = (key & 0x10) !== 0 || (key & 0x40) !== 0;
  const uxn = (key & 0x20) !== 0 || (key & 0x80) !== 0;
  const userW = ap1 && writable;
  const privX = !pxn && !userW && !(wxn && writable);
  const userX = !uxn && !(wxn && userW);
  const priv = 1 | (writable ? 2 : 0) | (privX ? 4 : 0);
  const user = (ap1 ? 1 : 0) | (userW ? 2 : 0) | (userX ? 4 : 0);
  return priv | (user << 3);
}

/**
 * @internal {@link A64Walk.page} as a plain function of the core's Address size mask, for a pmap's TLB miss: bound
 * to a module-local name it inlines without a load of the core object.
 */
export function a64Page(lo: number, hi: number, addrFault: number): number {
  if ((lo & 3) !== 3) return (lo & 1) === 0 ? Desc.INVALID : Desc.RESERVED;
  return (hi & addrFault) !== 0 ? Desc.ADDRESS_SIZE : ((lo >>> 6) & 3) | ((hi >>> 17) & 0x3c);
}

/** @internal {@link A64Walk.touches} as a plain function (see {@link a64Page}). */
export function a64Touches(lo: number, access: number): boolean {
  return ((lo ^ 0x400) & (0x400 | ((access & 2) << 6))) !== 0;
}

/**
 * @internal The walk core for one TCR_EL1.IPS: the descriptor decoder and the descent, with the descriptor the
 * last walk ended on. One per consumer (a walker, a pmap format), reused by every walk. Methods of an object rather
 * than imported functions: an imported binding is a cell the optimised miss path loads and checks at each call,
 * where a method of an object the caller holds as a constant folds into the code.
 */
export class A64Walk {
  /** Physical address of the last descriptor read (the block or page, or the one that faulted). */
  addr = 0;
  /** Its level (0 = the Arm ARM's level 3). */
  level = 0;
  /** Its words. */
  lo = 0;
  hi = 0;
  /** The table controls gathered on the way down: PXNTable (bit 0), UXNTable (1), APTable (2–3). */
  bits = 0;
  /** The level-0 table {@link A64Walk.descend} reached. */
  table0 = 0;
  /** The Address size mask of TCR_EL1.IPS ({@link a64AddrFault}). */
  readonly addrFault: number;
  private readonly entry = new TableEntry();

  constructor(ips: number) {
    this.addrFault = a64AddrFault(ips);
  }

  /**
   * The permission key of a block or page descriptor, 0–63: AP[2:1] (bits 1–0), and descriptor bits 54:51 as
   * they lie — DBM (2), Contiguous (3, a hint the rights ignore), PXN (4), UXN (5) — so it takes two shifts. With
   * the table controls (`bits << 6`) it indexes a rights table of 1024 made with {@link a64Rights}.
   */
  key(lo: number, hi: number): number {
    return ((lo >>> 6) & 3) | ((hi >>> 17) & 0x3c);
  }

  /**
   * Classifies descriptor `lo`/`hi` met at `level`, in the pseudocode's order: -1 invalid (Translation fault); -5
   * reserved (a block at the Arm ARM's level 0, which the 4 KiB granule has not, or a level 3 descriptor with bit 1
   * clear: Translation fault); -6 Address size fault; 64–79 a table descriptor, 64 | its APTable:UXNTable:PXNTable
   * (high word bits 30:27); else a block or page, its {@link A64Walk.key}.
   */
  decode(lo: number, hi: number, level: number): number {
    if ((lo & 1) === 0) return Desc.INVALID;
    if ((lo & 2) !== 0) {
      // Table descriptors have next-level address bits 51:48 where blocks have 49:48.
      if (level !== 0) return (hi & (this.addrFault | 0xc_0000)) !== 0 ? Desc.ADDRESS_SIZE : Desc.POINTER | ((hi >>> 27) & 0xf);
    } else if (level === 0 || level === 3) {
      return Desc.RESERVED;
    }
    return (hi & this.addrFault) !== 0 ? Desc.ADDRESS_SIZE : this.key(lo, hi);
  }

  /** {@link A64Walk.decode} at level 0, a 4 KiB page: -1, -5, -6 or its key. Small, for the TLB miss paths. */
  page(lo: number, hi: number): number {
    return a64Page(lo, hi, this.addrFault);
  }

  /**
   * The descriptor's low word after an access the permission check allowed (`access` an access code or kinds,
   * bit 1 a write): AF set, and AP[2] cleared by a write (the check lets a write through AP[2] = 1 only for a DBM
   * page under HD). The consumer stores it when it differs (HA/HD) or serves the difference as faults.
   */
  touched(lo: number, access: number): number {
    return ((access & 2) !== 0 ? (lo | 0x400) & ~0x80 : lo | 0x400) >>> 0;
  }

  /**
   * True when {@link A64Walk.touched} changes the descriptor: AF clear, or a write finding AP[2] set. One test,
   * for the miss paths, where the answer is almost always false.
   */
  touches(lo: number, access: number): boolean {
    return a64Touches(lo, access);
  }

  /**
   * The physical address of page `vpn` (counted within its half) mapped by the block or page descriptor
   * `lo`/`hi` at `level`. A block's output address bits below its size are ignored, as the architecture's address
   * composition ignores them (OA[47:n] from the descriptor, the rest from the input address).
   */
  output(lo: number, hi: number, level: number, vpn: number): number {
    const base = ((lo & 0xffff_f000) >>> 0) + (hi & 0xffff) * 4294967296;
    if (level === 0) return base;
    const span = 2 ** (9 * level);
    return base - (base % (span * 4096)) + (vpn % span) * 4096;
  }

  /**
   * From the table at `table` of `level` (the start level, or 0), follows the table descriptors indexed by `vpn`
   * (the page number within the half, below 2^37) down to the level-0 table or to the first descriptor that is not
   * a table descriptor, gathering the table controls in `bits` (they only take rights away). Returns 0 with
   * `table0` the level-0 table (its descriptor not read yet: {@link A64Walk.leaf}); a level 1–2 for a block there
   * (`addr`, `lo`, `hi`); or a negative {@link A64Walk.decode} fault (-7: the descriptor is not in RAM, an external
   * abort on the walk) met at `level`.
   */
  descend(mem: PhysicalMemory, table: number, level: number, vpn: number): number {
    const e = this.entry;
    let tb = 0;
    for (; level > 0; level--) {
      const idx = (vpn < 2147483648 ? vpn >>> (9 * level) : Math.floor(vpn / 2 ** (9 * level))) & 511;
      const addr = table + idx * 8;
      this.addr = addr;
      this.level = level;
      this.bits = tb;
      if (!e.read(mem, addr, 8)) return Desc.EXTERNAL;
      const lo = e.lo;
      const hi = e.hi;
      this.lo = lo;
      this.hi = hi;
      const d = this.decode(lo, hi, level);
      if (d < Desc.POINTER) return d < 0 ? d : level;
      tb |= d & 0xf;
      table = ((lo & 0xffff_f000) >>> 0) + (hi & 0xffff) * 4294967296;
    }
    this.bits = tb;
    this.table0 = table;
    return 0;
  }

  /**
   * The leaf step: reads the level-0 descriptor of page `vpn` in `table` (`addr`, `lo`, `hi`, `level` 0) and
   * answers as {@link A64Walk.page}, or -7 when it is not in RAM.
   */
  leaf(mem: PhysicalMemory, table: number, vpn: number): number {
    const e = this.entry;
    const addr = table + (vpn & 511) * 8;
    this.addr = addr;
    this.level = 0;
    if (!e.read(mem, addr, 8)) return Desc.EXTERNAL;
    const lo = e.lo;
    const hi = e.hi;
    this.lo = lo;
    this.hi = hi;
    return this.page(lo, hi);
  }
}

/**
 * An AArch64 (VMSAv8-64, 4 KiB granule) page-table walker with its own ASID-tagged TLB.
 *
 * **Roots.** `translate`'s `root` is TTBR0_EL1's table address (BADDR, without the ASID field), `options.ttbr1`
 * TTBR1_EL1's, `options.asid` the ASID (TTBR0_EL1 bits 63:48, TCR_EL1.A1 = 0).
 *
 * **Addresses.** The 64-bit virtual address as a signed number, as the x86-64 walker takes it: TTBR0's half is
 * `[0, 2^(64-T0SZ))`, TTBR1's `[-2^(64-T1SZ), 0)` (`-0x1000` is 0xFFFF_FFFF_FFFF_F000). Anything else is a level 0
 * Translation fault (kind `non-canonical`), as the architecture reports an address outside both ranges. Top-byte
 * ignore (TCR.TBI) is not modelled: a tagged pointer is not a number exactly.
 *
 * **Faults.** `fault.cause` is ESR_EL1.EC — 0x20/0x21 an Instruction Abort from EL0/EL1, 0x24/0x25 a Data Abort
 * from EL0/EL1 — and `fault.code` the ESR_EL1 value: EC, IL, and the DFSC/IFSC (Address size 0b0000nn,
 * Translation 0b0001nn, Access flag 0b0010nn, Permission 0b0011nn, external abort on the walk 0b0101nn, n the
 * lookup level) with WnR (bit 6) for a data write. `fault.va` is FAR_EL1.
 *
 * **TLB maintenance.** {@link Aarch64Walker.tlbiVmalle1}, {@link Aarch64Walker.tlbiVae1},
 * {@link Aarch64Walker.tlbiAside1}, {@link Aarch64Walker.tlbiVaae1}.
 */
export class Aarch64Walker extends WalkerBase implements PageWalker {
  /** The format this walker walks. */
  readonly format = 'aarch64' as const;
  /** The settings the walker was made with, defaults filled in. */
  readonly config: Readonly<Required<Omit<Aarch64WalkerOptions, 'tlbSize'>>>;
  // The address range in units of 2^32: TTBR0 below hiMax, TTBR1 from -hiMin.
  private readonly hiMax: number;
  private readonly hiMin: number;
  private readonly asidMask: number;
  // Per half (0: TTBR0, 1: TTBR1): the top table's level counted from the leaf (3 for ARM's level 0), the input
  // size in bits, and the root alignment.
  private readonly topLevel: Int32Array;
  private readonly inputSize: Int32Array;
  private readonly rootAlign: Float64Array;
  private readonly paLimit: number;
  // The permission word (a64Rights) by A64Walk.key | the table controls << 6.
  private readonly perms = new Int32Array(1024);
  // The walk core's state for this walker's misses.
  private readonly walk: A64Walk;

  /** A walker over `mem`; see {@link createWalker}. Bad options → `VmError('EINVAL')`. */
  constructor(mem: PhysicalMemory, options: Aarch64WalkerOptions = {}) {
    checkOptionsObject(options, 'options');
    for (const name of ['ha', 'hd', 'wxn'] as const) {
      const v = options[name];
      if (v !== undefined && typeof v !== 'boolean') throw new VmError('EINVAL', `options.${name} must be a boolean, got ${hex(v)}`);
    }
    const t0sz = options.t0sz ?? 16;
    const t1sz = options.t1sz ?? t0sz;
    for (const [name, v] of [
      ['t0sz', t0sz],
      ['t1sz', t1sz],
    ] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 16 || v > 39) {
        throw new VmError('EINVAL', `options.${name} must be an integer from 16 to 39 (a 48- to 25-bit half), got ${hex(v)}`);
      }
    }
    const ips = options.ips ?? 48;
    if (!IPS_VALUES.includes(ips)) throw new VmError('EINVAL', `options.ips must be one of ${IPS_VALUES.join(', ')}, got ${hex(ips)}`);
    const asidBits = options.asidBits ?? 16;
    if (asidBits !== 8 && asidBits !== 16) throw new VmError('EINVAL', `options.asidBits must be 8 or 16, got ${hex(asidBits)}`);
    const ha = options.ha ?? true;
    const hd = options.hd ?? ha;
    if (hd && !ha) throw new VmError('EINVAL', 'options.hd needs options.ha (TCR_EL1.HD takes effect only with HA)');
    super(mem, true, options.tlbSize);
    this.config = Object.freeze({ t0sz, t1sz, ha, hd, ips, asidBits, wxn: options.wxn ?? false });
    this.hiMax = 2 ** (32 - t0sz);
    this.hiMin = 2 ** (32 - t1sz);
    this.asidMask = 2 ** asidBits - 1;
    this.inputSize = Int32Array.of(64 - t0sz, 64 - t1sz);
    this.topLevel = new Int32Array(2);
    this.rootAlign = new Float64Array(2);
    for (let h = 0; h < 2; h++) {
      const size = this.inputSize[h];
      const start = 4 - Math.ceil((size - 12) / 9);
      this.topLevel[h] = 3 - start;
      // The start table holds 2^(size - 12 - 9 (3 - start)) descriptors and is aligned to its size (64 bytes at least).
      this.rootAlign[h] = Math.max(64, 8 * 2 ** (size - 12 - 9 * (3 - start)));
    }
    this.paLimit = 2 ** ips;
    this.walk = new A64Walk(ips);
    for (let key = 0; key < 1024; key++) this.perms[key] = a64Rights(key, hd, this.config.wxn);
  }

  /**
   * Translates `va` for `access` over the tables at `root` (TTBR0's) and `options.ttbr1` (see the class
   * description and {@link PageWalker.translate}); `options.asid` is the ASID; `sum`, `mxr` and `dacr` are ignored.
   * A fault returns its `FaultCode` (`NOT_MAPPED` a Translation fault on an invalid descriptor, `PROTECTION` a
   * Permission or Access flag fault, `NON_CANONICAL` an address outside both ranges, `BAD_ADDRESS` a reserved
   * encoding, an Address size fault or an external abort) with the EC, ESR, FAR and level in
   * {@link Aarch64Walker.fault}.
   */
  translate(root: number, va: number, access: number, options?: TranslateOptions): number {
    if (typeof va !== 'number' || typeof access !== 'number' || options === null || (options !== undefined && typeof options !== 'object')) {
      this.refuse(va, access, options);
    }
    let ctx = (access >>> 3) & 1;
    let asid = 0;
    if (options !== undefined) {
      if (options.user === true) ctx = 1;
      if (options.asid !== undefined) asid = options.asid;
    }
    // As RiscvWalker's 64-bit hit test; the key's page-number part holds 5 bits here (two 48-bit halves make a
    // 37-bit signed page number): the nibble and, for bits 32–36 outside [-8, 8), the WIDE_KEY bit 21.
    const kinds = access & 7;
    const need = (kinds > 4 ? 0 : kinds) << (3 * ctx);
    const e = this.e;
    const low = va >>> 0;
    const hi = (va - low) * 2.3283064365386963e-10;
    const lo = (low >>> 12) | (hi << 20);
    const top = hi >> 12;
    const nib = (top & 0xf) | ((((top + 8) >> 4) & 1) << 21);
    const k = ((lo ^ (asid * 97)) & this.tlbMask) << 3;
    const kw = e[k + 1];
    if (
      e[k] === lo &&
      (kw === (nib | (asid << 4)) || kw === (nib | 0x10_0000)) &&
      (e[k + 2] & need) === need &&
      need !== 0 &&
      hi === (hi | 0) &&
      typeof va === 'number' &&
      hi >= -this.hiMin &&
      hi < this.hiMax &&
      access === (access & 15) &&
      asid === (asid & this.asidMask)
    ) {
      this.hits++;
      // A frame below 4 GiB answers as a uint32 straight from the slot (see WalkerBase.fromSlot).
      if (e[k + 4] === 0) return (e[k + 3] | (low & 4095)) >>> 0;
    } else {
      const r = this.miss(root, va, access, ctx, asid, options);
      if (r < 0) return r;
    }
    return this.fromSlot(k, low);
  }

  /** TLBI VMALLE1: drops every entry, global ones included. */
  tlbiVmalle1(): void {
    this.flushAll();
  }

  /**
   * TLBI VAE1: drops the entries of the page of `va` tagged with `asid`, and the global entries of that page (a
   * block containing `va` goes whole). An address in neither half matches nothing. Bad arguments →
   * `VmError('EINVAL')`.
   */
  tlbiVae1(va: number, asid: number): void {
    this.checkVa(va, 'va');
    checkAsid(asid, this.config.asidBits, 'asid');
    this.flush(Math.floor(va / 4096), asid, true);
  }

  /** TLBI ASIDE1: drops every non-global entry tagged with `asid`; global entries stay. Bad ASID → `VmError('EINVAL')`. */
  tlbiAside1(asid: number): void {
    checkAsid(asid, this.config.asidBits, 'asid');
    this.flush(null, asid, false);
  }

  /** TLBI VAAE1: drops the entries of the page of `va` under every ASID, global ones too. Bad `va` → `VmError('EINVAL')`. */
  tlbiVaae1(va: number): void {
    this.checkVa(va, 'va');
    this.flush(Math.floor(va / 4096), -1, true);
  }

  private raise(kind: WalkFaultKind, level: number, va: number, access: number, user: boolean): number {
    const f = this.fault;
    const kinds = access & 7;
    let fsc: number;
    switch (kind) {
      case 'address-size':
        fsc = FSC_ADDRESS_SIZE;
        break;
      case 'accessed':
        fsc = FSC_ACCESS_FLAG;
        break;
      case 'permission':
      case 'dirty':
        fsc = FSC_PERMISSION;
        break;
      case 'pte-access':
        fsc = FSC_WALK_ABORT;
        break;
      default:
        fsc = FSC_TRANSLATION;
    }
    // The lookup level the manual reports: 3 - ours; an address outside both ranges, or a disabled TTBR1, is level 0.
    fsc |= level < 0 ? 0 : 3 - level;
    const ec = kinds === 4 ? (user ? EC_IABT_LOWER : EC_IABT_CUR) : user ? EC_DABT_LOWER : EC_DABT_CUR;
    f.result = resultOf(kind);
    f.kind = kind;
    f.va = va;
    f.level = level;
    f.access = kinds | (user ? 8 : 0);
    f.cause = ec;
    f.code = ec * 2 ** 26 + ESR_IL + fsc + (kinds !== 4 && (kinds & 2) !== 0 ? ISS_WNR : 0);
    this.faults++;
    return f.result;
  }

  // The cold path: argument checks, then the walk. Returns 1 when the TLB slot of `va` under `asid` now holds the
  // translation, or the fault's code.
  private miss(root: number, va: number, access: number, ctx: number, asid: number, options: TranslateOptions | undefined): number {
    const kinds = access & 7;
    const ttbr1 = options === undefined || options.ttbr1 === undefined ? -1 : options.ttbr1;
    const ok =
      va === Math.floor(va) &&
      va >= -(2 ** 63) &&
      va < 2 ** 63 &&
      access === (access & 15) &&
      kinds !== 0 &&
      kinds < 5 &&
      typeof root === 'number' &&
      root >= 0 &&
      root < this.paLimit &&
      root % this.rootAlign[0] === 0 &&
      asid === (asid & this.asidMask) &&
      (ttbr1 === -1 || (typeof ttbr1 === 'number' && ttbr1 >= 0 && ttbr1 < this.paLimit && ttbr1 % this.rootAlign[1] === 0));
    if (!ok) {
      this.checkVa(va, 'va');
      checkAccess(access);
      checkRoot(root, this.rootAlign[0], this.paLimit);
      checkAsid(asid, this.config.asidBits, 'options.asid');
      if (ttbr1 !== -1) checkRoot(ttbr1, this.rootAlign[1], this.paLimit);
    }
    this.misses++;
    const user = (ctx & 1) !== 0;
    // TTBR0 for the lower range, TTBR1 for the upper; between them (or beyond 2^63) a level 0 Translation fault.
    const half = va < 0 ? 1 : 0;
    if (va >= this.hiMax * 4294967296 || va < -this.hiMin * 4294967296) return this.raise('non-canonical', -1, va, access, user);
    // TCR_EL1.EPD1 = 1: no walk from TTBR1, a level 0 Translation fault.
    if (half === 1 && ttbr1 < 0) return this.raise('invalid', -1, va, access, user);
    const start = half === 1 ? ttbr1 : root;
    // The offset within the half indexes every level's table (the start table's index takes what is left of it).
    const v = half === 1 ? va + 2 ** this.inputSize[1] : va;
    const vpn = Math.floor(v / 4096);
    const svpn = Math.floor(va / 4096);
    const w = this.walk;
    // The span of one level-3 table (2 MiB), signed so the two halves never share a key.
    const span0 = Math.floor(svpn / 512);
    const c = this.pscFind(span0, start, asid);
    let tb: number;
    let d: number;
    if (c >= 0) {
      tb = this.pscBits[c];
      d = w.leaf(this.mem, this.pscTable[c], vpn);
    } else {
      d = w.descend(this.mem, start, this.topLevel[half], vpn);
      tb = w.bits;
      if (d === 0) {
        const table = w.table0;
        this.pscFill(span0, start, asid, table, tb);
        d = w.leaf(this.mem, table, vpn);
      }
    }
    const level = w.level;
    if (d < 0) return this.raise(faultKind(d), level, va, access, user);
    const lo = w.lo;
    const hi = w.hi;
    // The Access flag, inside the walk: before the permission check.
    if ((lo & AF) === 0 && !this.config.ha) return this.raise('accessed', level, va, access, user);
    const key = w.key(lo, hi) | (tb << 6);
    const perm = this.perms[key];
    if (((perm >>> (3 * ctx)) & kinds) !== kinds) {
      // A write refused only because the page is writable-clean (DBM with AP[2] set, no HD): the fault a kernel
      // emulating the dirty state takes.
      const clean = (kinds & 2) !== 0 && (hi & HI_DBM) !== 0 && (lo & AP2) !== 0 && (((this.perms[key & ~2] >>> (3 * ctx)) & kinds) === kinds);
      return this.raise(clean ? 'dirty' : 'permission', level, va, access, user);
    }
    // The hardware updates: AF (HA), and AP[2] cleared by a write to a DBM page (HD) — the permission check has
    // let the write through only because of DBM. Only the low word changes.
    const desc = w.touched(lo, kinds);
    if (desc !== lo) this.mem.write32(w.addr, desc);
    // A page still read-only by AP[2] (clean, or read-only) is cached without writes: a write walks again.
    const cached = (desc & AP2) !== 0 ? perm & ~WRITE_BITS : perm;
    const pa = w.output(lo, hi, level, vpn);
    const global = (desc & NG) === 0;
    const vhi = Math.floor(svpn / 4294967296);
    const tkey = (vhi & 0xf) | ((((vhi + 8) >> 4) & 1) << 21) | (global ? 0x10_0000 : asid << 4);
    this.tlb.fill(svpn | 0, asid, tkey, cached, pa, 12 + 9 * level);
    return 1;
  }
}

// The walker's fault kind for a negative answer of the walk core.
function faultKind(d: number): WalkFaultKind {
  return d === Desc.INVALID ? 'invalid' : d === Desc.RESERVED ? 'reserved' : d === Desc.ADDRESS_SIZE ? 'address-size' : 'pte-access';
}
