import { invariant, hex } from '@vmlayers/phys';
import { NIL } from './entry-pool.js';
import type { EntryPool } from './entry-pool.js';

/**
 * The entries of one map in an AVL tree keyed by start address, augmented with the largest free gap per subtree
 * (the original's `lmaxgap`/`rmaxgap`, kept as one `gap` per entry — the free bytes before it — and its subtree
 * maximum). First-fit above a hint is then O(log n): a subtree whose largest gap is too small is never entered.
 *
 * The tree does not own entries: callers take them from the {@link EntryPool} and set `start`/`end` before
 * inserting; after changing an entry's extent in place (order unchanged) they call {@link GapTree.resized}.
 */
export class GapTree {
  readonly pool: EntryPool;
  /** The map's range `[lo, hi)`. */
  readonly lo: number;
  readonly hi: number;
  root = NIL;
  count = 0;

  constructor(pool: EntryPool, lo: number, hi: number) {
    this.pool = pool;
    this.lo = lo;
    this.hi = hi;
  }

  /** The entry containing `va`, or NIL. */
  containing(va: number): number {
    const { start, end, left, right } = this.pool;
    let n = this.root;
    while (n !== NIL) {
      if (va < start[n]) n = left[n];
      else if (va >= end[n]) n = right[n];
      else return n;
    }
    return NIL;
  }

  /** The lowest entry whose end is above `va` (the first that could overlap `[va, …)`), or NIL. */
  firstEndingAfter(va: number): number {
    const { end, left, right } = this.pool;
    let n = this.root;
    let best = NIL;
    while (n !== NIL) {
      if (end[n] > va) {
        best = n;
        n = left[n];
      } else n = right[n];
    }
    return best;
  }

  first(): number {
    let n = this.root;
    if (n === NIL) return NIL;
    const left = this.pool.left;
    while (left[n] !== NIL) n = left[n];
    return n;
  }

  last(): number {
    let n = this.root;
    if (n === NIL) return NIL;
    const right = this.pool.right;
    while (right[n] !== NIL) n = right[n];
    return n;
  }

  next(n: number): number {
    const { left, right, parent } = this.pool;
    if (right[n] !== NIL) {
      n = right[n];
      while (left[n] !== NIL) n = left[n];
      return n;
    }
    let p = parent[n];
    while (p !== NIL && right[p] === n) {
      n = p;
      p = parent[p];
    }
    return p;
  }

  prev(n: number): number {
    const { left, right, parent } = this.pool;
    if (left[n] !== NIL) {
      n = left[n];
      while (right[n] !== NIL) n = right[n];
      return n;
    }
    let p = parent[n];
    while (p !== NIL && left[p] === n) {
      n = p;
      p = parent[p];
    }
    return p;
  }

  /** Inserts entry `e` (its extent set, overlapping nothing). */
  insert(e: number): void {
    const P = this.pool;
    const { start, left, right, parent, height } = P;
    let p = this.root;
    let up = NIL;
    while (p !== NIL) {
      up = p;
      p = start[e] < start[p] ? left[p] : right[p];
    }
    left[e] = NIL;
    right[e] = NIL;
    parent[e] = up;
    height[e] = 1;
    if (up === NIL) this.root = e;
    else if (start[e] < start[up]) left[up] = e;
    else right[up] = e;
    this.count++;
    const prev = this.prev(e);
    P.gap[e] = start[e] - (prev === NIL ? this.lo : P.end[prev]);
    const next = this.next(e);
    if (next !== NIL) P.gap[next] = start[next] - P.end[e];
    this.rebalance(e);
    if (next !== NIL) this.refresh(next);
  }

  /** Removes entry `e` from the tree (the caller gives it back to the pool). */
  remove(e: number): void {
    const P = this.pool;
    const { left, right, parent, height } = P;
    const next = this.next(e);
    const prev = this.prev(e);
    if (next !== NIL) P.gap[next] = P.start[next] - (prev === NIL ? this.lo : P.end[prev]);
    let from: number;
    if (left[e] !== NIL && right[e] !== NIL) {
      // Two children: the successor (leftmost of the right subtree, no left child) takes e's place.
      const s = next;
      const sp = parent[s];
      if (sp !== e) {
        const sr = right[s];
        left[sp] = sr;
        if (sr !== NIL) parent[sr] = sp;
        right[s] = right[e];
        parent[right[e]] = s;
        from = sp;
      } else from = s;
      left[s] = left[e];
      parent[left[e]] = s;
      this.replaceChild(parent[e], e, s);
      parent[s] = parent[e];
      height[s] = height[e];
    } else {
      const child = left[e] !== NIL ? left[e] : right[e];
      this.replaceChild(parent[e], e, child);
      if (child !== NIL) parent[child] = parent[e];
      from = parent[e];
    }
    this.count--;
    this.rebalance(from);
    if (next !== NIL) this.refresh(next);
  }

  /** After `e`'s start or end changed in place (its order among entries unchanged): fix the gaps around it. */
  resized(e: number): void {
    const P = this.pool;
    const prev = this.prev(e);
    P.gap[e] = P.start[e] - (prev === NIL ? this.lo : P.end[prev]);
    this.refresh(e);
    const next = this.next(e);
    if (next !== NIL) {
      P.gap[next] = P.start[next] - P.end[e];
      this.refresh(next);
    }
  }

  /** Largest free gap anywhere in the range (with the one after the last entry). */
  largestGap(): number {
    const last = this.last();
    const tail = this.hi - (last === NIL ? this.lo : this.pool.end[last]);
    return Math.max(tail, this.root === NIL ? 0 : this.pool.maxGap[this.root]);
  }

  /**
   * The lowest address ≥ `hint` where `size` free bytes fit, or, when none does, the lowest anywhere (the hint is
   * only a hint); -1 when no gap is large enough.
   */
  findFree(size: number, hint: number): number {
    if (size > this.hi - this.lo) return -1;
    const lower = Math.min(Math.max(hint, this.lo), this.hi);
    const a = this.findFrom(size, lower);
    return a >= 0 || lower === this.lo ? a : this.findFrom(size, this.lo);
  }

  private findFrom(size: number, lower: number): number {
    const P = this.pool;
    const n = this.search(this.root, size, lower);
    if (n !== NIL) return Math.max(P.start[n] - P.gap[n], lower);
    const last = this.last();
    const tail = Math.max(last === NIL ? this.lo : P.end[last], lower);
    return tail + size <= this.hi ? tail : -1;
  }

  // The leftmost entry of the subtree whose preceding gap holds `size` bytes at or above `lower`.
  private search(n: number, size: number, lower: number): number {
    const { start, gap, maxGap, left, right } = this.pool;
    while (n !== NIL && maxGap[n] >= size) {
      // No placement at or above `lower` ends before this entry: neither it nor anything left of it can serve.
      if (start[n] < lower + size) {
        n = right[n];
        continue;
      }
      const l = this.search(left[n], size, lower);
      if (l !== NIL) return l;
      if (Math.max(start[n] - gap[n], lower) + size <= start[n]) return n;
      n = right[n];
    }
    return NIL;
  }

  private replaceChild(p: number, old: number, child: number): void {
    const P = this.pool;
    if (p === NIL) this.root = child;
    else if (P.left[p] === old) P.left[p] = child;
    else P.right[p] = child;
  }

  // Recomputes height and subtree gap of n from its children.
  private update(n: number): void {
    const { left, right, height, gap, maxGap } = this.pool;
    const l = left[n];
    const r = right[n];
    height[n] = 1 + Math.max(height[l], height[r]);
    maxGap[n] = Math.max(gap[n], maxGap[l], maxGap[r]);
  }

  private refresh(n: number): void {
    const parent = this.pool.parent;
    while (n !== NIL) {
      this.update(n);
      n = parent[n];
    }
  }

  // Walks from n to the root, restoring AVL balance and the augmentation on the way.
  private rebalance(n: number): void {
    const { left, right, height, parent } = this.pool;
    while (n !== NIL) {
      this.update(n);
      const bf = height[left[n]] - height[right[n]];
      if (bf > 1) {
        const l = left[n];
        if (height[left[l]] < height[right[l]]) this.rotateLeft(l);
        n = this.rotateRight(n);
      } else if (bf < -1) {
        const r = right[n];
        if (height[right[r]] < height[left[r]]) this.rotateRight(r);
        n = this.rotateLeft(n);
      }
      n = parent[n];
    }
  }

  private rotateLeft(x: number): number {
    const { left, right, parent } = this.pool;
    const y = right[x];
    const b = left[y];
    right[x] = b;
    if (b !== NIL) parent[b] = x;
    this.replaceChild(parent[x], x, y);
    parent[y] = parent[x];
    left[y] = x;
    parent[x] = y;
    this.update(x);
    this.update(y);
    return y;
  }

  private rotateRight(x: number): number {
    const { left, right, parent } = this.pool;
    const y = left[x];
    const b = right[y];
    left[x] = b;
    if (b !== NIL) parent[b] = x;
    this.replaceChild(parent[x], x, y);
    parent[y] = parent[x];
    right[y] = x;
    parent[x] = y;
    this.update(x);
    this.update(y);
    return y;
  }

  /**
   * Verifies order, no overlaps, the range, parent links, AVL balance and heights, and every node's gap and
   * subtree gap. Returns the entries in order. Throws on the first broken invariant.
   */
  check(): number[] {
    const P = this.pool;
    const out: number[] = [];
    let prevEnd = this.lo;
    const visit = (n: number, up: number): number => {
      if (n === NIL) return 0;
      invariant(P.parent[n] === up, `entry ${n} has parent ${P.parent[n]}, expected ${up}`);
      invariant(P.height[n] > 0, `entry ${n} in the tree is marked free`);
      const hl = visit(P.left[n], n);
      const s = P.start[n];
      const e = P.end[n];
      invariant(s < e, `entry [${hex(s)}, ${hex(e)}) is empty or reversed`);
      invariant(s >= prevEnd, `entry [${hex(s)}, ${hex(e)}) overlaps or precedes the one ending at ${hex(prevEnd)}`);
      invariant(P.gap[n] === s - prevEnd, `entry ${hex(s)} records gap ${P.gap[n]}, actual ${s - prevEnd}`);
      prevEnd = e;
      out.push(n);
      const hr = visit(P.right[n], n);
      invariant(Math.abs(hl - hr) <= 1, `entry ${hex(s)} is out of balance (${hl} vs ${hr})`);
      invariant(P.height[n] === 1 + Math.max(hl, hr), `entry ${hex(s)} records height ${P.height[n]}`);
      const mg = Math.max(P.gap[n], P.maxGap[P.left[n]], P.maxGap[P.right[n]]);
      invariant(P.maxGap[n] === mg, `entry ${hex(s)} records subtree gap ${P.maxGap[n]}, actual ${mg}`);
      return P.height[n];
    };
    visit(this.root, NIL);
    invariant(prevEnd <= this.hi, `an entry ends at ${hex(prevEnd)}, past the range end ${hex(this.hi)}`);
    invariant(out.length === this.count, `tree holds ${out.length} entries, counts ${this.count}`);
    return out;
  }
}
