import { Access, FaultCode, VmError, checkInt, hex, invariant } from '@vmlayers/phys';
import { checkBool } from './internal/validate.js';

/**
 * MPU_CTRL bits, at the same positions on ARMv7-M (ARM B3.5.7) and ARMv8-M (MPU_CTRL: PRIVDEFENA bit 2,
 * HFNMIENA bit 1, ENABLE bit 0).
 */
export const MpuCtrl = {
  /** The MPU checks accesses; when clear every access uses the default memory map. */
  ENABLE: 1,
  /** Keep the MPU enabled in HardFault/NMI handlers (recorded only: the model has no handler priorities). */
  HFNMIENA: 2,
  /** Privileged accesses that hit no region use the default memory map instead of faulting. */
  PRIVDEFENA: 4,
} as const;

/** Where the default memory map forbids execution: Peripheral, Device and System ranges (B3.1, Table B3-1). */
const PERIPHERAL_BASE = 0x4000_0000;
const PERIPHERAL_END = 0x6000_0000;
const DEVICE_BASE = 0xa000_0000;
/** System space: always Execute Never, whatever an MPU region says. */
const SYSTEM_BASE = 0xe000_0000;
/** The Private Peripheral Bus (NVIC, SysTick, the MPU itself): never checked by the MPU, privileged only. */
const PPB_BASE = 0xe000_0000;
const PPB_END = 0xe010_0000;
/** @internal Flips the sign bit so that unsigned 32-bit compares run in int32 arithmetic. */
export const SIGN = -0x8000_0000;
/**
 * The block a verdict cache works in: board maps are 512-byte aligned (phys `REGION_ALIGN`), as are the default
 * memory map's ranges, so only MPU regions with finer edges can split a block (see {@link RegionMpu.isMixed}).
 */
export const BLOCK_SIZE = 512;

/** What {@link RegionMpu}'s region scan found: no enabled region holds the address. */
export const NO_REGION = -1;
/** What {@link RegionMpu}'s region scan found: more than one enabled region holds the address (ARMv8-M faults). */
export const OVERLAP = -2;

// Permission bits precomputed per region, so the hot path is one AND: privileged R/W/X in bits 0–2, unprivileged
// R/W/X in bits 3–5, lined up with `Access` READ=1, WRITE=2, EXEC=4 shifted by 3 for unprivileged accesses.
const PR = 1;
const PW = 2;
const PX = 4;
const UR = 8;
const UW = 16;
const UX = 32;

/**
 * @internal The permission bits of a region from what its AP grants at each privilege level. Both MPU
 * generations let an instruction fetch through only where a read at its privilege level is allowed and XN is
 * clear, so execute is derived, never encoded.
 */
export function permissionBits(privRead: boolean, privWrite: boolean, userRead: boolean, userWrite: boolean, xn: boolean): number {
  let p = (privRead ? PR : 0) | (privWrite ? PW : 0) | (userRead ? UR : 0) | (userWrite ? UW : 0);
  if (!xn) p |= (privRead ? PX : 0) | (userRead ? UX : 0);
  return p;
}

/** True where the ARMv7-M and ARMv8-M default memory map is Execute Never. */
export function isDefaultXn(va: number): boolean {
  return (va >= PERIPHERAL_BASE && va < PERIPHERAL_END) || va >= DEVICE_BASE;
}

/**
 * What the ARMv7-M (PMSAv7) and ARMv8-M (PMSAv8) memory protection units have in common: 8 or 16 regions of two
 * words each, the second word's bit 0 the region's enable (RASR.ENABLE, RLAR.EN); MPU_CTRL with the same bits;
 * the same default memory map, Private Peripheral Bus and System space rules; and the same verdicts once a region
 * decides. The generations differ in how a region is encoded and in which region decides an address, which the
 * subclasses give (their region scan).
 *
 * The words are the state; base, span and permissions are derived from them at programming time into typed
 * arrays, so that {@link RegionMpu.permit} reads one slot per candidate region and allocates nothing.
 */
export abstract class RegionMpu {
  /** Implemented regions (MPU_TYPE.DREGION): 8 or 16. */
  readonly regionCount: number;
  /** @internal RBAR of every region. */
  protected readonly addrWords: Uint32Array;
  /** @internal RASR (ARMv7-M) or RLAR (ARMv8-M): bit 0 is the region's enable in both. */
  protected readonly attrWords: Uint32Array;
  // Base and span − 1 as int32, with the sign bit flipped on the span, so that the hot loop compares unsigned
  // 32-bit offsets with int32 arithmetic only (V8 keeps it out of floating point).
  /** @internal */
  protected readonly base: Int32Array;
  /** @internal */
  protected readonly lastFlipped: Int32Array;
  /** @internal */
  protected readonly perm: Uint8Array;
  /** @internal Bit i set: region i is programmed. */
  protected programmed = 0;
  /** @internal Bit i set: region i's enable bit is set. */
  protected enabled = 0;
  /** @internal MPU_CTRL. */
  protected ctrlWord = 0;
  private gen = 0;
  private stamp = 0;
  // Bit i set: region i has an edge that is not a multiple of BLOCK_SIZE, so a block it overlaps may hold more
  // than one verdict.
  private fine = 0;

  /** @internal */
  protected constructor(regions: number) {
    if (regions !== 8 && regions !== 16) throw new VmError('EINVAL', `regions must be 8 or 16, got ${String(regions)}`);
    this.regionCount = regions;
    this.addrWords = new Uint32Array(regions);
    this.attrWords = new Uint32Array(regions);
    this.base = new Int32Array(regions);
    this.lastFlipped = new Int32Array(regions);
    this.perm = new Uint8Array(regions);
  }

  /**
   * Bumped by every change of region contents or MPU_CTRL (not by enable bits, which callers see through
   * {@link RegionMpu.enabledMask}): a cache of verdicts keyed by (generation, enable mask) stays exact.
   */
  get generation(): number {
    return this.gen;
  }

  /** Bumped by every change at all, enable bits included: one compare tells a cache that nothing moved. */
  get epoch(): number {
    return this.stamp;
  }

  /** MPU_CTRL. */
  get ctrl(): number {
    return this.ctrlWord;
  }

  /** Bit i set: region i is programmed. */
  get programmedMask(): number {
    return this.programmed;
  }

  /** Bit i set: region i's enable bit is set, i.e. the region takes part in lookups. */
  get enabledMask(): number {
    return this.enabled;
  }

  /** Writes MPU_CTRL (ENABLE, HFNMIENA, PRIVDEFENA; other bits reserved → `EINVAL`). */
  setCtrl(word: number): void {
    this.checkCtrl(word);
    this.ctrlWord = word;
    this.changed();
  }

  /** Sets or clears the enable bit of a programmed region (an unprogrammed one → `EINVAL`). */
  setEnabled(n: number, on: boolean): void {
    this.checkRegion(n);
    checkBool('on', on);
    if (((this.programmed >>> n) & 1) === 0) throw new VmError('EINVAL', `region ${n} is not programmed`);
    if (on) {
      this.attrWords[n] |= 1;
      this.enabled |= 1 << n;
    } else {
      this.attrWords[n] &= ~1;
      this.enabled &= ~(1 << n);
    }
    this.stamp++;
  }

  /**
   * Sets the enable bit of every programmed region from `mask` (bit i → region i), the context-switch write. Bits
   * of unprogrammed regions → `EINVAL`.
   */
  setEnabledMask(mask: number): void {
    checkInt('mask', mask, 0, 2 ** this.regionCount - 1);
    if ((mask & ~this.programmed) !== 0) {
      throw new VmError('EINVAL', `mask ${hex(mask)} enables regions that are not programmed (${hex(mask & ~this.programmed)})`);
    }
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) === 0) continue;
      if (((mask >>> n) & 1) !== 0) this.attrWords[n] |= 1;
      else this.attrWords[n] &= ~1;
    }
    this.enabled = mask;
    this.stamp++;
  }

  /** Clears region `n` (both words 0: disabled, nothing covered). */
  clearRegion(n: number): void {
    this.checkRegion(n);
    this.addrWords[n] = 0;
    this.attrWords[n] = 0;
    this.base[n] = 0;
    this.lastFlipped[n] = 0;
    this.perm[n] = 0;
    this.clearDerived(n);
    this.programmed &= ~(1 << n);
    this.enabled &= ~(1 << n);
    this.changed();
  }

  /**
   * The region that decides an access to `va` among the regions in `mask` (default: the enabled ones), or -1:
   * none holds it, or (ARMv8-M) several do. The MPU does not look at the Private Peripheral Bus: -1 there.
   */
  regionAt(va: number, mask: number = this.enabled): number {
    if (typeof va !== 'number' || va >>> 0 !== va || (va >= PPB_BASE && va < PPB_END)) return -1;
    return Math.max(this.hit(va, mask & this.programmed), -1);
  }

  /**
   * Checks an access (`Access` bits; `USER` set = unprivileged) to `va` against the regions in `mask` (default:
   * the enabled ones). Returns 0 when allowed, or:
   * - `FaultCode.PROTECTION`: a MemManage permission fault (the deciding region's AP or XN forbids it, an
   *   instruction fetch from an Execute Never range of the default memory map, or on ARMv8-M an address held by
   *   two enabled regions);
   * - `FaultCode.NOT_MAPPED`: a MemManage background fault (no region holds `va`, and the access is
   *   unprivileged or PRIVDEFENA is clear);
   * - `FaultCode.BAD_ADDRESS`: not a 32-bit address, or an unprivileged access to the Private Peripheral Bus
   *   (a BusFault on hardware).
   *
   * Never throws, allocates nothing.
   */
  permit(va: number, access: number, mask: number = this.enabled): number {
    if (typeof va !== 'number' || va >>> 0 !== va || typeof access !== 'number') return FaultCode.BAD_ADDRESS;
    const user = (access & Access.USER) !== 0;
    if ((access & Access.EXEC) !== 0 && va >= SYSTEM_BASE) return FaultCode.PROTECTION;
    if (va >= PPB_BASE && va < PPB_END) return user ? FaultCode.BAD_ADDRESS : 0;
    if ((this.ctrlWord & MpuCtrl.ENABLE) !== 0) {
      const i = this.hit(va, mask & this.programmed);
      if (i >= 0) {
        const need = user ? (access & 7) << 3 : access & 7;
        return (this.perm[i] & need) === need ? 0 : FaultCode.PROTECTION;
      }
      if (i === OVERLAP) return FaultCode.PROTECTION;
      if (user || (this.ctrlWord & MpuCtrl.PRIVDEFENA) === 0) return FaultCode.NOT_MAPPED;
    }
    if ((access & Access.EXEC) !== 0 && isDefaultXn(va)) return FaultCode.PROTECTION;
    return 0;
  }

  /**
   * True when a region of `mask` with edges finer than `BLOCK_SIZE` overlaps the block at `block` (a
   * multiple of the block size). Outside such blocks every address of a block gets the same verdict: board maps,
   * the default memory map and every other region change only on block boundaries.
   */
  isMixed(block: number, mask: number): boolean {
    const m = mask & this.fine;
    if (m === 0) return false;
    for (let n = 0; n < this.regionCount; n++) {
      if (((m >>> n) & 1) === 0) continue;
      const base = this.base[n] >>> 0;
      const size = ((this.lastFlipped[n] ^ SIGN) >>> 0) + 1;
      if (base < block + BLOCK_SIZE && block < base + size) return true;
    }
    return false;
  }

  /** Verifies that the derived lookup state matches the region words. Throws on a broken invariant. */
  check(): void {
    invariant((this.enabled & ~this.programmed) === 0, `enabled ${hex(this.enabled)} ⊄ programmed ${hex(this.programmed)}`);
    invariant((this.ctrlWord & ~7) === 0, `ctrl ${hex(this.ctrlWord)} has reserved bits`);
    invariant(this.fine === this.computeFine(), `fine-region mask ${hex(this.fine)} out of date`);
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) === 0) {
        invariant(this.addrWords[n] === 0 && this.attrWords[n] === 0 && this.lastFlipped[n] === 0, `unprogrammed region ${n} has state`);
        continue;
      }
      const [base, size, perm] = this.derive(n);
      invariant(this.base[n] >>> 0 === base && (this.lastFlipped[n] ^ SIGN) >>> 0 === size - 1, `region ${n} bounds out of date`);
      invariant(this.perm[n] === perm, `region ${n} permissions out of date`);
      invariant((this.attrWords[n] & 1) === ((this.enabled >>> n) & 1), `region ${n} enable bit differs from the enabled mask`);
    }
  }

  /**
   * @internal The region scan: the index of the region of `mask` (programmed regions only) that decides `va`,
   * {@link NO_REGION} or {@link OVERLAP}. `va` is a 32-bit address outside the PPB.
   */
  protected abstract hit(va: number, mask: number): number;

  /** @internal [base, size in bytes, permission bits] of programmed region `n`, derived from its words afresh. */
  protected abstract derive(n: number): [number, number, number];

  /** @internal True when programmed region `n` has an edge that is not a multiple of {@link BLOCK_SIZE}. */
  protected abstract hasFineEdge(n: number): boolean;

  /** @internal Clears what a subclass derives for region `n` beyond the shared arrays. */
  protected clearDerived(_n: number): void {}

  /** @internal Refuses MPU_CTRL words with reserved bits; a generation may refuse more. */
  protected checkCtrl(word: number): void {
    checkInt('ctrl', word, 0, 7);
  }

  /**
   * @internal Stores region `n`'s words, validated by the caller, and the lookup state derived from them
   * ({@link RegionMpu.derive}); sets the enable bit from the second word's bit 0.
   */
  protected store(n: number, addrWord: number, attrWord: number): void {
    this.addrWords[n] = addrWord >>> 0;
    this.attrWords[n] = attrWord >>> 0;
    this.programmed |= 1 << n;
    this.rederive(n);
    this.changed();
    if ((attrWord & 1) !== 0) this.enabled |= 1 << n;
    else this.enabled &= ~(1 << n);
  }

  /** @internal Recomputes the lookup state of programmed region `n` from its words. */
  protected rederive(n: number): void {
    const [base, size, perm] = this.derive(n);
    this.base[n] = base | 0;
    this.lastFlipped[n] = ((size - 1) | 0) ^ SIGN;
    this.perm[n] = perm;
  }

  /** @internal Something a verdict depends on changed (region contents, CTRL, memory attributes). */
  protected changed(): void {
    this.gen++;
    this.stamp++;
    this.fine = this.computeFine();
  }

  /** @internal Refuses a region number outside the MPU (`EINVAL`). */
  protected checkRegion(n: number): void {
    checkInt('region number', n, 0, this.regionCount - 1);
  }

  private computeFine(): number {
    let fine = 0;
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) !== 0 && this.hasFineEdge(n)) fine |= 1 << n;
    }
    return fine;
  }
}
