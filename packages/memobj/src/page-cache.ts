import { PageOwner, invariant } from '@vmlayers/phys';

/** Page-cache slot value of a page not in memory. */
export const NOT_CACHED = -1;

/**
 * The pages of one memory object that are in memory: a `Float64Array` of frame addresses by page index
 * ({@link NOT_CACHED} when absent) and a dirty byte per page (written through a `SHARED` mapping since the last
 * write-back). The original never evicts: a cached page lives as long as its object; with reclaim on, a pager's
 * page may be dropped (`drop`) and read again on next use.
 */
export class PageCache {
  readonly frames: Float64Array;
  readonly dirty: Uint8Array;
  // Swap slot of each page of an anonymous object evicted to swap (-1: none); made on the first such eviction.
  private slots: Int32Array | null = null;
  private count = 0;

  constructor(pages: number) {
    this.frames = new Float64Array(pages).fill(NOT_CACHED);
    this.dirty = new Uint8Array(pages);
  }

  /** Pages in memory. */
  get resident(): number {
    return this.count;
  }

  /** The frame of page `i`, or {@link NOT_CACHED}. */
  get(i: number): number {
    return this.frames[i];
  }

  /** Caches frame `pa` as page `i` (which must be absent). */
  set(i: number, pa: number): void {
    invariant(this.frames[i] === NOT_CACHED, `page ${i} is cached twice`);
    this.frames[i] = pa;
    this.count++;
  }

  /** The swap slot holding page `i` (evicted to swap), or -1. */
  slotOf(i: number): number {
    return this.slots === null ? -1 : this.slots[i];
  }

  /** Page `i` (not cached) is in swap slot `slot`, or no longer (-1). */
  setSlot(i: number, slot: number): void {
    if (this.slots === null) this.slots = new Int32Array(this.frames.length).fill(-1);
    this.slots[i] = slot;
  }

  /** Every page in swap, as [page, slot] pairs. */
  swapped(): [number, number][] {
    const out: [number, number][] = [];
    if (this.slots !== null) for (let i = 0; i < this.slots.length; i++) if (this.slots[i] >= 0) out.push([i, this.slots[i]]);
    return out;
  }

  /** Forgets page `i` (reclaim dropped it): absent and clean again. */
  drop(i: number): void {
    invariant(this.frames[i] !== NOT_CACHED, `page ${i} dropped but not cached`);
    this.frames[i] = NOT_CACHED;
    this.dirty[i] = 0;
    this.count--;
  }

  /** Empties the cache, calling `free` for each frame. */
  drain(free: (pa: number) => void): void {
    const f = this.frames;
    for (let i = 0; i < f.length; i++) {
      if (f[i] === NOT_CACHED) continue;
      const pa = f[i];
      f[i] = NOT_CACHED;
      this.dirty[i] = 0;
      this.count--;
      free(pa);
    }
  }

  /** Verifies the count and that every frame is an allocated application frame (per `frameOwner`). */
  check(name: string, frameOwner: (pa: number) => number | undefined): void {
    let n = 0;
    for (let i = 0; i < this.frames.length; i++) {
      const pa = this.frames[i];
      if (pa === NOT_CACHED) {
        invariant(this.dirty[i] === 0, `${name}: page ${i} is dirty but not cached`);
        continue;
      }
      n++;
      invariant(this.slotOf(i) === -1, `${name}: page ${i} is both cached and in swap slot ${this.slotOf(i)}`);
      invariant(frameOwner(pa) === PageOwner.APP, `${name}: cached page ${i} at 0x${pa.toString(16)} is not an allocated application frame`);
    }
    invariant(n === this.count, `${name}: page cache counts ${this.count} pages, holds ${n}`);
  }
}
