import { VmError, checkInt, hex } from '@vmlayers/phys';
import type { BoardMemoryMap, MemoryRegion, RegionKind } from '@vmlayers/phys';
import { MIN_REGION_SIZE, MIN_SUBREGION_REGION_SIZE, MpuAp, SUBREGIONS, checkAp } from './encoding.js';
import type { RasrFields } from './encoding.js';
import { ADDRESS_SPACE_END, checkBool } from './internal/validate.js';

/** One power-of-two MPU region with its subregion-disable mask. */
export interface RegionCover {
  /** Region base address, aligned to `size`; may lie below the covered range when low subregions are disabled. */
  readonly base: number;
  /** Region size in bytes: a power of two from 32 B to 4 GiB. */
  readonly size: number;
  /**
   * Subregion-disable mask (RASR SRD): bit i set disables subregion i, the i-th `size / 8` bytes from `base`.
   * Always 0 for regions below 256 bytes, which have no subregions.
   */
  readonly srd: number;
}

/** Access permissions and memory type the loader gives a board map's regions: those RASR fields. */
export type RegionAttributes = Pick<RasrFields, 'ap' | 'xn' | 'tex' | 's' | 'c' | 'b'>;

/** What every slot of a loader's region table says, whatever the MPU generation: where it is and whose. */
export interface LayoutSlot {
  /** The MPU region number. */
  readonly slot: number;
  /** Name of the board map (the syspage map) the region covers part of. */
  readonly map: string;
  /** Kind of that board map (`ram`, `reserved` or `device`), by which the default attributes are chosen. */
  readonly kind: RegionKind;
}

/** One slot of the ARMv7-M loader's region table: a region and the board map it belongs to. */
export interface LayoutRegion extends LayoutSlot, RegionCover, RegionAttributes {}

/**
 * The region table computed from a board, as the original's loader passes it in the syspage; `R` is one slot
 * (ARMv7-M's {@link LayoutRegion} by default).
 */
export interface RegionLayout<R extends LayoutSlot = LayoutRegion> {
  /** The board's name. */
  readonly board: string;
  /** Regions the MPU implements (8 or 16). */
  readonly regionCount: number;
  /** Slot i of the table; slots past the end stay free for run-time programming. */
  readonly regions: readonly R[];
  /** Board map name → mask of the slots that cover it (the original's `hs.mpu.map[]`, inverted). */
  readonly maps: ReadonlyMap<string, number>;
}

/** Options of {@link computeRegions}. */
export interface RegionLayoutOptions {
  /** Regions the MPU implements. Default 8. */
  readonly regions?: 8 | 16;
  /** Attributes of a board map's regions. Default {@link defaultRegionAttributes}. */
  readonly attributes?: (region: MemoryRegion) => RegionAttributes;
}

/**
 * The attributes a board map gets by kind, as a Cortex-M loader sets them:
 * - `ram`: read/write for both privilege levels, executable, Normal write-through shareable memory;
 * - `reserved` (flash with the kernel and program images): read-only for both levels, executable, Normal;
 * - `device`: read/write for both levels, Execute Never, shared Device memory (TEX 000, C 0, B 1, S 1).
 */
export function defaultRegionAttributes(region: MemoryRegion): RegionAttributes {
  switch (region.kind) {
    case 'ram':
      return { ap: MpuAp.FULL_ACCESS, xn: false, tex: 0, s: true, c: true, b: false };
    case 'reserved':
      return { ap: MpuAp.RO, xn: false, tex: 0, s: false, c: true, b: false };
    default:
      return { ap: MpuAp.FULL_ACCESS, xn: true, tex: 0, s: true, c: false, b: true };
  }
}

/**
 * Covers `[base, end)` exactly with power-of-two regions, trimming with subregion-disable masks, so that no byte
 * outside the range is covered. Greedy from the bottom: at each step, of every region size from 32 B to 4 GiB,
 * take the one whose enabled subregions reach furthest from the current address (the smallest such region on a
 * tie). The range must be 32-byte aligned; `EINVAL` otherwise.
 */
export function coverRange(base: number, end: number): RegionCover[] {
  checkInt('base', base, 0, ADDRESS_SPACE_END - 1);
  checkInt('end', end, base + 1, ADDRESS_SPACE_END);
  if (base % MIN_REGION_SIZE !== 0 || end % MIN_REGION_SIZE !== 0) {
    throw new VmError('EINVAL', `range [${hex(base)}, ${hex(end)}) must be aligned to ${MIN_REGION_SIZE} bytes`);
  }
  const out: RegionCover[] = [];
  let cur = base;
  while (cur < end) {
    let best: RegionCover | undefined;
    let bestReach = cur;
    for (let k = 5; k <= 32; k++) {
      const size = 2 ** k;
      const rbase = Math.floor(cur / size) * size;
      let reach: number;
      let srd = 0;
      if (size < MIN_SUBREGION_REGION_SIZE) {
        if (cur !== rbase || cur + size > end) continue;
        reach = cur + size;
      } else {
        const sub = size / SUBREGIONS;
        if ((cur - rbase) % sub !== 0) continue;
        const first = (cur - rbase) / sub;
        const last = Math.min(SUBREGIONS, Math.floor((end - rbase) / sub));
        if (last <= first) continue;
        reach = rbase + last * sub;
        const keep = ((1 << last) - 1) & ~((1 << first) - 1);
        srd = ~keep & 0xff;
      }
      if (reach > bestReach) {
        bestReach = reach;
        best = { base: rbase, size, srd };
      }
    }
    // A 32-byte aligned cur always fits at least one 32-byte region, since end is 32-byte aligned too.
    out.push(best as RegionCover);
    cur = bestReach;
  }
  return out;
}

function checkAttributes(name: string, a: RegionAttributes): void {
  if (a === null || typeof a !== 'object') throw new VmError('EINVAL', `attributes of ${name} must be an object`);
  checkAp(a.ap);
  checkInt(`attributes of ${name}: tex`, a.tex, 0, 7);
  checkBool(`attributes of ${name}: xn`, a.xn);
  checkBool(`attributes of ${name}: s`, a.s);
  checkBool(`attributes of ${name}: c`, a.c);
  checkBool(`attributes of ${name}: b`, a.b);
}

/**
 * @internal The loader's table for any MPU generation: every board map, in ascending address order, cut by
 * `cover` into regions (every field but the slot's own) in consecutive slots from 0. A map above
 * 4 GiB, or a board whose maps need more regions than `regionCount`, → `EINVAL` naming the map that does not fit
 * and the count each map needs.
 */
export function layoutBoard<R extends LayoutSlot>(
  board: BoardMemoryMap,
  regionCount: number,
  arch: string,
  cover: (map: MemoryRegion) => readonly Omit<R, keyof LayoutSlot>[],
): RegionLayout<R> {
  if (regionCount !== 8 && regionCount !== 16) {
    throw new VmError('EINVAL', `regions must be 8 or 16, got ${String(regionCount)}`);
  }
  const regions: R[] = [];
  const maps = new Map<string, number>();
  const needs: string[] = [];
  let overflow: string | undefined;
  for (const r of board.regions) {
    if (r.base + r.size > ADDRESS_SPACE_END) {
      throw new VmError(
        'EINVAL',
        `board ${board.name}: map ${r.name} [${hex(r.base)}, ${hex(r.base + r.size)}) lies beyond the 32-bit address space of ${arch}`,
      );
    }
    const pieces = cover(r);
    needs.push(`${r.name}: ${pieces.length}`);
    for (const piece of pieces) {
      const n = regions.length;
      if (n >= regionCount) {
        overflow ??= r.name;
        continue;
      }
      regions.push({ ...piece, slot: n, map: r.name, kind: r.kind } as R);
      maps.set(r.name, (maps.get(r.name) ?? 0) | (1 << n));
    }
  }
  if (overflow !== undefined) {
    throw new VmError(
      'EINVAL',
      `board ${board.name} cannot be covered by ${regionCount} MPU regions: map ${overflow} does not fit (regions needed per map: ${needs.join(', ')})`,
    );
  }
  return { board: board.name, regionCount, regions: Object.freeze(regions), maps };
}

/**
 * The MPU region table for a board, computed as the original's loader does: every board map (ram, reserved and
 * device alike) becomes one or more power-of-two regions trimmed with subregion masks, in ascending address order,
 * slot 0 first. A map above 4 GiB, or a board whose maps need more regions than the MPU has, → `EINVAL` naming
 * the map that does not fit and the count each map needs.
 */
export function computeRegions(board: BoardMemoryMap, options: RegionLayoutOptions = {}): RegionLayout {
  const attributes = options.attributes ?? defaultRegionAttributes;
  return layoutBoard<LayoutRegion>(board, options.regions ?? 8, 'armv7m', (r) => {
    const attr = attributes(r);
    checkAttributes(r.name, attr);
    const { ap, xn, tex, s, c, b } = attr;
    return coverRange(r.base, r.base + r.size).map((piece) => ({ ...piece, ap, xn, tex, s, c, b }));
  });
}
