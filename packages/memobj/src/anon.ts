import { FaultCode, PageOwner, invariant, isVmError } from '@vmlayers/phys';
import type { MemContext } from './internal/context.js';

/** Bytes of kernel heap charged per anon (the original's `anon_t`: lock, refs, page pointer). */
export const ANON_SIZE = 16;

/**
 * The anons of one subsystem: an anon is one anonymous page (the original's `anon_t`), named by its index in this
 * table. Its reference count is the number of map entries (fork twins) that logically own the page; at zero the
 * frame is freed. Refcounts, frames and heap blocks live in parallel typed arrays — no object per page.
 */
export class AnonTable {
  private readonly ctx: MemContext;
  private refsOf = new Int32Array(64);
  private paOf = new Float64Array(64);
  private kvaOf = new Float64Array(64);
  // The swap slot of an anon whose page is swapped out (its frame then -1), else -1.
  private slotOf = new Int32Array(64).fill(-1);
  // Free indices, a stack.
  private freeList = new Int32Array(64);
  private freeTop = 0;
  private highWater = 0;
  private liveCount = 0;

  constructor(ctx: MemContext) {
    this.ctx = ctx;
  }

  /** Anons alive. */
  get live(): number {
    return this.liveCount;
  }

  /**
   * A new anon owning frame `pa` with one reference, or -1 when the fault injector (`anon`) or kmalloc says no;
   * on -1 the caller still owns the frame.
   */
  create(pa: number): number {
    let kva: number;
    try {
      kva = this.ctx.charge('anon', ANON_SIZE);
    } catch (e) {
      // Only exhaustion is an answer; anything else is a bug that must propagate.
      if (!isVmError(e, 'ENOMEM')) throw e;
      return -1;
    }
    let i: number;
    if (this.freeTop > 0) i = this.freeList[--this.freeTop];
    else {
      if (this.highWater === this.refsOf.length) this.grow();
      i = this.highWater++;
    }
    this.refsOf[i] = 1;
    this.paOf[i] = pa;
    this.kvaOf[i] = kva;
    this.slotOf[i] = -1;
    this.liveCount++;
    this.ctx.reclaimer?.added(pa, i);
    return i;
  }

  /** The frame of anon `i`; -1 while its page is swapped out (see {@link resident}). */
  pa(i: number): number {
    return this.paOf[i];
  }

  /** The swap slot of anon `i` while its page is swapped out, else -1. */
  slot(i: number): number {
    return this.slotOf[i];
  }

  /**
   * The frame of anon `i`, read back from swap first when it is swapped out (a major fault: a frame taken — which
   * may evict another page — the slot's bytes copied in, the slot given back); `FaultCode.NO_MEMORY` when no frame
   * can be had.
   */
  resident(i: number, pid?: number, va?: number): number {
    const held = this.paOf[i];
    if (held >= 0) return held;
    const ctx = this.ctx;
    const swap = ctx.reclaimer!.swap!;
    const slot = this.slotOf[i];
    const pa = ctx.frame(ctx.pageSize, true);
    if (pa < 0) return FaultCode.NO_MEMORY;
    ctx.mem.write(pa, swap.read(slot));
    swap.unref(slot);
    this.slotOf[i] = -1;
    this.paOf[i] = pa;
    ctx.reclaimer!.swapIns++;
    if (pid !== undefined) ctx.countFault(pid, true);
    ctx.reclaimer!.added(pa, i);
    if (ctx.listener !== null) {
      ctx.allocated(pa, ctx.pageSize, '[anon]', pid, va);
      ctx.emit({ type: 'swap-in', pid, va, pa, slot });
    }
    return pa;
  }

  /** @internal Reclaim wrote anon `i`'s page to `slot` and unmapped it everywhere: its frame goes back. */
  swappedOut(i: number, slot: number): void {
    this.ctx.freeFrame(this.paOf[i], this.ctx.pageSize, '[anon]');
    this.paOf[i] = -1;
    this.slotOf[i] = slot;
  }

  /** References to anon `i`. */
  refs(i: number): number {
    return this.refsOf[i];
  }

  /** One more entry owns anon `i` (fork). */
  ref(i: number): void {
    this.refsOf[i]++;
  }

  /** One entry fewer owns anon `i`; the last one frees the frame and the anon. */
  unref(i: number): void {
    if (--this.refsOf[i] > 0) return;
    if (this.slotOf[i] >= 0) {
      this.ctx.reclaimer!.swap!.unref(this.slotOf[i]);
      this.slotOf[i] = -1;
    } else {
      this.ctx.reclaimer?.removed(this.paOf[i]);
      this.ctx.freeFrame(this.paOf[i], this.ctx.pageSize, '[anon]');
    }
    this.ctx.uncharge(this.kvaOf[i], ANON_SIZE);
    this.paOf[i] = -1;
    if (this.freeTop === this.freeList.length) {
      const next = new Int32Array(this.freeList.length * 2);
      next.set(this.freeList);
      this.freeList = next;
    }
    this.freeList[this.freeTop++] = i;
    this.liveCount--;
  }

  /** Every live anon index (for checks and reports). */
  *indices(): IterableIterator<number> {
    for (let i = 0; i < this.highWater; i++) if (this.refsOf[i] > 0) yield i;
  }

  /**
   * Verifies the table against `expected` (the references the amaps of live entries hold, by anon index): every
   * live anon referenced exactly that often, its frame allocated to an application, no two anons on one frame.
   */
  check(expected: Map<number, number>): void {
    const frames = new Set<number>();
    let live = 0;
    for (let i = 0; i < this.highWater; i++) {
      const r = this.refsOf[i];
      invariant(r >= 0, `anon ${i} has ${r} references`);
      if (r === 0) {
        invariant(!expected.has(i), `a slot names freed anon ${i} (use after free)`);
        continue;
      }
      live++;
      const want = expected.get(i) ?? 0;
      invariant(r === want, `anon ${i} has ${r} references, entries hold ${want}`);
      const pa = this.paOf[i];
      if (pa < 0) {
        const slot = this.slotOf[i];
        const swap = this.ctx.reclaimer?.swap;
        invariant(slot >= 0 && swap !== undefined && swap !== null && swap.refs(slot) === 1, `anon ${i} has no frame and no swap slot of its own`);
        continue;
      }
      invariant(this.slotOf[i] === -1, `anon ${i} has both a frame and swap slot ${this.slotOf[i]}`);
      const f = this.ctx.alloc.get(pa);
      invariant(f !== undefined && !f.free && f.owner === PageOwner.APP, `anon ${i}: frame 0x${pa.toString(16)} is not an allocated application frame`);
      invariant(!frames.has(pa), `two anons own frame 0x${pa.toString(16)}`);
      frames.add(pa);
    }
    invariant(live === this.liveCount, `anon table counts ${this.liveCount} live anons, finds ${live}`);
    for (const i of expected.keys()) invariant(i < this.highWater && this.refsOf[i] > 0, `a slot names freed anon ${i}`);
  }

  /** Frames of live anons (for cross-checks with page caches). */
  frames(): Set<number> {
    const s = new Set<number>();
    for (let i = 0; i < this.highWater; i++) if (this.refsOf[i] > 0 && this.paOf[i] >= 0) s.add(this.paOf[i]);
    return s;
  }

  private grow(): void {
    const n = this.refsOf.length * 2;
    const refs = new Int32Array(n);
    refs.set(this.refsOf);
    const pa = new Float64Array(n);
    pa.set(this.paOf);
    const kva = new Float64Array(n);
    kva.set(this.kvaOf);
    const slot = new Int32Array(n).fill(-1);
    slot.set(this.slotOf);
    this.refsOf = refs;
    this.paOf = pa;
    this.kvaOf = kva;
    this.slotOf = slot;
  }
}
