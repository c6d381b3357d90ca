import { FaultCode } from '@vmlayers/phys';
import type { BoardMemoryMap, Pmap } from '@vmlayers/phys';
import type { GapTree } from './gap-tree.js';
import { NIL } from './entry-pool.js';
import { allows } from './internal/protection.js';

/*
 * The no-MMU side of a map (DESIGN §3, "No-MMU mode"). There is one flat address space: every process map is a view
 * holding only its owner's entries, placed where the backing's contiguous block is (va = pa); the MPU knows whole
 * board maps only, so the protection of an entry is the view's to enforce, in software, before the MPU is asked.
 */

/** A pmap that can grant board maps (pmap-nommu's `MpuPmap`): found by shape, since mapper cannot import it. */
interface RegionGranting {
  isAllowed(va: number, size: number): boolean;
  addMap(map: unknown): number;
}

function grants(p: Pmap): p is Pmap & RegionGranting {
  const g = p as Partial<RegionGranting>;
  return typeof g.isAllowed === 'function' && typeof g.addMap === 'function';
}

/**
 * Makes sure the owner of `pmap` may reach `[pa, pa + len)` through the MPU: when the pmap can grant board maps and
 * does not cover the block yet, the board map holding it is granted (never revoked: the MPU's grain is the board
 * map, the view does the rest).
 */
export function grantRegion(pmap: Pmap, board: BoardMemoryMap, pa: number, len: number): void {
  if (!grants(pmap) || pmap.isAllowed(pa, len)) return;
  const region = board.regionAt(pa);
  if (region === undefined) return;
  try {
    pmap.addMap(region);
  } catch {
    // A board map without MPU regions: access stays as the loader's table has it.
  }
}

/**
 * The address of `va` for `access` in a view, or a negative `FaultCode`: the entry must be the view's and allow the
 * access (checked here: `NOT_MAPPED`/`PROTECTION`), then the MPU must agree (`pmap.translate`). Without an MMU the
 * address is `va` itself.
 */
export function flatPageFor(tree: GapTree, pmap: Pmap, va: number, access: number): number {
  const e = tree.containing(va);
  if (e === NIL) return FaultCode.NOT_MAPPED;
  if (!allows(tree.pool.prot[e], access)) return FaultCode.PROTECTION;
  const r = pmap.translate(va, access);
  if (r < 0) return r === FaultCode.PROTECTION ? r : FaultCode.NOT_MAPPED;
  return va;
}
