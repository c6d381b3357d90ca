import { VmError, checkInt } from '@vmlayers/phys';
import type { BoardMemoryMap, MemoryRegion } from '@vmlayers/phys';
import { Armv8mAp, Armv8mSh, checkMair, encodeMairAttr } from './armv8m-encoding.js';
import type { Armv8mRegion } from './armv8m-encoding.js';
import { checkBool } from './internal/validate.js';
import { layoutBoard } from './regions.js';
import type { LayoutSlot, RegionLayout } from './regions.js';

/** Access permissions and memory attributes the loader gives a board map's region: those RBAR/RLAR fields. */
export type Armv8mRegionAttributes = Pick<Armv8mRegion, 'ap' | 'xn' | 'sh' | 'attrIndx'>;

/** One slot of the ARMv8-M loader's region table: the whole of one board map. */
export interface Armv8mLayoutRegion extends LayoutSlot, Armv8mRegionAttributes {
  /** First byte of the region: the board map's base. */
  readonly base: number;
  /** Last byte of the region: the board map's last byte. */
  readonly limit: number;
}

/** The ARMv8-M loader's region table, with the MAIR words its attribute indexes refer to. */
export interface Armv8mLayout extends RegionLayout<Armv8mLayoutRegion> {
  /** MAIR0 and MAIR1 as the loader programs them. */
  readonly mair: readonly [number, number];
}

/**
 * The attribute indexes of the default MAIR ({@link ARMV8M_DEFAULT_MAIR}), what a Cortex-M33 loader typically
 * programs.
 */
export const Armv8mAttr = {
  /** Attr0: Normal memory, write-back non-transient, read- and write-allocate, inner and outer (`0xFF`): SRAM. */
  NORMAL_WB: 0,
  /** Attr1: Normal memory, write-through non-transient, read-allocate, inner and outer (`0xAA`): flash. */
  NORMAL_WT: 1,
  /** Attr2: Device-nGnRE (`0x04`): peripherals. */
  DEVICE: 2,
} as const;

/** MAIR0 and MAIR1 with {@link Armv8mAttr}'s three attributes (Attr3–Attr7 Device-nGnRnE, the reset value). */
export const ARMV8M_DEFAULT_MAIR: readonly [number, number] = Object.freeze([
  encodeMairAttr({ type: 'normal', outer: 0xf, inner: 0xf }) |
    (encodeMairAttr({ type: 'normal', outer: 0xa, inner: 0xa }) << 8) |
    (encodeMairAttr({ type: 'device', device: 'nGnRE' }) << 16),
  0,
] as const);

/** Options of {@link computeArmv8mRegions}. */
export interface Armv8mLayoutOptions {
  /** Regions the MPU implements. Default 16. */
  readonly regions?: 8 | 16;
  /** Attributes of a board map's region. Default {@link defaultArmv8mAttributes}. */
  readonly attributes?: (region: MemoryRegion) => Armv8mRegionAttributes;
  /** MAIR0 and MAIR1, whose attributes the regions index. Default {@link ARMV8M_DEFAULT_MAIR}. */
  readonly mair?: readonly [number, number];
}

/**
 * The attributes a board map gets by kind, with the default MAIR:
 * - `ram`: read/write for both privilege levels, executable, Normal write-back (Attr0), Non-shareable;
 * - `reserved` (flash with the kernel and program images): read-only for both levels, executable, Normal
 *   write-through (Attr1);
 * - `device`: read/write for both levels, Execute Never, Device-nGnRE (Attr2).
 */
export function defaultArmv8mAttributes(region: MemoryRegion): Armv8mRegionAttributes {
  switch (region.kind) {
    case 'ram':
      return { ap: Armv8mAp.RW, xn: false, sh: Armv8mSh.NON_SHAREABLE, attrIndx: Armv8mAttr.NORMAL_WB };
    case 'reserved':
      return { ap: Armv8mAp.RO, xn: false, sh: Armv8mSh.NON_SHAREABLE, attrIndx: Armv8mAttr.NORMAL_WT };
    default:
      return { ap: Armv8mAp.RW, xn: true, sh: Armv8mSh.NON_SHAREABLE, attrIndx: Armv8mAttr.DEVICE };
  }
}

function checkAttributes(name: string, a: Armv8mRegionAttributes): void {
  if (a === null || typeof a !== 'object') throw new VmError('EINVAL', `attributes of ${name} must be an object`);
  checkInt(`attributes of ${name}: ap`, a.ap, 0, 3);
  checkInt(`attributes of ${name}: sh`, a.sh, 0, 3);
  if (a.sh === 0b01) throw new VmError('EINVAL', `attributes of ${name}: sh 0b01 is reserved by ARMv8-M`);
  checkInt(`attributes of ${name}: attrIndx`, a.attrIndx, 0, 7);
  checkBool(`attributes of ${name}: xn`, a.xn);
}

/**
 * The MPU region table for a board, as an ARMv8-M loader computes it: base/limit regions need no power-of-two
 * cover, so every board map (ram, reserved and device alike) is exactly one region, in ascending address order,
 * slot 0 first. A map above 4 GiB, a board with more maps than the MPU has regions, bad attributes or MAIR words
 * → `EINVAL`.
 */
export function computeArmv8mRegions(board: BoardMemoryMap, options: Armv8mLayoutOptions = {}): Armv8mLayout {
  const attributes = options.attributes ?? defaultArmv8mAttributes;
  const mair = options.mair ?? ARMV8M_DEFAULT_MAIR;
  if (!Array.isArray(mair) || mair.length !== 2) throw new VmError('EINVAL', 'mair must be [MAIR0, MAIR1]');
  checkMair('mair0', mair[0]);
  checkMair('mair1', mair[1]);
  const layout = layoutBoard<Armv8mLayoutRegion>(board, options.regions ?? 16, 'armv8m', (r) => {
    const a = attributes(r);
    checkAttributes(r.name, a);
    return [{ base: r.base, limit: r.base + r.size - 1, ap: a.ap, xn: a.xn, sh: a.sh, attrIndx: a.attrIndx }];
  });
  return { ...layout, mair: Object.freeze([mair[0], mair[1]] as const) };
}
