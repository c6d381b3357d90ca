import { VmError, invariant } from '@vmlayers/phys';
import type { MemContext } from './internal/context.js';

/** Bytes of kernel heap charged per amap: a header (lock, size, refs, chunk directory) … */
export const AMAP_HEADER_SIZE = 32;
/** … and, per chunk of slots in use, one anon index per slot. */
export const AMAP_SLOT_SIZE = 4;
/** Slots per chunk: a chunk is allocated (and charged) on the first page of its range that gets an anon. */
export const AMAP_CHUNK_SLOTS = 128;


/** Slot value of a page with no anon. */
export const NO_ANON = -1;

// One chunk of slots, its kernel-heap block and how many of its slots hold an anon.
interface Chunk {
  readonly slots: Int32Array;
  readonly kva: number;
  used: number;
}

/**
 * Who holds a reference on an amap. The parts split from one entry share a holder (they own disjoint slots); a
 * fork twin is another holder (it owns the same slots). UVM keeps per-page reference counts (`ppref`) to tell the
 * two apart; a holder per lineage says the same thing for what the mapper asks: is a slot shared with a twin?
 */
export type AmapHolder = object;

/**
 * An anonymous map (the original's `amap_t`, after UVM): the private pages of one or more map entries, one slot per
 * page holding an anon index ({@link NO_ANON} when the page has none). `refs` is the number of backings (map
 * entries) pointing at it: split parts of one entry, and fork twins until each has copied its slots out.
 *
 * Sparse, as a page table is: a directory of chunks of {@link AMAP_CHUNK_SLOTS} slots, a chunk made on the first
 * anon of its range and freed when its last anon goes. The kernel heap an amap holds is its header plus its chunks —
 * proportional to the pages touched, not to the mapping's size — so a mapping of any size the address space allows
 * can be written (the original's dense slot array, and this one's first version, could not pass about 2 M pages).
 * Slots are `Int32Array`s; the amap is one object per mapping, never per page.
 */
export class Amap {
  /** Slots (pages) the amap spans. */
  readonly length: number;
  private readonly chunks = new Map<number, Chunk>();
  private readonly holders = new Map<AmapHolder, number>();
  private count = 0;
  private readonly ctx: MemContext;
  private readonly kva: number;

  private constructor(ctx: MemContext, length: number, kva: number) {
    this.ctx = ctx;
    this.length = length;
    this.kva = kva;
  }

  /**
   * A new amap of `n` empty slots with one reference (`holder`'s), its header charged to kmalloc at fault site
   * `amap`. Throws `VmError('ENOMEM')` (nothing allocated) when the heap or the fault injector says no.
   */
  static create(ctx: MemContext, n: number, holder: AmapHolder): Amap {
    if (!Number.isSafeInteger(n) || n <= 0) throw new VmError('EINVAL', `amap slots must be a positive integer, got ${String(n)}`);
    const kva = ctx.charge('amap', AMAP_HEADER_SIZE);
    const a = new Amap(ctx, n, kva);
    a.ref(holder);
    ctx.amaps.add(a);
    return a;
  }

  /** Backings pointing at this amap. */
  get refs(): number {
    return this.count;
  }

  /** True when backings of more than one lineage (fork twins) point here: their slots are shared. */
  get twinned(): boolean {
    return this.holders.size > 1;
  }

  /** Kernel-heap bytes this amap holds: its header and its chunks. */
  get heapBytes(): number {
    let n = AMAP_HEADER_SIZE;
    for (const c of this.chunks.values()) n += AMAP_SLOT_SIZE * c.slots.length;
    return n;
  }

  /** The anon of slot `i`, or {@link NO_ANON}. */
  get(i: number): number {
    const c = this.chunks.get(Math.floor(i / AMAP_CHUNK_SLOTS));
    return c === undefined ? NO_ANON : c.slots[i % AMAP_CHUNK_SLOTS];
  }

  /**
   * Makes sure slot `i` can hold an anon: its chunk is made (charged at fault site `amap`) when missing. Throws
   * `VmError('ENOMEM')` with nothing changed. Call before taking what the slot will hold.
   */
  reserve(i: number): void {
    const n = Math.floor(i / AMAP_CHUNK_SLOTS);
    if (this.chunks.has(n)) return;
    // The last chunk stops at the amap's end: a two-page amap holds two slots, not a whole chunk.
    const len = Math.min(AMAP_CHUNK_SLOTS, this.length - n * AMAP_CHUNK_SLOTS);
    const kva = this.ctx.charge('amap', AMAP_SLOT_SIZE * len);
    this.chunks.set(n, { slots: new Int32Array(len).fill(NO_ANON), kva, used: 0 });
  }

  /** Undoes a {@link reserve} that nothing used: the chunk of slot `i` goes back to the heap if it holds no anon. */
  unreserve(i: number): void {
    const n = Math.floor(i / AMAP_CHUNK_SLOTS);
    const c = this.chunks.get(n);
    if (c === undefined || c.used > 0) return;
    this.chunks.delete(n);
    this.ctx.uncharge(c.kva, AMAP_SLOT_SIZE * c.slots.length);
  }

  /** Puts `anon` (or {@link NO_ANON}) in slot `i`, whose chunk {@link reserve} made. */
  set(i: number, anon: number): void {
    const c = this.chunks.get(Math.floor(i / AMAP_CHUNK_SLOTS));
    invariant(c !== undefined, `amap slot ${i} has no chunk (reserve it first)`);
    const j = i % AMAP_CHUNK_SLOTS;
    if (c.slots[j] === NO_ANON) c.used += anon === NO_ANON ? 0 : 1;
    else if (anon === NO_ANON) c.used--;
    c.slots[j] = anon;
  }

  /** Calls `fn(i, anon)` for every slot of `[from, to)` holding an anon, in order; only chunks that exist are read. */
  forEach(from: number, to: number, fn: (i: number, anon: number) => void): void {
    if (from >= to) return;
    const first = Math.floor(from / AMAP_CHUNK_SLOTS);
    const last = Math.floor((to - 1) / AMAP_CHUNK_SLOTS);
    // A wide range over a few chunks: walk the chunks; a narrow one: look its chunks up.
    const numbers = last - first + 1 > this.chunks.size ? [...this.chunks.keys()].filter((n) => n >= first && n <= last).sort((x, y) => x - y) : null;
    const visit = (n: number) => {
      const c = this.chunks.get(n);
      if (c === undefined || c.used === 0) return;
      const base = n * AMAP_CHUNK_SLOTS;
      const lo = Math.max(from, base) - base;
      const hi = Math.min(to, base + c.slots.length) - base;
      for (let j = lo; j < hi; j++) if (c.slots[j] !== NO_ANON) fn(base + j, c.slots[j]);
    };
    if (numbers !== null) for (const n of numbers) visit(n);
    else for (let n = first; n <= last; n++) visit(n);
  }

  /**
   * The original's `amap_create` for an entry whose amap is shared: a new amap holding slots `[from, to)` of this
   * one, the anons moved without touching their counts (the caller's reference goes with it), and this amap's
   * count dropped. Throws `ENOMEM` with nothing changed.
   */
  detach(from: number, to: number, holder: AmapHolder): Amap {
    const a = Amap.create(this.ctx, to - from, holder);
    try {
      this.forEach(from, to, (i, anon) => {
        a.reserve(i - from);
        a.set(i - from, anon);
      });
    } catch (e) {
      a.free();
      throw e;
    }
    this.put(holder);
    return a;
  }

  /** One more backing of `holder`'s lineage points here. */
  ref(holder: AmapHolder): void {
    this.holders.set(holder, (this.holders.get(holder) ?? 0) + 1);
    this.count++;
  }

  /** One backing of `holder`'s lineage fewer; the last one frees the amap (its anons were put by then). */
  put(holder: AmapHolder): void {
    const n = this.holders.get(holder) ?? 0;
    invariant(n > 0 && this.count > 0, 'amap put by a holder with no reference');
    if (n === 1) this.holders.delete(holder);
    else this.holders.set(holder, n - 1);
    if (--this.count > 0) return;
    this.free();
  }

  /** +1 on every anon of slots `[from, to)` (fork: the child owns them too). */
  getAnons(from: number, to: number): void {
    const anons = this.ctx.anons;
    this.forEach(from, to, (_i, a) => anons.ref(a));
  }

  /**
   * −1 on every anon of slots `[from, to)`, freeing pages whose last owner this was. `clear` empties the slots too
   * (and frees chunks left empty), which only an amap no twin shares may do: a twin still reads the slots.
   */
  putAnons(from: number, to: number, clear: boolean): void {
    const anons = this.ctx.anons;
    const seen: number[] = [];
    this.forEach(from, to, (i, a) => {
      if (clear) seen.push(i);
      anons.unref(a);
    });
    for (const i of seen) this.set(i, NO_ANON);
    if (clear) for (const i of seen) this.unreserve(i);
  }

  /** Verifies the amap's own state: referenced, registered, chunks inside it with their counts right. */
  check(): void {
    invariant(this.refs > 0, 'a registered amap has no reference');
    invariant(this.ctx.amaps.has(this), 'a referenced amap is not registered');
    for (const [n, c] of this.chunks) {
      invariant(n >= 0 && n * AMAP_CHUNK_SLOTS < this.length, `amap chunk ${n} is past its ${this.length} slots`);
      invariant(c.slots.length === Math.min(AMAP_CHUNK_SLOTS, this.length - n * AMAP_CHUNK_SLOTS), `amap chunk ${n} has ${c.slots.length} slots`);
      let used = 0;
      for (let j = 0; j < c.slots.length; j++) {
        invariant(c.slots[j] >= NO_ANON, `amap slot ${n * AMAP_CHUNK_SLOTS + j} holds ${c.slots[j]}`);
        if (c.slots[j] !== NO_ANON) used++;
      }
      invariant(used === c.used, `amap chunk ${n} counts ${c.used} anons, holds ${used}`);
    }
  }

  /** Slots holding an anon. */
  resident(): number {
    let n = 0;
    for (const c of this.chunks.values()) n += c.used;
    return n;
  }

  // Gives back the header and every chunk (the anons were put, or moved, by then).
  private free(): void {
    for (const c of this.chunks.values()) this.ctx.uncharge(c.kva, AMAP_SLOT_SIZE * c.slots.length);
    this.chunks.clear();
    this.ctx.uncharge(this.kva, AMAP_HEADER_SIZE);
    this.ctx.amaps.delete(this);
  }
}
