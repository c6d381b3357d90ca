import { VmError, invariant } from '@vmlayers/phys';
import type { MemContext } from './internal/context.js';

/** Bytes of kernel heap charged per amap: a header (lock, size, refs) … */
export const AMAP_HEADER_SIZE = 32;
/** … plus one anon index per slot. */
export const AMAP_SLOT_SIZE = 4;

/** Slot value of a page with no anon. */
export const NO_ANON = -1;

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
 * Slots are an `Int32Array`; the amap itself is one object per mapping, never per page.
 */
export class Amap {
  readonly slots: Int32Array;
  private readonly holders = new Map<AmapHolder, number>();
  private count = 0;
  private readonly ctx: MemContext;
  private readonly kva: number;
  private readonly bytes: number;

  private constructor(ctx: MemContext, slots: Int32Array, kva: number, bytes: number) {
    this.ctx = ctx;
    this.slots = slots;
    this.kva = kva;
    this.bytes = bytes;
  }

  /**
   * A new amap of `n` empty slots with one reference, charged to kmalloc at fault site `amap`. Throws
   * `VmError('ENOMEM')` (nothing allocated) when the heap or the fault injector says no.
   */
  static create(ctx: MemContext, n: number, holder: AmapHolder): Amap {
    if (!Number.isSafeInteger(n) || n <= 0) throw new VmError('EINVAL', `amap slots must be a positive integer, got ${String(n)}`);
    const bytes = AMAP_HEADER_SIZE + AMAP_SLOT_SIZE * n;
    const kva = ctx.charge('amap', bytes);
    const a = new Amap(ctx, new Int32Array(n).fill(NO_ANON), kva, bytes);
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

  /**
   * The original's `amap_create` for an entry whose amap is shared: a new amap holding slots `[from, to)` of this
   * one, the anons moved without touching their counts (the caller's reference goes with it), and this amap's
   * count dropped. Throws `ENOMEM` with nothing changed.
   */
  detach(from: number, to: number, holder: AmapHolder): Amap {
    const a = Amap.create(this.ctx, to - from, holder);
    a.slots.set(this.slots.subarray(from, to));
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
    this.ctx.uncharge(this.kva, this.bytes);
    this.ctx.amaps.delete(this);
  }

  /** +1 on every anon of slots `[from, to)` (fork: the child owns them too). */
  getAnons(from: number, to: number): void {
    const s = this.slots;
    const anons = this.ctx.anons;
    for (let i = from; i < to; i++) if (s[i] !== NO_ANON) anons.ref(s[i]);
  }

  /**
   * −1 on every anon of slots `[from, to)`, freeing pages whose last owner this was. `clear` empties the slots too,
   * which only the amap's sole owner may do: a fork twin still reads the slots it shares.
   */
  putAnons(from: number, to: number, clear: boolean): void {
    const s = this.slots;
    const anons = this.ctx.anons;
    for (let i = from; i < to; i++) {
      const a = s[i];
      if (a === NO_ANON) continue;
      if (clear) s[i] = NO_ANON;
      anons.unref(a);
    }
  }

  /** Verifies the amap's own state: referenced, registered, slots naming live anons or none. */
  check(): void {
    invariant(this.refs > 0, 'a registered amap has no reference');
    invariant(this.ctx.amaps.has(this), 'a referenced amap is not registered');
    for (let i = 0; i < this.slots.length; i++) invariant(this.slots[i] >= NO_ANON, `amap slot ${i} holds ${this.slots[i]}`);
  }

  /** Slots holding an anon. */
  resident(): number {
    let n = 0;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== NO_ANON) n++;
    return n;
  }
}
