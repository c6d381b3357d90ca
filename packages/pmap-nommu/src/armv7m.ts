import type { BoardMemoryMap, MemoryRegion } from '@vmlayers/phys';
import { encodeRasr } from './encoding.js';
import { Mpu } from './mpu.js';
import { MPU_PAGE_SIZE, MpuFactory } from './mpu-factory.js';
import type { MpuArchOptions } from './mpu-factory.js';
import { MpuPmap } from './mpu-pmap.js';
import { computeRegions } from './regions.js';
import type { RegionAttributes, RegionLayout } from './regions.js';

/** armv7m pages are 512 bytes (the original's `include/arch/armv7m/page.h`). */
export const ARMV7M_PAGE_SIZE = MPU_PAGE_SIZE;

/** Options of {@link createArmv7m}. */
export interface Armv7mOptions extends MpuArchOptions {
  /** MPU regions implemented: 8 (default) or 16. */
  readonly regions?: 8 | 16;
  /** Region attributes per board map (default `defaultRegionAttributes`, by kind). */
  readonly attributes?: (region: MemoryRegion) => RegionAttributes;
}

/** The no-MMU architecture: ARMv7-M with its MPU. */
export class Armv7mFactory extends MpuFactory<Mpu, RegionLayout, MpuPmap> {
  /** `'armv7m'`: the architecture's name, as in the original's `include/arch/armv7m`. */
  readonly name = 'armv7m';
  /** `stm32-512k`: a Cortex-M4 part with 1 MiB flash and 512 KiB SRAM. */
  readonly defaultBoard = 'stm32-512k';
  private readonly attributes: Armv7mOptions['attributes'];

  constructor(options: Armv7mOptions = {}) {
    super(options, 8);
    this.attributes = options.attributes;
  }

  /** The region table the loader computes for `board` (`EINVAL` when the board cannot be covered). */
  plan(board: BoardMemoryMap): RegionLayout {
    return computeRegions(board, { regions: this.regionCount, attributes: this.attributes });
  }

  /** @internal */
  protected readonly Space = MpuPmap;

  /** @internal */
  protected newMpu(): Mpu {
    return new Mpu({ regions: this.regionCount });
  }

  /** @internal */
  protected program(mpu: Mpu, layout: RegionLayout): void {
    for (const r of layout.regions) mpu.setRegion(r.slot, r.base, encodeRasr({ ...r, enable: false }));
  }
}

/** An armv7m factory with options (16 MPU regions, other user maps, no PRIVDEFENA, region attributes). */
export function createArmv7m(options: Armv7mOptions = {}): Armv7mFactory {
  return new Armv7mFactory(options);
}

/** ARMv7-M (Cortex-M3/M4/M7) with an 8-region MPU, `stm32-512k` by default. */
export const armv7m: Armv7mFactory = createArmv7m();
