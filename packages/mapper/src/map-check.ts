import { MAP_FLAGS_ALL, MapFlags, Prot, hex, invariant } from '@vmlayers/phys';
import { NIL } from './entry-pool.js';
import type { MapBase } from './map-base.js';
import { WIRED } from './map-context.js';
import { ZeroFillBacking, checkZeroFill } from './zero-fill.js';

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/**
 * Verifies every invariant of map `m` (after UVM's `uvm_map_checkprot` and the maple tree's validators): the tree
 * (order, no overlap, balance, gap augmentation), each entry's fields, the entry pool over every live map, the
 * pmap's own invariants (`Pmap.check`), every translation inside an entry that allows access, and the zero-fill
 * memory the map's entries hold. Throws on the first broken one.
 */
export function checkMap(m: MapBase): void {
  const ctx = m.ctx;
  const P = ctx.pool;
  let inMaps = 0;
  for (const x of ctx.maps) inMaps += x.tree.count;
  P.check(inMaps);
  if (m.destroyed) {
    invariant(m.tree.count === 0, 'a destroyed map still holds entries');
    return;
  }
  const ids = m.tree.check();
  const ps = m.pageSize;
  const zero: [ZeroFillBacking, number, number][] = [];
  for (const e of ids) {
    const s = P.start[e];
    const where = `entry [${hex(s)}, ${hex(P.end[e])})`;
    const flags = P.flags[e];
    invariant(s % ps === 0 && P.end[e] % ps === 0, `${where} is not page-aligned`);
    invariant(P.offset[e] % ps === 0 && Number.isSafeInteger(P.offset[e]) && P.offset[e] >= 0, `${where} has offset ${P.offset[e]}`);
    invariant(P.prot[e] <= 0xf, `${where} has prot ${P.prot[e]}`);
    invariant(P.protOrig[e] <= 0xf, `${where} has protOrig ${P.protOrig[e]}`);
    invariant((flags & ~(MAP_FLAGS_ALL | WIRED)) === 0, `${where} has unknown flags ${hex(flags)}`);
    invariant((flags & MapFlags.FIXED) === 0, `${where} keeps MapFlags.FIXED`);
    invariant((flags & (MapFlags.NEEDSCOPY | MapFlags.SHARED)) !== (MapFlags.NEEDSCOPY | MapFlags.SHARED), `${where} is shared and needs-copy`);
    const b = P.backing[e];
    invariant(b !== undefined, `${where} has no backing`);
    invariant(ctx.held.has(b), `${where} holds a backing the map does not know it holds`);
    if ((flags & MapFlags.SHARED) === 0 && (flags & WIRED) === 0 && m.mmu) {
      // Needs-copy may lag behind a twin's exit (cleared lazily), never the other way round.
      invariant((flags & MapFlags.NEEDSCOPY) !== 0 || !b.shared(), `${where} writes in place into a backing that shares its state (needs-copy lost)`);
    }
    if (m.isKernel) invariant((P.prot[e] & Prot.USER) === 0, `${where} of the kernel map is Prot.USER`);
    if (!m.mmu) invariant(ctx.mem.isRam(s, P.end[e] - s) || flags & (MapFlags.PHYSMEM | MapFlags.DEVICE), `${where} is not memory`);
    if (b instanceof ZeroFillBacking) zero.push([b, P.offset[e], P.offset[e] + (P.end[e] - s)]);
  }
  m.pmap.check();
  if (m.mmu) checkTranslations(m, ids);
  if (m.isKernel) ctx.rmap?.check();
  checkZeroFill(zero, ctx.alloc);
}

// Every resolvable page of an entry must be in one that allows access, and there must be no other translation:
// the leaf tables hold exactly as many entries as the entries' pages resolve.
function checkTranslations(m: MapBase, ids: number[]): void {
  const P = m.ctx.pool;
  const ps = m.pageSize;
  const tables = m.pmap.tables();
  // Leaf tables map pages; one such table covers what one entry of the level above maps.
  let leafLevel = -1;
  for (const t of tables) if (t.span === ps) leafLevel = Math.max(leafLevel, t.level);
  let cover = 0;
  for (const t of tables) if (t.level === leafLevel - 1) cover = t.span;
  let resolved = 0;
  const resolveIn = (e: number, from: number, to: number) => {
    const none = (P.prot[e] & RWX) === 0;
    for (let va = from; va < to; va += ps) {
      if (m.pmap.resolve(va) < 0) continue;
      invariant(!none, `page ${hex(va)} is translated inside a PROT_NONE entry`);
      resolved++;
    }
  };
  let leaves = 0;
  for (const t of tables) {
    if (t.level !== leafLevel) continue;
    leaves += t.entries;
    // Only pages under an existing leaf table can be translated: a huge, untouched entry costs nothing here.
    if (cover > 0) {
      const end = t.va + cover;
      for (let e = m.tree.firstEndingAfter(t.va); e !== NIL && P.start[e] < end; e = m.tree.next(e)) {
        resolveIn(e, Math.max(P.start[e], t.va), Math.min(P.end[e], end));
      }
    }
  }
  // No table maps pages (leafLevel < 0): nothing can be translated, and resolving every page of every entry would
  // cost O(address space) — 2^26 pages for a Sv39 entry spanning the user range, 2^36 on AArch64. Only a format
  // whose leaf tables have no parent (cover 0 with leaf tables) is walked entry by entry.
  if (cover === 0 && leafLevel >= 0) for (const e of ids) resolveIn(e, P.start[e], P.end[e]);
  invariant(leaves === resolved, `the pmap holds ${leaves} translations, the entries account for ${resolved}`);
  // With the reverse map's own check (every record resolves to its frame, none twice), one record per translation.
  const rmap = m.ctx.rmap;
  if (rmap !== null && !m.isKernel) {
    const recorded = rmap.recordsOf(m.id);
    invariant(recorded === resolved, `the reverse map records ${recorded} mappings of map ${m.id}, its pmap holds ${resolved}`);
  }
}
