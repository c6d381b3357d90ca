import { VmError, checkInt, hex, isPowerOfTwo } from '@vmlayers/phys';
import { checkBool, checkWord } from './internal/validate.js';

/*
 * The two per-region registers of the ARMv7-M PMSAv7 MPU (ARMv7-M ARM B3.5.9 MPU_RBAR, B3.5.10 MPU_RASR):
 *
 *   RBAR  [31:5] ADDR   [4] VALID   [3:0] REGION
 *   RASR  [28] XN   [26:24] AP   [21:19] TEX   [18] S   [17] C   [16] B   [15:8] SRD   [5:1] SIZE   [0] ENABLE
 *
 * Every other RASR bit is reserved and must be written as zero.
 */

/**
 * Values of the RASR `AP` field (ARMv7-M ARM Table B3-15). `0b100` is reserved; `0b111` behaves as `0b110`.
 * Instruction fetches need read permission at the current privilege level, plus `XN` clear.
 */
export const MpuAp = {
  /** Privileged: none. Unprivileged: none. */
  NO_ACCESS: 0b000,
  /** Privileged: read/write. Unprivileged: none. */
  PRIV_RW: 0b001,
  /** Privileged: read/write. Unprivileged: read-only. */
  PRIV_RW_USER_RO: 0b010,
  /** Privileged: read/write. Unprivileged: read/write. */
  FULL_ACCESS: 0b011,
  /** Privileged: read-only. Unprivileged: none. */
  PRIV_RO: 0b101,
  /** Privileged: read-only. Unprivileged: read-only. */
  RO: 0b110,
  /** The same as `RO` (an alternative encoding the architecture keeps). */
  RO_ALT: 0b111,
} as const;

/** The reserved `AP` value: programming it is refused (`EINVAL`). */
export const AP_RESERVED = 0b100;

/** Smallest MPU region: the SIZE field's minimum, 4, means 2^(4+1) = 32 bytes. */
export const MIN_REGION_SIZE = 32;
/** Regions below 256 bytes have no subregions: their SRD field must be zero. */
export const MIN_SUBREGION_REGION_SIZE = 256;
/** Every region is split in eight equal subregions, one SRD bit each (bit i disables subregion i). */
export const SUBREGIONS = 8;
/** The largest region covers the whole 4 GiB address space (SIZE = 31). */
export const MAX_REGION_SIZE = 0x1_0000_0000;

/** RBAR ADDR field, bits [31:5]: the region base address (32-byte granular; the region's own alignment applies). */
export const RBAR_ADDR_MASK = 0xffff_ffe0;
/**
 * RBAR VALID bit [4]. Written as 1, the REGION field selects the region the write applies to (on hardware it also
 * updates MPU_RNR); {@link Mpu.setRegion} then requires REGION to name the region being programmed (`EINVAL`
 * otherwise). Reads as zero ({@link Mpu.rbar}).
 */
export const RBAR_VALID = 1 << 4;
/** RBAR REGION field, bits [3:0]: the region number (0–15) a write selects when VALID is set; must be 0 otherwise. */
export const RBAR_REGION_MASK = 0xf;

/** RASR ENABLE bit [0]: the region takes part in access checks. */
export const RASR_ENABLE = 1;
const RASR_SIZE_SHIFT = 1;
const RASR_SRD_SHIFT = 8;
const RASR_B = 1 << 16;
const RASR_C = 1 << 17;
const RASR_S = 1 << 18;
const RASR_TEX_SHIFT = 19;
const RASR_AP_SHIFT = 24;
const RASR_XN = 1 << 28;
/** The bits of RASR that are not reserved. */
export const RASR_DEFINED_BITS = 0x173f_ff3f;

/** The contents of RBAR, decoded. */
export interface RbarFields {
  /** Region base address (ADDR, bits [31:5]). */
  readonly base: number;
  /** VALID: on a write, REGION selects the region number (and updates MPU_RNR). */
  readonly valid: boolean;
  /** REGION (bits [3:0]). */
  readonly region: number;
}

/** The contents of RASR, decoded. `size` is in bytes (2^(SIZE+1)). */
export interface RasrFields {
  /** Region size in bytes: a power of two from 32 to 2^32. */
  readonly size: number;
  /**
   * SRD field [15:8], subregion disable mask: bit i set disables subregion i (each `size / 8` bytes); 0 (all
   * enabled) when left out, and necessarily 0 below 256 bytes.
   */
  readonly srd: number;
  /** Access permissions, one of {@link MpuAp}. */
  readonly ap: number;
  /** XN bit [28], execute never: instruction fetches from the region fault; false when left out. */
  readonly xn: boolean;
  /**
   * TEX field (bits [21:19], 0–7): with {@link RasrFields.c | C} and {@link RasrFields.b | B}, the memory type and
   * cache policy (ARMv7-M ARM B3.5.10); 0 when a {@link RasrInit} leaves it out. Recorded and encoded; the model
   * does not simulate caches.
   */
  readonly tex: number;
  /** S bit [18]: the region is shareable (meaningful for Normal memory); false when left out. Recorded only. */
  readonly s: boolean;
  /** C bit [17]: with TEX and B, the memory type (set: cacheable); false when left out. Recorded only. */
  readonly c: boolean;
  /**
   * B bit [16]: with TEX and C, the memory type (bufferable; TEX 000, C 0, B 1 is shared Device memory); false
   * when left out. Recorded only.
   */
  readonly b: boolean;
  /**
   * ENABLE bit [0]: the region takes part in access checks; a disabled region matches no access. False when a
   * {@link RasrInit} leaves it out.
   */
  readonly enable: boolean;
}

/** A region as programmed: base plus RASR fields. */
export interface MpuRegion extends RasrFields {
  /** Region base address from RBAR (ADDR, bits [31:5]), aligned to {@link RasrFields.size | size}. */
  readonly base: number;
}

/**
 * What {@link encodeRasr} takes: `size` and `ap` are required; every other field may be left out and is then 0 or
 * false (all subregions enabled, executable, TEX/S/C/B clear, region disabled).
 */
export type RasrInit = Pick<RasrFields, 'size' | 'ap'> & Partial<Omit<RasrFields, 'size' | 'ap'>>;

/** log2 of a power of two up to 2^32. */
export function log2(size: number): number {
  return size === MAX_REGION_SIZE ? 32 : 31 - Math.clz32(size);
}

/**
 * Throws `EINVAL` unless `size` is a legal region size (a power of two, 32 B … 4 GiB) — the SIZE field encodes
 * log2(size) − 1 and values below 4 are UNPREDICTABLE.
 */
export function checkRegionSize(size: unknown): asserts size is number {
  if (typeof size !== 'number' || !isPowerOfTwo(size) || size < MIN_REGION_SIZE || size > MAX_REGION_SIZE) {
    throw new VmError(
      'EINVAL',
      `region size must be a power of two from 32 B to 4 GiB, got ${hex(size)}`,
    );
  }
}

/**
 * Throws `EINVAL` unless `base` is aligned to `size`: the MPU compares only ADDR bits [31:log2(size)], so a
 * misaligned base would silently describe another range.
 */
export function checkRegionBase(base: unknown, size: number): asserts base is number {
  checkWord('region base', base);
  if (base % size !== 0) {
    throw new VmError('EINVAL', `region base ${hex(base)} must be aligned to the region size ${hex(size)}`);
  }
}

/** Throws `EINVAL` for AP values outside 0–7 and for the reserved `0b100`. */
export function checkAp(ap: unknown): asserts ap is number {
  checkInt('ap', ap, 0, 7);
  if (ap === AP_RESERVED) throw new VmError('EINVAL', 'ap 0b100 is reserved by ARMv7-M');
}

/** Throws `EINVAL` unless `srd` is an 8-bit mask, and zero for regions without subregions (< 256 B). */
export function checkSrd(srd: unknown, size: number): asserts srd is number {
  checkInt('srd', srd, 0, 0xff);
  if (srd !== 0 && size < MIN_SUBREGION_REGION_SIZE) {
    throw new VmError('EINVAL', `srd must be 0 for a ${size}-byte region (subregions need 256 B or more), got ${hex(srd)}`);
  }
}

/**
 * The RBAR word for `base`. With `region` given, VALID is set and REGION holds it, the form that selects the
 * region in the same write.
 */
export function encodeRbar(base: number, region?: number): number {
  checkWord('base', base);
  if (base % MIN_REGION_SIZE !== 0) throw new VmError('EINVAL', `base ${hex(base)} must be aligned to 32 bytes`);
  if (region === undefined) return base >>> 0;
  checkInt('region', region, 0, RBAR_REGION_MASK);
  return (base | RBAR_VALID | region) >>> 0;
}

/** Splits an RBAR word into its fields. */
export function decodeRbar(word: number): RbarFields {
  checkWord('rbar', word);
  return {
    base: (word & RBAR_ADDR_MASK) >>> 0,
    valid: (word & RBAR_VALID) !== 0,
    region: word & RBAR_REGION_MASK,
  };
}

/** The RASR word for a region, validated against the ARMv7-M rules (bad size, SRD, AP or TEX → `EINVAL`). */
export function encodeRasr(fields: RasrInit): number {
  if (fields === null || typeof fields !== 'object') throw new VmError('EINVAL', 'rasr fields must be an object');
  const { size, ap, srd = 0, xn = false, tex = 0, s = false, c = false, b = false, enable = false } = fields;
  checkRegionSize(size);
  checkSrd(srd, size);
  checkAp(ap);
  checkInt('tex', tex, 0, 7);
  checkBool('xn', xn);
  checkBool('s', s);
  checkBool('c', c);
  checkBool('b', b);
  checkBool('enable', enable);
  return (
    ((xn ? RASR_XN : 0) |
      (ap << RASR_AP_SHIFT) |
      (tex << RASR_TEX_SHIFT) |
      (s ? RASR_S : 0) |
      (c ? RASR_C : 0) |
      (b ? RASR_B : 0) |
      (srd << RASR_SRD_SHIFT) |
      ((log2(size) - 1) << RASR_SIZE_SHIFT) |
      (enable ? RASR_ENABLE : 0)) >>>
    0
  );
}

/** Splits a RASR word into its fields; a word the architecture does not define (reserved bits, SIZE < 4,
 * AP 0b100, SRD on a small region) → `EINVAL`. */
export function decodeRasr(word: number): RasrFields {
  checkWord('rasr', word);
  if ((word & ~RASR_DEFINED_BITS) !== 0) {
    throw new VmError('EINVAL', `rasr ${hex(word)} sets reserved bits ${hex((word & ~RASR_DEFINED_BITS) >>> 0)}`);
  }
  const sizeField = (word >>> RASR_SIZE_SHIFT) & 0x1f;
  if (sizeField < 4) throw new VmError('EINVAL', `rasr ${hex(word)} has SIZE ${sizeField}: the minimum is 4 (32 bytes)`);
  const size = 2 ** (sizeField + 1);
  const srd = (word >>> RASR_SRD_SHIFT) & 0xff;
  const ap = (word >>> RASR_AP_SHIFT) & 7;
  checkSrd(srd, size);
  checkAp(ap);
  return {
    size,
    srd,
    ap,
    xn: (word & RASR_XN) !== 0,
    tex: (word >>> RASR_TEX_SHIFT) & 7,
    s: (word & RASR_S) !== 0,
    c: (word & RASR_C) !== 0,
    b: (word & RASR_B) !== 0,
    enable: (word & RASR_ENABLE) !== 0,
  };
}

/** Bytes of a region that its enabled subregions cover. */
export function coveredBytes(size: number, srd: number): number {
  if (srd === 0) return size;
  let enabled = 0;
  for (let i = 0; i < SUBREGIONS; i++) if (((srd >>> i) & 1) === 0) enabled++;
  return (size / SUBREGIONS) * enabled;
}
