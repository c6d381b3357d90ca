import { invariant } from '@vmlayers/phys';
import type { FaultInjector } from '@vmlayers/phys';
import type { Backing } from './backing.js';

/** Entry number 0 is the tree's nil sentinel: never handed out, height 0, no gap. */
export const NIL = 0;

/**
 * The bounded pool of map entries every map of one kernel draws from (the original's `map_common` pool, fixed at
 * boot and never grown past its limit: exhaustion is `ENOMEM`, not a bigger pool). An entry is a number; its fields
 * live in parallel typed arrays, so 100 000 entries are a few typed arrays rather than 100 000 objects. Storage
 * grows geometrically up to the limit, so a big limit costs nothing until it is used.
 *
 * Every entry taken counts at the allocator's fault-injection site `map-entry`.
 */
export class EntryPool {
  /** Entries this pool may ever hand out. */
  readonly limit: number;
  private readonly faults: FaultInjector;
  start = new Float64Array(0);
  end = new Float64Array(0);
  offset = new Float64Array(0);
  /** Free bytes between this entry and its in-order predecessor (or the map's start). */
  gap = new Float64Array(0);
  /** Largest `gap` in the subtree rooted here. */
  maxGap = new Float64Array(0);
  left = new Int32Array(0);
  right = new Int32Array(0);
  parent = new Int32Array(0);
  height = new Int8Array(0);
  prot = new Uint8Array(0);
  /** The protection the entry was mapped with (the original's `protOrig`): `mprotect` leaves it, fork and splits copy it. */
  protOrig = new Uint8Array(0);
  flags = new Uint16Array(0);
  backing: (Backing | undefined)[] = [];
  // Slots ever used (1..highWater); freed ones are chained through `parent` from freeHead.
  private highWater = 0;
  private freeHead = NIL;
  private inUse = 0;

  constructor(limit: number, faults: FaultInjector) {
    this.limit = limit;
    this.faults = faults;
    this.grow(Math.min(limit, 64));
  }

  /** Entries in use. */
  get used(): number {
    return this.inUse;
  }

  /** Entries left to hand out. */
  get free(): number {
    return this.limit - this.inUse;
  }

  /**
   * Takes `n` entries into `out`, all or nothing: false (and nothing taken) when the pool runs dry or the fault
   * injector fails one of them.
   */
  take(n: number, out: number[]): boolean {
    const first = out.length;
    for (let i = 0; i < n; i++) {
      const e = this.faults.hit('map-entry') ? NIL : this.takeOne();
      if (e === NIL) {
        while (out.length > first) this.put(out.pop()!);
        return false;
      }
      out.push(e);
    }
    return true;
  }

  /** Gives an entry back. */
  put(e: number): void {
    this.backing[e] = undefined;
    this.parent[e] = this.freeHead;
    this.height[e] = -1;
    this.freeHead = e;
    this.inUse--;
  }

  private takeOne(): number {
    if (this.inUse >= this.limit) return NIL;
    let e = this.freeHead;
    if (e !== NIL) this.freeHead = this.parent[e];
    else {
      if (this.highWater + 1 >= this.start.length) this.grow(Math.min(this.limit, Math.max(64, this.highWater * 2)));
      e = ++this.highWater;
    }
    this.left[e] = NIL;
    this.right[e] = NIL;
    this.parent[e] = NIL;
    this.height[e] = 1;
    this.inUse++;
    return e;
  }

  private grow(capacity: number): void {
    const n = capacity + 1;
    if (n <= this.start.length) return;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.start = f64(this.start);
    this.end = f64(this.end);
    this.offset = f64(this.offset);
    this.gap = f64(this.gap);
    this.maxGap = f64(this.maxGap);
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.left = i32(this.left);
    this.right = i32(this.right);
    this.parent = i32(this.parent);
    const h = new Int8Array(n);
    h.set(this.height);
    this.height = h;
    const p = new Uint8Array(n);
    p.set(this.prot);
    this.prot = p;
    const po = new Uint8Array(n);
    po.set(this.protOrig);
    this.protOrig = po;
    const fl = new Uint16Array(n);
    fl.set(this.flags);
    this.flags = fl;
    // The sentinel: no height, and a gap smaller than any request so that searches never descend into it.
    this.maxGap[NIL] = -1;
    this.gap[NIL] = -1;
    this.height[NIL] = 0;
  }

  /** Verifies the free chain against the use count; `inMaps` is the number of entries the live maps hold. */
  check(inMaps: number): void {
    invariant(inMaps === this.inUse, `maps hold ${inMaps} entries, the pool counts ${this.inUse} in use`);
    invariant(this.inUse <= this.limit, `pool hands out ${this.inUse} entries, limit ${this.limit}`);
    let chained = 0;
    for (let e = this.freeHead; e !== NIL; e = this.parent[e]) {
      invariant(++chained <= this.highWater, 'entry free chain has a cycle');
      invariant(this.height[e] === -1, `free entry ${e} is marked in use`);
    }
    invariant(chained + this.inUse === this.highWater, `${chained} free + ${this.inUse} used ≠ ${this.highWater} slots used so far`);
    invariant(this.height[NIL] === 0 && this.maxGap[NIL] === -1, 'nil sentinel was written');
  }
}
