import { VmError, checkInt, hex } from '@vmlayers/phys';
import { checkBool, checkWord } from './internal/validate.js';

/*
 * The per-region registers of the ARMv8-M PMSAv8 MPU (ARMv8-M ARM, MPU_RBAR, MPU_RLAR, MPU_MAIR0/1):
 *
 *   RBAR  [31:5] BASE   [4:3] SH   [2:1] AP   [0] XN
 *   RLAR  [31:5] LIMIT  [4] reserved (PXN from Armv8.1-M, not modelled)   [3:1] AttrIndx   [0] EN
 *   MAIR0 Attr3 Attr2 Attr1 Attr0 (a byte each, Attr0 in [7:0]);   MAIR1 Attr7 … Attr4
 *
 * A region covers [BASE:'00000', LIMIT:'11111']: any size that is a multiple of 32 bytes, at any 32-byte boundary.
 */

/** Values of the RBAR `AP` field (AP[2:1]). Instruction fetches need read permission at their level, XN clear. */
export const Armv8mAp = {
  /** Read/write by privileged code only. */
  PRIV_RW: 0b00,
  /** Read/write by any privilege level. */
  RW: 0b01,
  /** Read-only by privileged code only. */
  PRIV_RO: 0b10,
  /** Read-only by any privilege level. */
  RO: 0b11,
} as const;

/** Values of the RBAR `SH` field for Normal memory (`0b01` is reserved and refused). Recorded only. */
export const Armv8mSh = {
  /** Non-shareable. */
  NON_SHAREABLE: 0b00,
  /** Outer Shareable. */
  OUTER: 0b10,
  /** Inner Shareable. */
  INNER: 0b11,
} as const;

/** The 32-byte granule of PMSAv8 region bases and limits. */
export const ARMV8M_GRANULE = 32;
/** RBAR BASE and RLAR LIMIT, bits [31:5]. */
export const ARMV8M_ADDR_MASK = 0xffff_ffe0;
/** RLAR EN, bit [0]: the region takes part in access checks. */
export const RLAR_EN = 1;
/** The bits of RLAR that are defined (bit 4 is reserved before Armv8.1-M). */
export const RLAR_DEFINED_BITS = 0xffff_ffef;

const RBAR_XN = 1;
const RBAR_AP_SHIFT = 1;
const RBAR_SH_SHIFT = 3;
const RLAR_ATTR_SHIFT = 1;
const SH_RESERVED = 0b01;

/** The contents of an ARMv8-M RBAR, decoded. */
export interface Armv8mRbarFields {
  /** First byte of the region (BASE, bits [31:5], with the low five bits zero). */
  readonly base: number;
  /** SH, bits [4:3]: one of {@link Armv8mSh}. */
  readonly sh: number;
  /** AP, bits [2:1]: one of {@link Armv8mAp}. */
  readonly ap: number;
  /** XN, bit [0]: instruction fetches from the region fault. */
  readonly xn: boolean;
}

/** The contents of RLAR, decoded. */
export interface RlarFields {
  /** Last byte of the region (LIMIT, bits [31:5], with the low five bits one): the region ends at `limit + 1`. */
  readonly limit: number;
  /** AttrIndx, bits [3:1]: which MAIR attribute (Attr0–Attr7) gives the region's memory type. */
  readonly attrIndx: number;
  /** EN, bit [0]: the region takes part in access checks. */
  readonly enable: boolean;
}

/** A PMSAv8 region as programmed: the RBAR and RLAR fields together. */
export interface Armv8mRegion extends Armv8mRbarFields, RlarFields {}

/**
 * What {@link Armv8mMpu.program} takes: `base`, `limit` and `ap` are required; the rest may be left out and is then
 * 0 or false (Non-shareable, executable, Attr0, disabled).
 */
export type Armv8mRegionInit = Pick<Armv8mRegion, 'base' | 'limit' | 'ap'> & Partial<Omit<Armv8mRegion, 'base' | 'limit' | 'ap'>>;

/** A MAIR attribute, decoded: Device memory of one of the four kinds, or Normal memory with its cache policies. */
export type MemoryAttributes =
  | {
      /** Device memory: never cached, accesses not merged or speculated; instruction fetches fault here. */
      readonly type: 'device';
      /** Gathering, re-ordering and early write acknowledgement allowed (`G`, `R`, `E`) or not (`nG` …). */
      readonly device: 'nGnRnE' | 'nGnRE' | 'nGRE' | 'GRE';
    }
  | {
      /** Normal memory. */
      readonly type: 'normal';
      /**
       * Outer cache policy, Attr[7:4] (1–15): `0b0100` non-cacheable, `0b00RW`/`0b01RW` write-through/write-back
       * transient, `0b10RW`/`0b11RW` non-transient, R/W the read/write-allocate hints. Recorded only.
       */
      readonly outer: number;
      /** Inner cache policy, Attr[3:0] (1–15), encoded as {@link outer}. Recorded only. */
      readonly inner: number;
    };

const DEVICE_KINDS = ['nGnRnE', 'nGnRE', 'nGRE', 'GRE'] as const;

function checkBase(base: unknown): asserts base is number {
  checkWord('base', base);
  if (base % ARMV8M_GRANULE !== 0) throw new VmError('EINVAL', `base ${hex(base)} must be aligned to 32 bytes`);
}

function checkLimit(limit: unknown): asserts limit is number {
  checkWord('limit', limit);
  if (limit % ARMV8M_GRANULE !== ARMV8M_GRANULE - 1) {
    throw new VmError('EINVAL', `limit ${hex(limit)} must be the last byte of a 32-byte granule (low five bits set)`);
  }
}

function checkSh(sh: unknown): asserts sh is number {
  checkInt('sh', sh, 0, 3);
  if (sh === SH_RESERVED) throw new VmError('EINVAL', 'sh 0b01 is reserved by ARMv8-M');
}

/** The RBAR word for a region's base, shareability, access permissions and XN (bad fields → `EINVAL`). */
export function encodeArmv8mRbar(fields: Pick<Armv8mRbarFields, 'base' | 'ap'> & Partial<Armv8mRbarFields>): number {
  if (fields === null || typeof fields !== 'object') throw new VmError('EINVAL', 'rbar fields must be an object');
  const { base, ap, sh = 0, xn = false } = fields;
  checkBase(base);
  checkInt('ap', ap, 0, 3);
  checkSh(sh);
  checkBool('xn', xn);
  return (base | (sh << RBAR_SH_SHIFT) | (ap << RBAR_AP_SHIFT) | (xn ? RBAR_XN : 0)) >>> 0;
}

/** Splits an ARMv8-M RBAR word into its fields; the reserved SH `0b01` → `EINVAL`. */
export function decodeArmv8mRbar(word: number): Armv8mRbarFields {
  checkWord('rbar', word);
  const sh = (word >>> RBAR_SH_SHIFT) & 3;
  if (sh === SH_RESERVED) throw new VmError('EINVAL', `rbar ${hex(word)} has the reserved SH 0b01`);
  return { base: (word & ARMV8M_ADDR_MASK) >>> 0, sh, ap: (word >>> RBAR_AP_SHIFT) & 3, xn: (word & RBAR_XN) !== 0 };
}

/** The RLAR word for a region's limit (its last byte), attribute index and enable bit (bad fields → `EINVAL`). */
export function encodeRlar(fields: Pick<RlarFields, 'limit'> & Partial<RlarFields>): number {
  if (fields === null || typeof fields !== 'object') throw new VmError('EINVAL', 'rlar fields must be an object');
  const { limit, attrIndx = 0, enable = false } = fields;
  checkLimit(limit);
  checkInt('attrIndx', attrIndx, 0, 7);
  checkBool('enable', enable);
  return ((limit & ARMV8M_ADDR_MASK) | (attrIndx << RLAR_ATTR_SHIFT) | (enable ? RLAR_EN : 0)) >>> 0;
}

/** Splits an RLAR word into its fields; a word with the reserved bit 4 set → `EINVAL`. */
export function decodeRlar(word: number): RlarFields {
  checkWord('rlar', word);
  if ((word & ~RLAR_DEFINED_BITS) !== 0) throw new VmError('EINVAL', `rlar ${hex(word)} sets the reserved bit 4`);
  return { limit: (word | (ARMV8M_GRANULE - 1)) >>> 0, attrIndx: (word >>> RLAR_ATTR_SHIFT) & 7, enable: (word & RLAR_EN) !== 0 };
}

/**
 * Decodes one MAIR attribute byte. `0b0000dd00` is Device memory (dd: nGnRnE, nGnRE, nGRE, GRE); any byte with
 * both nibbles non-zero is Normal memory. The encodings the architecture calls UNPREDICTABLE — `0b0000xxyy` with
 * yy ≠ 00, and a non-zero outer nibble over a zero inner one — → `EINVAL`.
 */
export function decodeMairAttr(attr: number): MemoryAttributes {
  checkInt('attr', attr, 0, 0xff);
  const outer = attr >>> 4;
  const inner = attr & 0xf;
  if (outer === 0) {
    if ((attr & 3) !== 0) throw new VmError('EINVAL', `attr ${hex(attr)} is an UNPREDICTABLE Device encoding (bits [1:0] must be 0)`);
    return { type: 'device', device: DEVICE_KINDS[attr >>> 2] };
  }
  if (inner === 0) throw new VmError('EINVAL', `attr ${hex(attr)} is an UNPREDICTABLE Normal encoding (inner policy 0b0000)`);
  return { type: 'normal', outer, inner };
}

/** The MAIR byte for decoded attributes (a Normal policy outside 1–15 or an unknown kind → `EINVAL`). */
export function encodeMairAttr(attributes: MemoryAttributes): number {
  if (attributes === null || typeof attributes !== 'object') throw new VmError('EINVAL', 'attributes must be an object');
  if (attributes.type === 'device') {
    const k = DEVICE_KINDS.indexOf(attributes.device);
    if (k < 0) throw new VmError('EINVAL', `device must be one of ${DEVICE_KINDS.join(', ')}, got ${String(attributes.device)}`);
    return k << 2;
  }
  if (attributes.type !== 'normal') throw new VmError('EINVAL', `type must be 'device' or 'normal', got ${String((attributes as { type: unknown }).type)}`);
  checkInt('outer', attributes.outer, 1, 15);
  checkInt('inner', attributes.inner, 1, 15);
  return (attributes.outer << 4) | attributes.inner;
}

/** Throws `EINVAL` unless `word` is a MAIR register whose four attribute bytes all decode. */
export function checkMair(name: string, word: unknown): asserts word is number {
  checkWord(name, word);
  for (let i = 0; i < 4; i++) decodeMairAttr((word >>> (8 * i)) & 0xff);
}
