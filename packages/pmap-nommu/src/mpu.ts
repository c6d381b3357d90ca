import { VmError, hex, invariant } from '@vmlayers/phys';
import {
  MpuAp,
  RBAR_ADDR_MASK,
  RBAR_REGION_MASK,
  RBAR_VALID,
  checkRegionBase,
  decodeRasr,
  encodeRasr,
  log2,
} from './encoding.js';
import type { MpuRegion, RasrInit } from './encoding.js';
import { checkWord } from './internal/validate.js';
import { BLOCK_SIZE, NO_REGION, RegionMpu, SIGN, permissionBits } from './region-mpu.js';

// The permission bits of an ARMv7-M AP encoding (Table B3-15): privileged read/write, unprivileged read/write.
function permissions(ap: number, xn: boolean): number {
  switch (ap) {
    case MpuAp.PRIV_RW:
      return permissionBits(true, true, false, false, xn);
    case MpuAp.PRIV_RW_USER_RO:
      return permissionBits(true, true, true, false, xn);
    case MpuAp.FULL_ACCESS:
      return permissionBits(true, true, true, true, xn);
    case MpuAp.PRIV_RO:
      return permissionBits(true, false, false, false, xn);
    case MpuAp.RO:
    case MpuAp.RO_ALT:
      return permissionBits(true, false, true, false, xn);
    default:
      return 0;
  }
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
 */
export class Mpu extends RegionMpu {
  // Subregion index = (va − base) >> subShift; SRD bit of that index set = not a hit.
  private readonly subShift: Uint8Array;
  private readonly srd: Uint8Array;

  constructor(options: MpuOptions = {}) {
    super(options.regions ?? 8);
    this.subShift = new Uint8Array(this.regionCount);
    this.srd = new Uint8Array(this.regionCount);
  }

  /** RBAR as software reads it for region `n`: ADDR and REGION = n, VALID reads as zero. */
  rbar(n: number): number {
    this.checkRegion(n);
    return (this.addrWords[n] | n) >>> 0;
  }

  /** RASR of region `n` (0 for a region never programmed). */
  rasr(n: number): number {
    this.checkRegion(n);
    return this.attrWords[n];
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
    // Small regions have SRD = 0, so any subregion index reads "enabled".
    this.subShift[n] = log2(f.size) - 3;
    this.srd[n] = f.srd;
    this.store(n, base, rasr);
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
    return { base: this.addrWords[n], ...decodeRasr(this.attrWords[n]) };
  }

  /** Verifies that the derived lookup state matches the RBAR/RASR words. Throws on a broken invariant. */
  override check(): void {
    super.check();
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) === 0) continue;
      const f = decodeRasr(this.attrWords[n]);
      invariant(this.addrWords[n] % f.size === 0, `region ${n} base ${hex(this.addrWords[n])} not aligned to ${hex(f.size)}`);
      invariant(this.srd[n] === f.srd && this.subShift[n] === log2(f.size) - 3, `region ${n} subregions out of date`);
    }
  }

  /** @internal Higher region numbers take priority, so the scan runs from the top. */
  protected hit(va: number, mask: number): number {
    const v = va | 0;
    for (let i = this.regionCount - 1; i >= 0; i--) {
      if (((mask >> i) & 1) === 0) continue;
      // off = va − base modulo 2^32; below the base it wraps past every span, as base + span ≤ 2^32.
      const off = (v - this.base[i]) | 0;
      if ((off ^ SIGN) > this.lastFlipped[i]) continue;
      // A disabled subregion is not a hit: lower regions or the background map decide.
      if (((this.srd[i] >> (off >>> this.subShift[i])) & 1) !== 0) continue;
      return i;
    }
    return NO_REGION;
  }

  /** @internal */
  protected derive(n: number): [number, number, number] {
    const f = decodeRasr(this.attrWords[n]);
    return [this.addrWords[n], f.size, permissions(f.ap, f.xn)];
  }

  /** @internal A region's edges are its own (aligned to its size) or, with SRD in use, its subregions'. */
  protected hasFineEdge(n: number): boolean {
    const size = ((this.lastFlipped[n] ^ SIGN) >>> 0) + 1;
    return (this.srd[n] !== 0 ? size / 8 : size) < BLOCK_SIZE;
  }

  /** @internal */
  protected override clearDerived(n: number): void {
    this.subShift[n] = 0;
    this.srd[n] = 0;
  }
}
