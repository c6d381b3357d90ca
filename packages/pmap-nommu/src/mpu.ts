import { Access, FaultCode, VmError, checkInt, hex, invariant } from '@vmlayers/phys';
import {
  MpuAp,
  RASR_ENABLE,
  RBAR_ADDR_MASK,
  RBAR_REGION_MASK,
  RBAR_VALID,
  checkRegionBase,
  decodeRasr,
  encodeRasr,
  log2,
} from './encoding.js';
import type { MpuRegion, RasrInit } from './encoding.js';
import { checkBool, checkWord } from './internal/validate.js';

/** MPU_CTRL bits (ARMv7-M ARM B3.5.7). */
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
const SIGN = -0x8000_0000;
/**
 * The block a verdict cache works in: board maps are 512-byte aligned (phys `REGION_ALIGN`), as are the default
 * memory map's ranges, so only MPU regions with finer edges can split a block (see {@link Mpu.isMixed}).
 */
export const BLOCK_SIZE = 512;

// Permission bits precomputed per region, so the hot path is one AND: privileged R/W/X in bits 0–2, unprivileged
// R/W/X in bits 3–5, lined up with `Access` READ=1, WRITE=2, EXEC=4 shifted by 3 for unprivileged accesses.
const PR = 1;
const PW = 2;
const PX = 4;
const UR = 8;
const UW = 16;
const UX = 32;

function permissions(ap: number, xn: boolean): number {
  let p: number;
  switch (ap) {
    case MpuAp.PRIV_RW:
      p = PR | PW;
      break;
    case MpuAp.PRIV_RW_USER_RO:
      p = PR | PW | UR;
      break;
    case MpuAp.FULL_ACCESS:
      p = PR | PW | UR | UW;
      break;
    case MpuAp.PRIV_RO:
      p = PR;
      break;
    case MpuAp.RO:
    case MpuAp.RO_ALT:
      p = PR | UR;
      break;
    default:
      p = 0;
  }
  // An instruction fetch needs read permission at its privilege level, and XN clear.
  if (!xn) p |= ((p & PR) !== 0 ? PX : 0) | ((p & UR) !== 0 ? UX : 0);
  return p;
}

/** Options of {@link Mpu}. */
export interface MpuOptions {
  /** Implemented regions (MPU_TYPE.DREGION): 8, or 16 on parts that have them. Default 8. */
  readonly regions?: 8 | 16;
}

/**
 * An ARMv7-M PMSAv7 memory protection unit: 8 or 16 regions of RBAR/RASR words and MPU_CTRL. Programming is
 * validated as the architecture requires (power-of-two size ≥ 32 B, base aligned to the size, SRD only for
 * regions of 256 B or more, AP 0b100 reserved, region number below the count), anything else → `EINVAL` with the
 * MPU unchanged. Lookups follow the hardware: the highest-numbered enabled region whose enabled subregion holds
 * the address decides; no hit → the default memory map for privileged accesses when PRIVDEFENA is set, a fault
 * otherwise.
 *
 * The words are the state; base, span, subregion shift and permissions are derived from them at programming
 * time into typed arrays so that {@link Mpu.permit} reads one slot per candidate region and allocates nothing.
 */
export class Mpu {
  /** Implemented regions (8 or 16). */
  readonly regionCount: number;
  private readonly rbarWords: Uint32Array;
  private readonly rasrWords: Uint32Array;
  // Base and span − 1 as int32, with the sign bit flipped on the span, so that the hot loop compares unsigned
  // 32-bit offsets with int32 arithmetic only (V8 keeps it out of floating point).
  private readonly base: Int32Array;
  private readonly lastFlipped: Int32Array;
  private readonly subShift: Uint8Array;
  private readonly srd: Uint8Array;
  private readonly perm: Uint8Array;
  private programmed = 0;
  private enabled = 0;
  private ctrlWord = 0;
  private gen = 0;
  private stamp = 0;
  // Bit i set: region i has an edge (its own, or a subregion's where SRD is non-zero) that is not a multiple of
  // BLOCK_SIZE, so a block it overlaps may hold more than one verdict.
  private fine = 0;

  constructor(options: MpuOptions = {}) {
    const n = options.regions ?? 8;
    if (n !== 8 && n !== 16) throw new VmError('EINVAL', `regions must be 8 or 16, got ${String(n)}`);
    this.regionCount = n;
    this.rbarWords = new Uint32Array(n);
    this.rasrWords = new Uint32Array(n);
    this.base = new Int32Array(n);
    this.lastFlipped = new Int32Array(n);
    this.subShift = new Uint8Array(n);
    this.srd = new Uint8Array(n);
    this.perm = new Uint8Array(n);
  }

  /**
   * Bumped by every change of region contents or MPU_CTRL (not by enable bits, which callers see through
   * {@link Mpu.enabledMask}): a cache of verdicts keyed by (generation, enable mask) stays exact.
   */
  get generation(): number {
    return this.gen;
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
      const base = this.rbarWords[n];
      const size = ((this.lastFlipped[n] ^ SIGN) >>> 0) + 1;
      if (base < block + BLOCK_SIZE && block < base + size) return true;
    }
    return false;
  }

  /** Bumped by every change at all, enable bits included: one compare tells a cache that nothing moved. */
  get epoch(): number {
    return this.stamp;
  }

  /** MPU_CTRL. */
  get ctrl(): number {
    return this.ctrlWord;
  }

  /** Writes MPU_CTRL (ENABLE, HFNMIENA, PRIVDEFENA; other bits reserved → `EINVAL`). */
  setCtrl(word: number): void {
    checkInt('ctrl', word, 0, 7);
    this.ctrlWord = word;
    this.gen++;
    this.stamp++;
  }

  /** Bit i set: region i is programmed (has a valid RASR). */
  get programmedMask(): number {
    return this.programmed;
  }

  /** Bit i set: region i's RASR.ENABLE is set, i.e. the region takes part in lookups. */
  get enabledMask(): number {
    return this.enabled;
  }

  /** RBAR as software reads it for region `n`: ADDR and REGION = n, VALID reads as zero. */
  rbar(n: number): number {
    this.checkRegion(n);
    return (this.rbarWords[n] | n) >>> 0;
  }

  /** RASR of region `n` (0 for a region never programmed). */
  rasr(n: number): number {
    this.checkRegion(n);
    return this.rasrWords[n];
  }

  /**
   * Programs region `n` with an RBAR and a RASR word, both checked together (the base alignment depends on the
   * size). RBAR's VALID/REGION must be clear or name `n` itself.
   */
  setRegion(n: number, rbar: number, rasr: number): void {
    this.checkRegion(n);
    checkWord('rbar', rbar);
    if ((rbar & RBAR_VALID) !== 0 && (rbar & RBAR_REGION_MASK) !== n) {
      throw new VmError('EINVAL', `rbar ${hex(rbar)} selects region ${rbar & RBAR_REGION_MASK}, not ${n}`);
    }
    if ((rbar & RBAR_VALID) === 0 && (rbar & RBAR_REGION_MASK) !== 0) {
      throw new VmError('EINVAL', `rbar ${hex(rbar)} has REGION bits without VALID`);
    }
    const f = decodeRasr(rasr);
    const base = (rbar & RBAR_ADDR_MASK) >>> 0;
    checkRegionBase(base, f.size);
    this.rbarWords[n] = base;
    this.rasrWords[n] = rasr >>> 0;
    this.base[n] = base | 0;
    this.lastFlipped[n] = ((f.size - 1) | 0) ^ SIGN;
    // Subregion index = (va − base) >> (log2(size) − 3). Small regions have SRD = 0, so any index reads "enabled".
    this.subShift[n] = log2(f.size) - 3;
    this.srd[n] = f.srd;
    this.perm[n] = permissions(f.ap, f.xn);
    this.programmed |= 1 << n;
    this.changed();
    if (f.enable) this.enabled |= 1 << n;
    else this.enabled &= ~(1 << n);
  }

  /** Programs region `n` from fields (see {@link encodeRasr} for the defaults). */
  program(n: number, region: RasrInit & { readonly base: number }): void {
    this.checkRegion(n);
    if (region === null || typeof region !== 'object') throw new VmError('EINVAL', 'region must be an object');
    checkWord('base', region.base);
    if (region.base % 32 !== 0) throw new VmError('EINVAL', `region base ${hex(region.base)} must be aligned to 32 bytes`);
    this.setRegion(n, region.base, encodeRasr(region));
  }

  /** Region `n` decoded, or undefined when it was never programmed (or cleared). */
  region(n: number): MpuRegion | undefined {
    this.checkRegion(n);
    if (((this.programmed >>> n) & 1) === 0) return undefined;
    return { base: this.rbarWords[n], ...decodeRasr(this.rasrWords[n]) };
  }

  /** Clears region `n` (RASR = 0: disabled, no size). */
  clearRegion(n: number): void {
    this.checkRegion(n);
    this.rbarWords[n] = 0;
    this.rasrWords[n] = 0;
    this.base[n] = 0;
    this.lastFlipped[n] = 0;
    this.subShift[n] = 0;
    this.srd[n] = 0;
    this.perm[n] = 0;
    this.programmed &= ~(1 << n);
    this.enabled &= ~(1 << n);
    this.changed();
  }

  /** Sets or clears RASR.ENABLE of a programmed region (an unprogrammed one → `EINVAL`). */
  setEnabled(n: number, on: boolean): void {
    this.checkRegion(n);
    checkBool('on', on);
    if (((this.programmed >>> n) & 1) === 0) throw new VmError('EINVAL', `region ${n} is not programmed`);
    if (on) {
      this.rasrWords[n] |= RASR_ENABLE;
      this.enabled |= 1 << n;
    } else {
      this.rasrWords[n] &= ~RASR_ENABLE;
      this.enabled &= ~(1 << n);
    }
    this.stamp++;
  }

  /**
   * Sets RASR.ENABLE of every programmed region from `mask` (bit i → region i), the context-switch write. Bits
   * of unprogrammed regions → `EINVAL`.
   */
  setEnabledMask(mask: number): void {
    checkInt('mask', mask, 0, 2 ** this.regionCount - 1);
    if ((mask & ~this.programmed) !== 0) {
      throw new VmError('EINVAL', `mask ${hex(mask)} enables regions that are not programmed (${hex(mask & ~this.programmed)})`);
    }
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) === 0) continue;
      if (((mask >>> n) & 1) !== 0) this.rasrWords[n] |= RASR_ENABLE;
      else this.rasrWords[n] &= ~RASR_ENABLE;
    }
    this.enabled = mask;
    this.stamp++;
  }

  /**
   * The region that decides an access to `va` among the regions in `mask` (default: the enabled ones): the
   * highest-numbered region containing `va` in one of its enabled subregions, or -1. The MPU does not look at the
   * Private Peripheral Bus: -1 there.
   */
  regionAt(va: number, mask: number = this.enabled): number {
    if (typeof va !== 'number' || va >>> 0 !== va || (va >= PPB_BASE && va < PPB_END)) return -1;
    return this.hit(va, mask & this.programmed);
  }

  /**
   * Checks an access (`Access` bits; `USER` set = unprivileged) to `va` against the regions in `mask` (default:
   * the enabled ones). Returns 0 when allowed, or:
   * - `FaultCode.PROTECTION`: a MemManage permission fault (the deciding region's AP or XN forbids it, or an
   *   instruction fetch from an Execute Never range of the default memory map);
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
      if (user || (this.ctrlWord & MpuCtrl.PRIVDEFENA) === 0) return FaultCode.NOT_MAPPED;
    }
    if ((access & Access.EXEC) !== 0 && isDefaultXn(va)) return FaultCode.PROTECTION;
    return 0;
  }

  /** Verifies that the derived lookup state matches the RBAR/RASR words. Throws on a broken invariant. */
  check(): void {
    invariant((this.enabled & ~this.programmed) === 0, `enabled ${hex(this.enabled)} ⊄ programmed ${hex(this.programmed)}`);
    invariant((this.ctrlWord & ~7) === 0, `ctrl ${hex(this.ctrlWord)} has reserved bits`);
    invariant(this.fine === this.computeFine(), `fine-region mask ${hex(this.fine)} out of date`);
    for (let n = 0; n < this.regionCount; n++) {
      const on = ((this.programmed >>> n) & 1) !== 0;
      if (!on) {
        invariant(this.rasrWords[n] === 0 && this.lastFlipped[n] === 0, `unprogrammed region ${n} has state`);
        continue;
      }
      const f = decodeRasr(this.rasrWords[n]);
      invariant(this.rbarWords[n] % f.size === 0, `region ${n} base ${hex(this.rbarWords[n])} not aligned to ${hex(f.size)}`);
      invariant(
        this.base[n] >>> 0 === this.rbarWords[n] && (this.lastFlipped[n] ^ SIGN) >>> 0 === f.size - 1,
        `region ${n} bounds out of date`,
      );
      invariant(this.srd[n] === f.srd && this.perm[n] === permissions(f.ap, f.xn), `region ${n} attributes out of date`);
      invariant(f.enable === (((this.enabled >>> n) & 1) !== 0), `region ${n} ENABLE differs from the enabled mask`);
    }
  }

  private hit(va: number, mask: number): number {
    const v = va | 0;
    // Higher region numbers take priority, so scan from the top.
    for (let i = this.regionCount - 1; i >= 0; i--) {
      if (((mask >> i) & 1) === 0) continue;
      // off = va − base modulo 2^32; below the base it wraps past every span, as base + span ≤ 2^32.
      const off = (v - this.base[i]) | 0;
      if ((off ^ SIGN) > this.lastFlipped[i]) continue;
      // A disabled subregion is not a hit: lower regions or the background map decide.
      if (((this.srd[i] >> (off >>> this.subShift[i])) & 1) !== 0) continue;
      return i;
    }
    return -1;
  }

  private changed(): void {
    this.gen++;
    this.stamp++;
    this.fine = this.computeFine();
  }

  private computeFine(): number {
    let fine = 0;
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) === 0) continue;
      const size = ((this.lastFlipped[n] ^ SIGN) >>> 0) + 1;
      const edge = this.srd[n] !== 0 ? size / 8 : size;
      if (edge < BLOCK_SIZE) fine |= 1 << n;
    }
    return fine;
  }

  private checkRegion(n: number): void {
    checkInt('region number', n, 0, this.regionCount - 1);
  }
}

/** True where the ARMv7-M default memory map is Execute Never. */
export function isDefaultXn(va: number): boolean {
  return (va >= PERIPHERAL_BASE && va < PERIPHERAL_END) || va >= DEVICE_BASE;
}
