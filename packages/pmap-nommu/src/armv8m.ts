import type { BoardMemoryMap, MemoryRegion } from '@vmlayers/phys';
import { Armv8mMpu } from './armv8m-mpu.js';
import { Armv8mPmap } from './armv8m-pmap.js';
import { computeArmv8mRegions } from './armv8m-regions.js';
import type { Armv8mLayout, Armv8mRegionAttributes } from './armv8m-regions.js';
import { MpuFactory } from './mpu-factory.js';
import type { MpuArchOptions } from './mpu-factory.js';

/** Options of {@link createArmv8m}. */
export interface Armv8mOptions extends MpuArchOptions {
  /** MPU regions implemented (MPU_TYPE.DREGION): 16 (default) or 8. */
  readonly regions?: 8 | 16;
  /** Region attributes per board map (default `defaultArmv8mAttributes`, by kind). */
  readonly attributes?: (region: MemoryRegion) => Armv8mRegionAttributes;
  /** MAIR0 and MAIR1 the loader programs (default `ARMV8M_DEFAULT_MAIR`: Normal WB, Normal WT, Device-nGnRE). */
  readonly mair?: readonly [number, number];
}

/** The no-MMU architecture of the Cortex-M23/M33/M55: ARMv8-M with its PMSAv8 MPU. */
export class Armv8mFactory extends MpuFactory<Armv8mMpu, Armv8mLayout, Armv8mPmap> {
  /** `'armv8m'`: the architecture's name, as in the original's `include/arch/armv8m`. */
  readonly name = 'armv8m';
  /** `cortex-m33-256k`: a Cortex-M33 part with 1 MiB flash and 256 KiB SRAM. */
  readonly defaultBoard = 'cortex-m33-256k';
  private readonly attributes: Armv8mOptions['attributes'];
  private readonly mair: Armv8mOptions['mair'];

  constructor(options: Armv8mOptions = {}) {
    super(options, 16);
    this.attributes = options.attributes;
    this.mair = options.mair;
  }

  /** The region table the loader computes for `board`: one region per board map (`EINVAL` when they do not fit). */
  plan(board: BoardMemoryMap): Armv8mLayout {
    return computeArmv8mRegions(board, { regions: this.regionCount, attributes: this.attributes, mair: this.mair });
  }

  /** @internal */
  protected readonly Space = Armv8mPmap;

  /** @internal */
  protected newMpu(): Armv8mMpu {
    return new Armv8mMpu({ regions: this.regionCount });
  }

  /** @internal MAIRs first, so that each region's memory type is known when it is programmed. */
  protected program(mpu: Armv8mMpu, layout: Armv8mLayout): void {
    mpu.setMair(0, layout.mair[0]);
    mpu.setMair(1, layout.mair[1]);
    for (const r of layout.regions) mpu.program(r.slot, { ...r, enable: false });
  }
}

/** An armv8m factory with options (8 MPU regions, other user maps, no PRIVDEFENA, region attributes, MAIRs). */
export function createArmv8m(options: Armv8mOptions = {}): Armv8mFactory {
  return new Armv8mFactory(options);
}

/** ARMv8-M (Cortex-M33) with a 16-region PMSAv8 MPU, `cortex-m33-256k` by default. */
export const armv8m: Armv8mFactory = createArmv8m();
