import type { PmapTable } from '@vmlayers/phys';
import { ARMV8M_GRANULE } from './armv8m-encoding.js';
import type { Armv8mMpu } from './armv8m-mpu.js';
import type { Armv8mLayout, Armv8mLayoutRegion } from './armv8m-regions.js';
import { RegionPmap } from './mpu-pmap.js';

/**
 * An address space of `armv8m`: a {@link RegionPmap} over the PMSAv8 {@link Armv8mMpu}. Everything but what a
 * region looks like is the shared region-per-map model: a mask of slots, switched by enable bits.
 */
export class Armv8mPmap extends RegionPmap<Armv8mMpu, Armv8mLayout> {
  /**
   * @internal Slot `n` as `{ level: 0, pa: base, va: base, entries, span }`: `entries` = bytes from base to limit
   * (as armv7m's bytes covered), `span` = 32, the granule a PMSAv8 region's bounds are given in (it has no
   * subregions, and its size need not be a power of two).
   */
  protected tableOf(n: number): PmapTable | undefined {
    const r = this.mpu.region(n);
    if (r === undefined) return undefined;
    return { level: 0, pa: r.base, va: r.base, entries: r.limit - r.base + 1, span: ARMV8M_GRANULE };
  }

  /** @internal RBAR and RLAR fields as the loader programmed them (EN aside), and the MAIR attribute indexed. */
  protected holdsLoaderRegion(r: Armv8mLayoutRegion): boolean {
    const now = this.mpu.region(r.slot);
    const byte = (mair: readonly number[]): number => (mair[r.attrIndx >>> 2] >>> (8 * (r.attrIndx & 3))) & 0xff;
    return (
      now !== undefined &&
      now.base === r.base &&
      now.limit === r.limit &&
      now.ap === r.ap &&
      now.xn === r.xn &&
      now.sh === r.sh &&
      now.attrIndx === r.attrIndx &&
      byte([this.mpu.mair(0), this.mpu.mair(1)]) === byte(this.layout.mair)
    );
  }
}
