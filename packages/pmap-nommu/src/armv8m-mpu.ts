import { VmError, checkInt, hex, invariant } from '@vmlayers/phys';
import {
  ARMV8M_ADDR_MASK,
  Armv8mAp,
  checkMair,
  decodeArmv8mRbar,
  decodeMairAttr,
  decodeRlar,
  encodeArmv8mRbar,
  encodeRlar,
} from './armv8m-encoding.js';
import type { Armv8mRegion, Armv8mRegionInit, MemoryAttributes } from './armv8m-encoding.js';
import { BLOCK_SIZE, MpuCtrl, NO_REGION, OVERLAP, RegionMpu, SIGN, permissionBits } from './region-mpu.js';

/** MPU_TYPE.DREGION, bits [15:8]: the number of regions implemented. */
const TYPE_DREGION_SHIFT = 8;

/** Options of {@link Armv8mMpu}. */
export interface Armv8mMpuOptions {
  /** Implemented regions (MPU_TYPE.DREGION): 8 or 16. Default 16. */
  readonly regions?: 8 | 16;
}

/**
 * An ARMv8-M PMSAv8 memory protection unit: 8 or 16 regions of RBAR/RLAR words, MAIR0/MAIR1 and MPU_CTRL.
 * A region is `[base, limit]` at 32-byte granularity, any size, no subregions. Lookups follow the architecture:
 * an address held by exactly one enabled region is decided by it; held by two or more, the access faults
 * (MemManage), whichever their numbers; held by none, privileged accesses use the default memory map when
 * PRIVDEFENA is set and everything else faults. An instruction fetch from a region whose MAIR attribute is Device
 * memory faults as if XN were set. Programming that breaks a rule (unaligned base or limit, limit below base,
 * reserved SH or RLAR bit, an UNPREDICTABLE MAIR encoding, HFNMIENA without ENABLE) → `EINVAL`, MPU unchanged.
 */
export class Armv8mMpu extends RegionMpu {
  private readonly mairWords = new Uint32Array(2);

  constructor(options: Armv8mMpuOptions = {}) {
    super(options.regions ?? 16);
  }

  /** MPU_TYPE: DREGION in bits [15:8] (SEPARATE, bit 0, reads as zero: one map for instructions and data). */
  get type(): number {
    return this.regionCount << TYPE_DREGION_SHIFT;
  }

  /** RBAR of region `n` (0 for a region never programmed). */
  rbar(n: number): number {
    this.checkRegion(n);
    return this.addrWords[n];
  }

  /** RLAR of region `n` (0 for a region never programmed). */
  rlar(n: number): number {
    this.checkRegion(n);
    return this.attrWords[n];
  }

  /** MAIR0 (`i` = 0: Attr0–Attr3) or MAIR1 (`i` = 1: Attr4–Attr7). */
  mair(i: number): number {
    checkInt('mair index', i, 0, 1);
    return this.mairWords[i];
  }

  /**
   * Writes MAIR0 or MAIR1. Every attribute byte must decode ({@link decodeMairAttr}: UNPREDICTABLE encodings →
   * `EINVAL`). Regions indexing a changed attribute are re-derived (Device memory is never executable).
   */
  setMair(i: number, word: number): void {
    checkInt('mair index', i, 0, 1);
    checkMair(`mair${i}`, word);
    this.mairWords[i] = word >>> 0;
    for (let n = 0; n < this.regionCount; n++) if (((this.programmed >>> n) & 1) !== 0) this.rederive(n);
    this.changed();
  }

  /** Attribute `index` (0–7) of MAIR0/MAIR1, decoded. */
  attribute(index: number): MemoryAttributes {
    checkInt('attribute index', index, 0, 7);
    return decodeMairAttr(this.attrByte(index));
  }

  /** Programs region `n` with an RBAR and an RLAR word, checked together (the limit may not lie below the base). */
  setRegion(n: number, rbar: number, rlar: number): void {
    this.checkRegion(n);
    const b = decodeArmv8mRbar(rbar);
    const l = decodeRlar(rlar);
    if (l.limit < b.base) {
      throw new VmError('EINVAL', `region ${n}: limit ${hex(l.limit)} lies below base ${hex(b.base)}`);
    }
    this.store(n, rbar, rlar);
  }

  /** Programs region `n` from fields (see {@link Armv8mRegionInit} for the defaults). */
  program(n: number, region: Armv8mRegionInit): void {
    this.checkRegion(n);
    if (region === null || typeof region !== 'object') throw new VmError('EINVAL', 'region must be an object');
    this.setRegion(n, encodeArmv8mRbar(region), encodeRlar(region));
  }

  /** Region `n` decoded, or undefined when it was never programmed (or cleared). */
  region(n: number): Armv8mRegion | undefined {
    this.checkRegion(n);
    if (((this.programmed >>> n) & 1) === 0) return undefined;
    return { ...decodeArmv8mRbar(this.addrWords[n]), ...decodeRlar(this.attrWords[n]) };
  }

  /**
   * Bit i set: region i of `mask` (default: the enabled ones) holds `va`. More than one bit is the overlap the
   * architecture faults on; {@link RegionMpu.regionAt} answers -1 then, as the TT instruction's MRVALID is 0.
   */
  regionsAt(va: number, mask: number = this.enabledMask): number {
    if (typeof va !== 'number' || va >>> 0 !== va) return 0;
    const m = mask & this.programmed;
    const v = va | 0;
    let held = 0;
    for (let i = 0; i < this.regionCount; i++) {
      if (((m >>> i) & 1) !== 0 && (((v - this.base[i]) | 0) ^ SIGN) <= this.lastFlipped[i]) held |= 1 << i;
    }
    return held;
  }

  /** Verifies that the derived lookup state matches the RBAR/RLAR/MAIR words. Throws on a broken invariant. */
  override check(): void {
    super.check();
    for (let i = 0; i < 2; i++) checkMair(`mair${i}`, this.mairWords[i]);
    for (let n = 0; n < this.regionCount; n++) {
      if (((this.programmed >>> n) & 1) === 0) continue;
      const r = this.region(n) as Armv8mRegion;
      invariant(r.limit >= r.base, `region ${n} limit ${hex(r.limit)} below its base ${hex(r.base)}`);
    }
  }

  /** @internal Every enabled region is looked at: one holding `va` decides, two or more are a fault. */
  protected hit(va: number, mask: number): number {
    const v = va | 0;
    let found = NO_REGION;
    for (let i = 0; i < this.regionCount; i++) {
      if (((mask >> i) & 1) === 0) continue;
      // off = va − base modulo 2^32; below the base it wraps past every span, as limit < 2^32.
      if ((((v - this.base[i]) | 0) ^ SIGN) > this.lastFlipped[i]) continue;
      if (found !== NO_REGION) return OVERLAP;
      found = i;
    }
    return found;
  }

  /** @internal */
  protected derive(n: number): [number, number, number] {
    const b = decodeArmv8mRbar(this.addrWords[n]);
    const l = decodeRlar(this.attrWords[n]);
    // Instruction fetches must only access Normal memory; the architecture leaves a fetch from Device memory
    // UNPREDICTABLE, and the model faults it as XN.
    const xn = b.xn || (this.attrByte(l.attrIndx) & 0xf0) === 0;
    let p: number;
    switch (b.ap) {
      case Armv8mAp.PRIV_RW:
        p = permissionBits(true, true, false, false, xn);
        break;
      case Armv8mAp.RW:
        p = permissionBits(true, true, true, true, xn);
        break;
      case Armv8mAp.PRIV_RO:
        p = permissionBits(true, false, false, false, xn);
        break;
      default:
        p = permissionBits(true, false, true, false, xn);
    }
    return [b.base, l.limit - b.base + 1, p];
  }

  /** @internal Base and limit + 1 are multiples of 32; a block is split where one is not a multiple of 512. */
  protected hasFineEdge(n: number): boolean {
    const base = this.addrWords[n] & ARMV8M_ADDR_MASK;
    const end = ((this.attrWords[n] | 31) >>> 0) + 1;
    return (base >>> 0) % BLOCK_SIZE !== 0 || end % BLOCK_SIZE !== 0;
  }

  /** @internal ARMv8-M makes MPU_CTRL.HFNMIENA with ENABLE clear UNPREDICTABLE: refused. */
  protected override checkCtrl(word: number): void {
    super.checkCtrl(word);
    if ((word & MpuCtrl.HFNMIENA) !== 0 && (word & MpuCtrl.ENABLE) === 0) {
      throw new VmError('EINVAL', `ctrl ${hex(word)} sets HFNMIENA without ENABLE (UNPREDICTABLE on ARMv8-M)`);
    }
  }

  private attrByte(index: number): number {
    return (this.mairWords[index >>> 2] >>> (8 * (index & 3))) & 0xff;
  }
}
