import { MapFlags, invariant, hex } from '@vmlayers/phys';
import type { Backing } from './backing.js';
import { NIL } from './entry-pool.js';
import type { MapBase } from './map-base.js';
import { WIRED } from './map-context.js';

/*
 * Editing the entries of one map (UVM's uvm_map_clip_start/end, uvm_unmap_remove and the merge half of
 * uvm_map): cut an entry in two, cut a range out, place a new entry over what is there, merge equal neighbours.
 * Every function that can fail reserves the entries it needs first (`MapBase.reserve`); after that nothing fails,
 * and backings are told in the order the contract fixes: `unmap` before `release`, `merge` only once committed.
 */

/**
 * Cuts entry `e` at `at` (strictly inside it): `e` keeps `[start, at)`, a reserved entry takes `[at, end)` with
 * the backing's split handle. Returns the upper entry.
 */
export function clipEnd(m: MapBase, e: number, at: number): number {
  const P = m.ctx.pool;
  const u = m.takeReserved();
  const off = P.offset[e] + (at - P.start[e]);
  P.start[u] = at;
  P.end[u] = P.end[e];
  P.prot[u] = P.prot[e];
  P.protOrig[u] = P.protOrig[e];
  P.flags[u] = P.flags[e];
  P.offset[u] = off;
  m.attach(u, P.backing[e]!.split(off, P.end[e] - at));
  P.end[e] = at;
  m.tree.resized(e);
  m.tree.insert(u);
  return u;
}

/** Removes `[a, b)` from the entries from `over` on, none of which contains the whole range strictly inside it. */
function cutOut(m: MapBase, over: number, a: number, b: number): void {
  const P = m.ctx.pool;
  let n = over;
  while (n !== NIL && P.start[n] < b) {
    const nx = m.tree.next(n);
    const s = P.start[n];
    const e = P.end[n];
    const cs = Math.max(s, a);
    const ce = Math.min(e, b);
    P.backing[n]!.unmap(P.offset[n] + (cs - s), ce - cs);
    if (s < a) {
      P.end[n] = a;
      m.tree.resized(n);
    } else if (e > b) {
      P.offset[n] += b - s;
      P.start[n] = b;
      m.tree.resized(n);
    } else m.drop(n);
    n = nx;
  }
}

/** Unmaps `[a, b)`: translations removed, backings told, entries trimmed, split or dropped. */
export function unmapRange(m: MapBase, a: number, b: number): void {
  const P = m.ctx.pool;
  const over = m.tree.firstEndingAfter(a);
  if (over === NIL || P.start[over] >= b) return;
  const inside = P.start[over] < a && P.end[over] > b;
  m.reserveEntries(inside ? 1 : 0);
  if (m.mmu) m.removePages(a, b);
  if (inside) {
    P.backing[over]!.unmap(P.offset[over] + (a - P.start[over]), b - a);
    clipEnd(m, over, b);
    P.end[over] = a;
    m.tree.resized(over);
  } else cutOut(m, over, a, b);
  m.releaseReserved();
}

/** True when entry `y` can be folded into its predecessor `x` (pure: asks the backing, changes nothing). */
function mergeable(m: MapBase, x: number, y: number): boolean {
  const P = m.ctx.pool;
  const len = P.end[x] - P.start[x];
  return (
    P.end[x] === P.start[y] &&
    P.prot[x] === P.prot[y] &&
    P.protOrig[x] === P.protOrig[y] &&
    P.flags[x] === P.flags[y] &&
    (P.flags[x] & WIRED) === 0 &&
    P.offset[x] + len === P.offset[y] &&
    P.backing[x]!.canMerge(P.backing[y]!, len)
  );
}

/** Merges neighbours pairwise from entry `x` up to the first entry starting at or after `limit`. */
export function mergeFrom(m: MapBase, x: number, limit: number): void {
  const P = m.ctx.pool;
  let cur = x;
  m.settle(cur);
  while (cur !== NIL && P.start[cur] < limit) {
    const nx = m.tree.next(cur);
    if (nx === NIL) break;
    m.settle(nx);
    if (mergeable(m, cur, nx)) {
      const end = P.end[nx];
      P.backing[cur]!.merge(P.backing[nx]!, P.end[cur] - P.start[cur]);
      m.drop(nx);
      P.end[cur] = end;
      m.tree.resized(cur);
    } else cur = nx;
  }
}

/**
 * Maps `[a, a + len)` to `backing` from `offset`, replacing what is there when `fixed`. The entries the operation
 * needs are reserved before anything changes, so `ENOMEM` leaves the map as it was; the new range is merged with
 * neighbours of the same prot and flags whose backing extends over it. A private entry whose backing shares
 * something is needs-copy. On success the map owns `backing` (held by an entry, or merged and released).
 */
export function place(m: MapBase, a: number, len: number, prot: number, flags: number, backing: Backing, offset: number, fixed: boolean): void {
  const P = m.ctx.pool;
  const tree = m.tree;
  const b = a + len;
  let over = tree.firstEndingAfter(a);
  if (over !== NIL && P.start[over] >= b) over = NIL;
  invariant(fixed || over === NIL, `placement [${hex(a)}, ${hex(b)}) overlaps an entry`);
  const L = over !== NIL && P.start[over] < a ? over : NIL;
  const t = over === NIL ? NIL : tree.containing(b - 1);
  const R = t !== NIL && P.end[t] > b ? t : NIL;
  const inside = L !== NIL && L === R;
  let leftN = L;
  if (leftN === NIL) {
    const f = tree.firstEndingAfter(a);
    const p = f === NIL ? tree.last() : tree.prev(f);
    if (p !== NIL && P.end[p] === a) leftN = p;
  }
  let rightN = R;
  if (rightN === NIL) {
    const f = tree.firstEndingAfter(b);
    if (f !== NIL && P.start[f] === b) rightN = f;
  }
  m.settle(leftN);
  m.settle(rightN);
  const entryFlags = flags | ((flags & MapFlags.SHARED) === 0 && backing.shared() ? MapFlags.NEEDSCOPY : 0);
  const same = (n: number) => n !== NIL && P.prot[n] === prot && P.protOrig[n] === prot && P.flags[n] === entryFlags && (entryFlags & WIRED) === 0;
  const leftLen = leftN === NIL ? 0 : a - P.start[leftN];
  const mergeL = same(leftN) && P.offset[leftN] + leftLen === offset && P.backing[leftN]!.canMerge(backing, leftLen);
  const rightOffset = rightN === NIL ? 0 : R !== NIL ? P.offset[R] + (b - P.start[R]) : P.offset[rightN];
  const mergeR =
    same(rightN) &&
    rightOffset === offset + len &&
    backing.canMerge(P.backing[rightN]!, len) &&
    (!mergeL || P.backing[leftN]!.canMerge(P.backing[rightN]!, leftLen + len));
  const splitNeeded = inside && !(mergeL && mergeR);
  m.reserveEntries((splitNeeded ? 1 : 0) + (mergeL || mergeR ? 0 : 1));

  if (over !== NIL) {
    if (m.mmu) m.removePages(a, b);
    if (inside) {
      P.backing[L]!.unmap(P.offset[L] + (a - P.start[L]), len);
      if (splitNeeded) {
        rightN = clipEnd(m, L, b);
        P.end[L] = a;
        tree.resized(L);
      }
    } else cutOut(m, over, a, b);
  }
  if (mergeL && mergeR) {
    const lb = P.backing[leftN]!;
    lb.merge(backing, leftLen);
    if (rightN !== leftN) {
      lb.merge(P.backing[rightN]!, leftLen + len);
      const end = P.end[rightN];
      m.drop(rightN);
      P.end[leftN] = end;
      tree.resized(leftN);
    }
    backing.release();
  } else if (mergeL) {
    P.backing[leftN]!.merge(backing, leftLen);
    P.end[leftN] = b;
    tree.resized(leftN);
    backing.release();
  } else if (mergeR) {
    // The lower handle survives a merge: the new backing takes over the right neighbour's range.
    const old = P.backing[rightN]!;
    backing.merge(old, len);
    m.detach(rightN);
    old.release();
    m.attach(rightN, backing);
    P.start[rightN] = a;
    P.offset[rightN] = offset;
    tree.resized(rightN);
  } else {
    const e = m.takeReserved();
    P.start[e] = a;
    P.end[e] = b;
    P.prot[e] = prot;
    P.protOrig[e] = prot;
    P.flags[e] = entryFlags;
    P.offset[e] = offset;
    m.attach(e, backing);
    tree.insert(e);
  }
  m.releaseReserved();
}
