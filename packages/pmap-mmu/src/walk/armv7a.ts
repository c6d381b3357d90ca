/*
 * The ARMv7-A short-descriptor page-table walker (ARM ARM ARMv7-A/R, B3.5 "Short-descriptor translation table
 * format", B3.6–B3.7 access controls, B3.12–B3.13 fault reporting, B4.2 TLB maintenance), one stage, PL1&0 regime:
 * TTBR0/TTBR1 chosen by TTBCR.N; first-level fault, page-table, section and supersection descriptors; second-level
 * fault, large-page and small-page descriptors; AP[2:0] (or AP[2:1] with the access flag, SCTLR.AFE), XN, PXN,
 * domains with the DACR, nG with an 8-bit ASID; faults as the IFSR/DFSR short-descriptor fault status.
 *
 * The order in which a walk checks is the architecture's (the ARMv8 ARM's AArch32 translation pseudocode, which
 * ARMv7 shares): the first-level descriptor, the second-level one, the access flag (inside the walk), then the
 * domain, then the access permissions. So a fault descriptor at the second level is a Translation fault even in a
 * no-access domain, and an Access flag fault beats a Domain fault.
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { WalkerBase } from './walker-base.js';
import type { TableEntry } from './walker-base.js';
import type { PageWalker, TranslateOptions, WalkFaultKind } from './types.js';
import { checkAccess, checkAsid, checkOptionsObject, checkRoot, resultOf } from './types.js';

/** The control-register bits and implementation choices an ARMv7-A walker runs with (fixed for its life). */
export interface Armv7aWalkerOptions {
  /**
   * TTBCR.N, 0 … 7 (default 0): with N > 0, addresses whose top N bits are not all zero are translated from TTBR1
   * (`options.ttbr1`), the rest from TTBR0 (`root`), whose table then holds 4096 >> N entries (16 KiB >> N, aligned
   * to its size). With N = 0 TTBR0 translates every address and TTBR1 is never used.
   */
  readonly ttbcrN?: number;
  /**
   * SCTLR.AFE (default false): AP[0] is the access flag — a section or page with AP[0] = 0 raises an Access flag
   * fault (ARMv7 without hardware access-flag management, as ARMv8's AArch32 requires) — and AP[2:1] alone give the
   * rights (the simplified model). Without it AP[2:0] give the rights.
   */
  readonly afe?: boolean;
  /**
   * The implementation includes PXN (default true, as every core with the Large Physical Address Extension):
   * first-level bit 0 of a section and bit 2 of a page-table descriptor forbid PL1 execution. Without it those bits
   * are ignored and a first-level descriptor with bits[1:0] = 0b11 is reserved (a Translation fault).
   */
  readonly pxn?: boolean;
  /** SCTLR.WXN (default false, Virtualization Extensions): a region writable at some level is execute-never there. */
  readonly wxn?: boolean;
  /** SCTLR.UWXN (default false): a region PL0 may write is execute-never at PL1. */
  readonly uwxn?: boolean;
  /** TLB slots, a power of two (default 256). */
  readonly tlbSize?: number;
}

// Exceptions (vector offsets) and the short-descriptor fault status codes (ARM ARM B3.13.3, table B3-23).
const PREFETCH_ABORT = 0x0c;
const DATA_ABORT = 0x10;
/** FS by fault kind, first level (section) then second level (page). */
const FS_TRANSLATION_L1 = 0b00101;
const FS_TRANSLATION_L2 = 0b00111;
const FS_ACCESS_FLAG_L1 = 0b00011;
const FS_ACCESS_FLAG_L2 = 0b00110;
const FS_DOMAIN_L1 = 0b01001;
const FS_DOMAIN_L2 = 0b01011;
const FS_PERMISSION_L1 = 0b01101;
const FS_PERMISSION_L2 = 0b01111;
const FS_WALK_ABORT_L1 = 0b01100;
const FS_WALK_ABORT_L2 = 0b01110;
const FSR_WNR = 1 << 11;

// The permission word a Manager domain gives: every kind in both privilege contexts (no permission check at all).
const MANAGER = 0x3f;

/**
 * @internal The settings a short-descriptor walk reads descriptors under, as bits: the implementation includes
 * PXN (section bit 0, page-table bit 2; without it a first-level 0b11 is reserved), SCTLR.AFE (AP[0] is the access
 * flag).
 */
export const enum Armv7aConfig {
  PXN = 1,
  AFE = 2,
}

/**
 * @internal What {@link armv7aEntry} and {@link armv7aWalk} return besides a permission word: a first-level
 * page-table descriptor, the size field of a leaf's result, and the faults, negative, odd at the first level and
 * even at the second (so `r & 1` is the level's bit).
 */
export const enum Armv7a {
  /** armv7aEntry: a first-level page-table descriptor (a pointer). */
  TABLE = 0x4000_0000,
  /** armv7aWalk: a leaf's result is its permission word (bits 0–23) | log2 of its size << 24. */
  SIZE_SHIFT = 24,
  PERM_MASK = 0xff_ffff,
  TRANSLATION_L1 = -1,
  TRANSLATION_L2 = -2,
  ACCESS_FLAG_L1 = -3,
  ACCESS_FLAG_L2 = -4,
  /** The descriptor lies outside RAM: the synchronous external abort on a translation table walk. */
  ABORT_L1 = -5,
  ABORT_L2 = -6,
}

/**
 * @internal The kinds each privilege level may use on a page with AP[2:0] `ap`, `xn` and `pxn` in a client
 * domain, as the AArch32 permission check reads them (`afe`: SCTLR.AFE, `wxn`/`uwxn`: SCTLR.WXN/UWXN): with the
 * access flag or AP[0] = 1, AP[2] forbids writes and AP[1] gives PL0 access; otherwise AP[2:1] = 00 is no access,
 * 01 PL1 read/write with PL0 read-only, 10 (the encoding ARMv7 reserves, AP = 0b100) PL1 read-only and 11
 * read-only for both. Execution needs read permission at that level, no XN, and at PL1 no PXN; with WXN a writable
 * region does not execute, with UWXN a region PL0 may write does not execute at PL1. Returns the PL1 kinds
 * (READ 1, WRITE 2, EXEC 4) | the PL0 kinds << 3.
 */
export function armv7aRights(ap: number, xn: boolean, pxn: boolean, afe: boolean, wxn: boolean, uwxn: boolean): number {
  const ap2 = ap >>> 2;
  const ap1 = (ap >>> 1) & 1;
  let privR: boolean;
  let privW: boolean;
  let userR: boolean;
  let userW: boolean;
  if (afe || (ap & 1) !== 0) {
    privR = true;
    privW = ap2 === 0;
    userR = ap1 === 1;
    userW = ap2 === 0 && ap1 === 1;
  } else {
    privR = ap >>> 1 !== 0;
    privW = ap >>> 1 === 1;
    userR = ap1 === 1;
    userW = false;
  }
  const userX = userR && !xn && !(wxn && userW);
  const privX = privR && !xn && !pxn && !(wxn && privW) && !(uwxn && userW);
  const priv = (privR ? 1 : 0) | (privW ? 2 : 0) | (privX ? 4 : 0);
  const user = (userR ? 1 : 0) | (userW ? 2 : 0) | (userX ? 4 : 0);
  return priv | (user << 3);
}

/**
 * @internal Classifies descriptor `d` at `level` (1: first, 2: second) read under `config` ({@link Armv7aConfig}):
 * {@link Armv7a.TABLE} for a first-level page-table descriptor; for a section, supersection, large or small page
 * its permission word, `perm[AP[2:0] | XN << 3 | PXN << 4]` (the consumer's table of {@link armv7aRights}; a page's
 * PXN is its page-table descriptor's, `tablePxn`, 0/1); else a Translation or Access flag fault.
 */
export function armv7aEntry(d: number, level: number, tablePxn: number, config: number, perm: Int32Array): number {
  return level === 1 ? armv7aFirst(d, config, perm) : armv7aSecond(d, tablePxn, config, perm);
}

/** @internal {@link armv7aEntry} at the first level. */
export function armv7aFirst(d: number, config: number, perm: Int32Array): number {
  const type = d & 3;
  // 0b00 is a fault descriptor; 0b11 is a section with PXN, or reserved where PXN is not implemented.
  if (type === 0 || (type === 3 && (config & Armv7aConfig.PXN) === 0)) return Armv7a.TRANSLATION_L1;
  if (type === 1) return Armv7a.TABLE;
  if ((config & Armv7aConfig.AFE) !== 0 && (d & 0x400) === 0) return Armv7a.ACCESS_FLAG_L1;
  // AP[1:0] bits 11:10, AP[2] bit 15, XN bit 4, PXN bit 0 (supersections alike).
  return perm[((d >>> 10) & 3) | ((d >>> 13) & 4) | ((d & 0x10) >>> 1) | ((config & d & 1) << 4)];
}

/** @internal {@link armv7aEntry} at the second level: small and large pages, under page-table PXN `tablePxn`. */
export function armv7aSecond(d: number, tablePxn: number, config: number, perm: Int32Array): number {
  // A small page (1x) first: the usual leaf.
  if ((d & 2) !== 0) return armv7aSmall(d, tablePxn, config, perm);
  if ((d & 1) === 0) return Armv7a.TRANSLATION_L2;
  // A large page (01): AP as a small page's, XN bit 15.
  if ((config & Armv7aConfig.AFE) !== 0 && (d & 0x10) === 0) return Armv7a.ACCESS_FLAG_L2;
  return perm[((d >>> 4) & 3) | ((d >>> 7) & 4) | (((d >>> 15) & 1) << 3) | (tablePxn << 4)];
}

/**
 * @internal {@link armv7aSecond} of a small page descriptor ({@link armv7aIsSmall}): AP[2] bit 9, AP[1:0] bits 5:4
 * (AP[0] the access flag with AFE), XN bit 0. A consumer's fast path for the leaf it meets most.
 */
export function armv7aSmall(d: number, tablePxn: number, config: number, perm: Int32Array): number {
  if ((config & Armv7aConfig.AFE) !== 0 && (d & 0x10) === 0) return Armv7a.ACCESS_FLAG_L2;
  return perm[((d >>> 4) & 3) | ((d >>> 7) & 4) | ((d & 1) << 3) | (tablePxn << 4)];
}

/** @internal True for a second-level small page descriptor (bits[1:0] = 0b1x). */
export function armv7aIsSmall(d: number): boolean {
  return (d & 2) !== 0;
}

/** @internal True for a first-level page-table descriptor (bits[1:0] = 0b01). */
export function armv7aIsTable(d: number): boolean {
  return (d & 3) === 1;
}

/**
 * @internal What a walk keeps of first-level page-table descriptor `d` for its second level (and a
 * paging-structure cache with the table): its domain (bits 8:5) | PXN (bit 2, where `config` implements it) << 4.
 */
export function armv7aTableBits(d: number, config: number): number {
  return ((d >>> 5) & 15) | ((config & (d >>> 2) & 1) << 4);
}

/**
 * @internal The physical address of the 4 KiB page of `v` (a uint32 address) under leaf descriptor `d` at `level`:
 * a supersection's PA[31:24] from bits 31:24, PA[35:32] from 23:20 and PA[39:36] from 8:5; a section's base 31:20;
 * a large page's 31:16 (any of its 16 replicas); a small page's 31:12.
 */
export function armv7aFrame(d: number, level: number, v: number): number {
  if (level === 1) {
    if ((d & 0x4_0000) !== 0) {
      return ((d & 0xff00_0000) >>> 0) + (v & 0x00ff_f000) + (((d >>> 20) & 15) + ((d >>> 5) & 15) * 16) * 4294967296;
    }
    return ((d & 0xfff0_0000) >>> 0) + (v & 0x000f_f000);
  }
  return armv7aPageBits(d, v >>> 12) >>> 0;
}

/**
 * @internal {@link armv7aFrame} of a second-level descriptor for page `vpn`, as an int32 (bits 31:12 of the
 * address; every page lies below 4 GiB): what a TLB fill made of int32 operations uses.
 */
export function armv7aPageBits(d: number, vpn: number): number {
  return (d & 2) !== 0 ? d & -4096 : (d & -65536) | ((vpn & 15) << 12);
}

/** @internal log2 of the bytes leaf descriptor `d` at `level` maps: 24, 20, 16 or 12. */
export function armv7aShift(d: number, level: number): number {
  if (level === 1) return (d & 0x4_0000) !== 0 ? 24 : 20;
  return (d & 2) !== 0 ? 12 : 16;
}

/** @internal True when leaf descriptor `d` at `level` is global (nG clear: section bit 17, page bit 11). */
export function armv7aGlobal(d: number, level: number): boolean {
  return (d & (level === 1 ? 0x2_0000 : 0x800)) === 0;
}

/**
 * @internal The domain of first-level descriptor `d` (bits 8:5), 0 for a supersection, whose bits 8:5 are
 * PA[39:36].
 */
export function armv7aDomain(d: number): number {
  return (d & 3) !== 1 && (d & 0x4_0000) !== 0 ? 0 : (d >>> 5) & 15;
}

/**
 * @internal The short-descriptor walk of `v` (a uint32 address) from the first-level table at `base` — or, with
 * `l2` ≥ 0, from the second-level table at `l2`, as a paging-structure cache kept it with `tableBits` (the
 * page-table descriptor's domain | PXN << 4). Descriptors are read with `entry.read` (the last
 * one read stays there); one outside RAM aborts the walk. Each is classified by {@link armv7aEntry} under `config`
 * and `perm`. Returns a leaf's permission word | log2 of its size << {@link Armv7a.SIZE_SHIFT} (at or above 20: a
 * first-level leaf), or a negative {@link Armv7a} fault. `out`: [0] the physical address of the page of `v`
 * (leaves only), [1] the second-level table walked (-1 when the walk did not reach one), [2] its table bits.
 */
export function armv7aWalk(
  mem: PhysicalMemory,
  base: number,
  v: number,
  l2: number,
  tableBits: number,
  config: number,
  perm: Int32Array,
  out: Float64Array,
  entry: TableEntry,
): number {
  let table = l2;
  let bits = tableBits;
  if (table < 0) {
    out[1] = -1;
    // Both of TTBR0's and TTBR1's tables are indexed by VA[31:20].
    if (!entry.read(mem, base + (v >>> 20) * 4, 4)) return Armv7a.ABORT_L1;
    const d = entry.lo;
    const r = armv7aFirst(d, config, perm);
    if (r !== Armv7a.TABLE) {
      if (r < 0) return r;
      out[0] = armv7aFrame(d, 1, v);
      return r | (armv7aShift(d, 1) << Armv7a.SIZE_SHIFT);
    }
    // A second-level table: 256 entries, 1 KiB aligned (bits 31:10).
    table = (d & 0xffff_fc00) >>> 0;
    bits = armv7aTableBits(d, config);
  }
  out[1] = table;
  out[2] = bits;
  if (!entry.read(mem, table + ((v >>> 12) & 255) * 4, 4)) return Armv7a.ABORT_L2;
  const d = entry.lo;
  const r = armv7aSecond(d, bits >>> 4, config, perm);
  if (r < 0) return r;
  out[0] = armv7aFrame(d, 2, v);
  return r | (armv7aShift(d, 2) << Armv7a.SIZE_SHIFT);
}

/**
 * An ARMv7-A short-descriptor page-table walker with its own ASID-tagged TLB.
 *
 * **Roots.** `translate`'s `root` is the physical address of TTBR0's table (TTBR0 bits 31:14-N, without the walk
 * attributes in its low bits); TTBR1's comes in `options.ttbr1`, the DACR in `options.dacr` and the ASID
 * (CONTEXTIDR bits 7:0) in `options.asid` — the registers an emulator holds, passed with each access as the other
 * walkers' satp/CR3 are. Addresses are 32-bit, unsigned or signed; physical addresses up to 40 bits
 * (supersections).
 *
 * **Faults.** A prefetch abort (`fault.cause` 0x0C) for an instruction fetch, a data abort (0x10) otherwise, with
 * the IFSR/DFSR value in `fault.code` (FS[4] at bit 10, FS[3:0] at bits 3:0, the domain at 7:4, WnR at bit 11)
 * and the faulting address (IFAR/DFAR) in `fault.va`. A descriptor outside RAM is the synchronous external abort on
 * a translation table walk (FS 0b01100 first level, 0b01110 second level).
 *
 * **TLB maintenance.** {@link Armv7aWalker.tlbiall}, {@link Armv7aWalker.tlbimva},
 * {@link Armv7aWalker.tlbiasid}, {@link Armv7aWalker.tlbimvaa}, as the CP15 c8 operations. A DACR change needs
 * none: entries keep their domain, and a hit checks it against the DACR of the call.
 */
export class Armv7aWalker extends WalkerBase implements PageWalker {
  /** The format this walker walks. */
  readonly format = 'armv7a-short' as const;
  /** The settings the walker was made with, defaults filled in. */
  readonly config: Readonly<Required<Omit<Armv7aWalkerOptions, 'tlbSize'>>>;
  // TTBR0's table alignment: 16 KiB >> N.
  private readonly rootAlign: number;
  // Addresses at or above this go to TTBR1 (2^(32-N); 2^32 when N = 0: never).
  private readonly split: number;
  // The client-domain permission word by AP[2:0] | XN << 3 | PXN << 4 (rights for PL1 at bits 0–2, PL0 at 3–5).
  private readonly client = new Int32Array(32);
  // The walk core's settings (Armv7aConfig bits).
  private readonly walkConfig: number;
  // The walk core's results: the page's address, the second-level table and its bits.
  private readonly walked = new Float64Array(3);

  /** A walker over `mem`; see {@link createWalker}. Bad options → `VmError('EINVAL')`. */
  constructor(mem: PhysicalMemory, options: Armv7aWalkerOptions = {}) {
    checkOptionsObject(options, 'options');
    for (const name of ['afe', 'pxn', 'wxn', 'uwxn'] as const) {
      const v = options[name];
      if (v !== undefined && typeof v !== 'boolean') throw new VmError('EINVAL', `options.${name} must be a boolean, got ${hex(v)}`);
    }
    const n = options.ttbcrN ?? 0;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 7) {
      throw new VmError('EINVAL', `options.ttbcrN must be an integer from 0 to 7, got ${hex(n)}`);
    }
    super(mem, false, options.tlbSize);
    this.config = Object.freeze({
      ttbcrN: n,
      afe: options.afe ?? false,
      pxn: options.pxn ?? true,
      wxn: options.wxn ?? false,
      uwxn: options.uwxn ?? false,
    });
    this.rootAlign = 16384 >>> n;
    this.split = 2 ** (32 - n);
    const { afe, wxn, uwxn } = this.config;
    for (let b = 0; b < 32; b++) this.client[b] = armv7aRights(b & 7, (b & 8) !== 0, (b & 16) !== 0, afe, wxn, uwxn);
    this.walkConfig = (this.config.pxn ? Armv7aConfig.PXN : 0) | (afe ? Armv7aConfig.AFE : 0);
  }

  /**
   * Translates `va` for `access` over the tables at `root` (TTBR0's) and `options.ttbr1` (see the class
   * description and {@link PageWalker.translate}); `options.dacr` is the DACR, `options.asid` the ASID;
   * `options.sum` and `options.mxr` are ignored. A fault returns its `FaultCode` (`NOT_MAPPED` a Translation fault,
   * `PROTECTION` a Permission, Domain or Access flag fault, `BAD_ADDRESS` an external abort on the walk) with the
   * abort, the FSR value, the address and the level in {@link Armv7aWalker.fault}.
   */
  translate(root: number, va: number, access: number, options?: TranslateOptions): number {
    if (typeof va !== 'number' || typeof access !== 'number' || options === null || (options !== undefined && typeof options !== 'object')) {
      this.refuse(va, access, options);
    }
    let ctx = (access >>> 3) & 1;
    let asid = 0;
    let dacr = 0x5555_5555;
    if (options !== undefined) {
      if (options.user === true) ctx = 1;
      if (options.asid !== undefined) asid = options.asid;
      if (options.dacr !== undefined) dacr = options.dacr;
    }
    // The hit test: the slot's tag and key as the other 32-bit walkers', then the permission word the entry's
    // domain selects in this DACR (client: the AP/XN rights; manager: everything; no access: nothing, so the walk
    // reports the Domain fault). Literals rather than imported constants: this is the hot path (see RiscvWalker).
    const kinds = access & 7;
    const need = (kinds > 4 ? 0 : kinds) << (3 * ctx);
    const e = this.e;
    const lo = va >>> 12;
    const k = ((lo ^ (asid * 97)) & this.tlbMask) << 3;
    const kw = e[k + 1];
    const dt = (dacr >>> e[k + 6]) & 3;
    const perm = dt === 1 ? e[k + 2] : dt === 3 ? e[k + 7] : 0;
    if (
      e[k] === lo &&
      (kw === asid << 4 || kw === 0x10_0000) &&
      (perm & need) === need &&
      need !== 0 &&
      (va === va >>> 0 || va === (va | 0)) &&
      access === (access & 15) &&
      asid === (asid & 0xff) &&
      (dacr === (dacr | 0) || dacr === dacr >>> 0)
    ) {
      this.hits++;
      // A frame below 4 GiB answers as a uint32 straight from the slot (see WalkerBase.fromSlot).
      if (e[k + 4] === 0) return (e[k + 3] | (va & 4095)) >>> 0;
    } else {
      const r = this.miss(root, va, access, ctx, asid, dacr, options);
      if (r < 0) return r;
    }
    return this.fromSlot(k, va);
  }

  /** TLBIALL: drops every entry, global ones included. */
  tlbiall(): void {
    this.flushAll();
  }

  /**
   * TLBIMVA: drops the entries of the page of `va` tagged with `asid`, and the global entries of that page (a
   * section, supersection or large page containing `va` goes whole). Bad arguments → `VmError('EINVAL')`.
   */
  tlbimva(va: number, asid: number): void {
    this.checkVa(va, 'va');
    checkAsid(asid, 8, 'asid');
    this.flush((va >>> 0) >>> 12, asid, true);
  }

  /** TLBIASID: drops every non-global entry tagged with `asid`; global entries stay. Bad ASID → `VmError('EINVAL')`. */
  tlbiasid(asid: number): void {
    checkAsid(asid, 8, 'asid');
    this.flush(null, asid, false);
  }

  /** TLBIMVAA: drops the entries of the page of `va` under every ASID, global ones too. Bad `va` → `VmError('EINVAL')`. */
  tlbimvaa(va: number): void {
    this.checkVa(va, 'va');
    this.flush((va >>> 0) >>> 12, -1, true);
  }

  private raise(kind: WalkFaultKind, level: number, va: number, access: number, user: boolean, domain: number): number {
    const f = this.fault;
    const kinds = access & 7;
    let fs: number;
    switch (kind) {
      case 'accessed':
        fs = level === 1 ? FS_ACCESS_FLAG_L1 : FS_ACCESS_FLAG_L2;
        break;
      case 'domain':
        fs = level === 1 ? FS_DOMAIN_L1 : FS_DOMAIN_L2;
        break;
      case 'permission':
        fs = level === 1 ? FS_PERMISSION_L1 : FS_PERMISSION_L2;
        break;
      case 'pte-access':
        fs = level === 1 ? FS_WALK_ABORT_L1 : FS_WALK_ABORT_L2;
        break;
      default:
        fs = level === 0 ? FS_TRANSLATION_L2 : FS_TRANSLATION_L1;
    }
    f.result = resultOf(kind);
    f.kind = kind;
    f.va = va;
    f.level = level;
    f.access = kinds | (user ? 8 : 0);
    f.cause = kinds === 4 ? PREFETCH_ABORT : DATA_ABORT;
    // FS[4] sits apart from FS[3:0], at bit 10; the domain field is left 0 where the walk found none.
    f.code = (fs & 15) | ((fs & 16) << 6) | (domain < 0 ? 0 : domain << 4) | (kinds !== 4 && (kinds & 2) !== 0 ? FSR_WNR : 0);
    this.faults++;
    return f.result;
  }

  // The cold path: argument checks, then the walk. Returns 1 when the TLB slot of `va` under `asid` now holds the
  // translation, or the fault's code.
  private miss(root: number, va: number, access: number, ctx: number, asid: number, dacr: number, options: TranslateOptions | undefined): number {
    const kinds = access & 7;
    const ttbr1 = options === undefined || options.ttbr1 === undefined ? -1 : options.ttbr1;
    const ok =
      (va === va >>> 0 || va === (va | 0)) &&
      access === (access & 15) &&
      kinds !== 0 &&
      kinds < 5 &&
      typeof root === 'number' &&
      root >= 0 &&
      root < 4294967296 &&
      root % this.rootAlign === 0 &&
      asid === (asid & 0xff) &&
      (dacr === (dacr | 0) || dacr === dacr >>> 0) &&
      (ttbr1 === -1 || (typeof ttbr1 === 'number' && ttbr1 >= 0 && ttbr1 < 4294967296 && ttbr1 % 16384 === 0));
    if (!ok) {
      this.checkVa(va, 'va');
      checkAccess(access);
      checkRoot(root, this.rootAlign, 4294967296);
      checkAsid(asid, 8, 'options.asid');
      if (typeof dacr !== 'number' || !(dacr === (dacr | 0) || dacr === dacr >>> 0)) {
        throw new VmError('EINVAL', `options.dacr must be a 32-bit integer, got ${hex(dacr)}`);
      }
      if (ttbr1 !== -1) checkRoot(ttbr1, 16384, 4294967296);
    }
    this.misses++;
    const user = (ctx & 1) !== 0;
    const v = va >>> 0;
    let base = root;
    if (v >= this.split) {
      // TTBR1's half with TTBCR.PD1 set (no table given): a first-level Translation fault, no walk.
      if (ttbr1 < 0) return this.raise('invalid', 1, va, access, user, -1);
      base = ttbr1;
    }
    // Both tables are indexed by VA[31:20]: TTBR0's smaller table only ever sees addresses below 2^(32-N).
    const span0 = v >>> 20;
    const out = this.walked;
    const c = this.pscFind(span0, base, asid);
    const r =
      c >= 0
        ? armv7aWalk(this.mem, base, v, this.pscTable[c], this.pscBits[c], this.walkConfig, this.client, out, this.entry)
        : armv7aWalk(this.mem, base, v, -1, 0, this.walkConfig, this.client, out, this.entry);
    // A page-table descriptor is cached as soon as it is read, whatever its second level holds.
    if (c < 0 && out[1] >= 0) this.pscFill(span0, base, asid, out[1], out[2]);
    if (r < 0) return this.walkFault(r, va, access, user);
    const shift = r >>> Armv7a.SIZE_SHIFT;
    const level = shift >= 20 ? 1 : 0;
    const desc = this.entry.lo;
    const domain = level === 1 ? armv7aDomain(desc) : out[2] & 15;
    return this.finish(desc, level, domain, r & Armv7a.PERM_MASK, out[0], shift, v, va, access, ctx, asid, dacr);
  }

  // A fault of the walk core raised with the level and domain the FSR reports: none for a first-level Translation
  // fault or abort, the section's for its Access flag fault, the page table's at the second level.
  private walkFault(r: number, va: number, access: number, user: boolean): number {
    const out = this.walked;
    const level = r & 1;
    const domain = level === 0 ? out[2] & 15 : r === Armv7a.ACCESS_FLAG_L1 ? armv7aDomain(this.entry.lo) : -1;
    const kind: WalkFaultKind = r >= Armv7a.TRANSLATION_L2 ? 'invalid' : r >= Armv7a.ACCESS_FLAG_L2 ? 'accessed' : 'pte-access';
    return this.raise(kind, level, va, access, user, domain);
  }

  // The domain check, then the permission check, then the TLB fill: the end of every successful walk.
  private finish(
    desc: number,
    level: number,
    domain: number,
    client: number,
    pa: number,
    shift: number,
    v: number,
    va: number,
    access: number,
    ctx: number,
    asid: number,
    dacr: number,
  ): number {
    const user = (ctx & 1) !== 0;
    const kinds = access & 7;
    const dt = (dacr >>> (2 * domain)) & 3;
    // 0b00 no access; 0b10 is reserved, and treated as no access (the manual leaves it UNPREDICTABLE).
    if (dt === 0 || dt === 2) return this.raise('domain', level, va, access, user, domain);
    const perm = dt === 3 ? MANAGER : client;
    if (((perm >>> (3 * ctx)) & kinds) !== kinds) return this.raise('permission', level, va, access, user, domain);
    const global = armv7aGlobal(desc, level === 1 ? 1 : 2);
    const key = global ? 0x10_0000 : asid << 4;
    const vpn = v >>> 12;
    this.tlb.fill(vpn, asid, key, client, pa, shift);
    // Words 6–7: the domain (as its DACR shift) and the manager permission word, for the hit test.
    const k = ((vpn ^ (asid * 97)) & this.tlbMask) << 3;
    this.e[k + 6] = 2 * domain;
    this.e[k + 7] = MANAGER;
    return 1;
  }
}
