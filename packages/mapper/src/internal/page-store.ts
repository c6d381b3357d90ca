import { PageOwner, PageUsage, VmError } from '@vmlayers/phys';
import type { PageAllocator, PageOwnerValue, PageUsageValue } from '@vmlayers/phys';

// Shared by every store that has not touched a page yet: a store costs no typed array until its first fault.
const NO_PAGES = new Float64Array(0);

/**
 * The pages of one zero-fill memory, shared by every handle (`ZeroFillBacking`) cut from it. Pages are physical
 * addresses in a `Float64Array` window over page numbers of the offset space (-1 = never touched): no object per
 * page. Without an MMU the store is one physical block instead (`contiguous`).
 */
export class PageStore {
  readonly alloc: PageAllocator;
  readonly pageSize: number;
  readonly owner: PageOwnerValue;
  private readonly usage: PageUsageValue;
  /** Page number of `pages[0]`. */
  private base = 0;
  private pages = NO_PAGES;
  /** Pages holding a frame. */
  resident = 0;
  /** Handles alive on this store. */
  handles = 0;
  /** No-MMU block: address, first offset it serves, bytes. */
  blockPa = -1;
  blockOffset = 0;
  blockBytes = 0;

  constructor(alloc: PageAllocator, owner: PageOwnerValue) {
    this.alloc = alloc;
    this.pageSize = alloc.pageSize;
    this.owner = owner;
    this.usage = owner === PageOwner.KERNEL ? PageUsage.HEAP : PageUsage.NONE;
  }

  /** The frame of page number `pn`, or -1. */
  frameOf(pn: number): number {
    const i = pn - this.base;
    return i >= 0 && i < this.pages.length ? this.pages[i] : -1;
  }

  /** The frame of page number `pn`, allocated (zeroed) on first touch; -1 when none can be had. */
  touch(pn: number): number {
    const i = this.coverIndex(pn);
    if (this.pages[i] >= 0) return this.pages[i];
    const pa = this.alloc.allocPa(this.pageSize, { owner: this.owner, usage: this.usage });
    if (pa < 0) return -1;
    this.pages[i] = pa;
    this.resident++;
    return pa;
  }

  /** Frees the frames of page numbers `[from, to)`. */
  drop(from: number, to: number): void {
    const lo = Math.max(from - this.base, 0);
    const hi = Math.min(to - this.base, this.pages.length);
    for (let i = lo; i < hi; i++) {
      const pa = this.pages[i];
      if (pa >= 0) {
        this.alloc.freePa(pa);
        this.pages[i] = -1;
        this.resident--;
      }
    }
  }

  /** Frees everything. */
  dropAll(): void {
    this.drop(this.base, this.base + this.pages.length);
    if (this.blockPa >= 0) {
      if (this.blockBytes <= this.pageSize) this.alloc.freePa(this.blockPa);
      else this.alloc.freeExact(this.blockPa, this.blockBytes);
      this.blockPa = -1;
      this.blockBytes = 0;
    }
  }

  /** One block for `[offset, offset+size)`: the existing one if it serves the range, else a new one; or -1. */
  block(offset: number, size: number): number {
    if (this.blockPa >= 0) {
      const ok = offset >= this.blockOffset && offset + size <= this.blockOffset + this.blockBytes;
      return ok ? this.blockPa + (offset - this.blockOffset) : -1;
    }
    if (this.resident > 0) return -1;
    // Exactly the pages of the range (allocExact), as the original's no-MMU map takes an exact range.
    const opts = { owner: this.owner, usage: this.usage };
    const pa = size <= this.pageSize ? this.alloc.allocPa(size, opts) : this.alloc.allocExact(size, opts);
    if (pa < 0) return -1;
    this.blockPa = pa;
    this.blockOffset = offset;
    this.blockBytes = size;
    return pa;
  }

  /**
   * An eager copy of the pages in page numbers `[from, to)` (or of the block, when the store is one) into a new
   * store. Throws `ENOMEM` with nothing kept.
   */
  copyRange(from: number, to: number): PageStore {
    const child = new PageStore(this.alloc, this.owner);
    const mem = this.alloc.mem;
    try {
      if (this.blockPa >= 0) {
        const pa = child.block(this.blockOffset, this.blockBytes);
        if (pa < 0) throw new VmError('ENOMEM', `no block of ${this.blockBytes} bytes for the fork copy`);
        mem.copy(pa, this.blockPa, this.blockBytes);
      }
      const lo = Math.max(from - this.base, 0);
      const hi = Math.min(to - this.base, this.pages.length);
      for (let i = lo; i < hi; i++) {
        const src = this.pages[i];
        if (src < 0) continue;
        const dst = child.touch(this.base + i);
        if (dst < 0) throw new VmError('ENOMEM', `no frame for the fork copy of page ${this.base + i}`);
        mem.copy(dst, src, this.pageSize);
      }
    } catch (e) {
      child.dropAll();
      throw e;
    }
    return child;
  }

  /**
   * Takes every page of `other` (same allocator and owner, no block, no page number held by both): `other` is
   * left empty. Grows this store's window (host memory only): cannot fail.
   */
  adopt(other: PageStore): void {
    for (const [pn, pa] of other.residentPages()) {
      const i = this.coverIndex(pn);
      this.pages[i] = pa;
      this.resident++;
    }
    other.pages = NO_PAGES;
    other.base = 0;
    other.resident = 0;
  }

  /** Resident pages as [page number, frame] pairs, for checks and tests. */
  *residentPages(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.pages.length; i++) if (this.pages[i] >= 0) yield [this.base + i, this.pages[i]];
  }

  // The window index of page number pn, widening the window first when needed.
  private coverIndex(pn: number): number {
    if (pn < this.base || pn >= this.base + this.pages.length) this.cover(pn);
    return pn - this.base;
  }

  // Widens the window to hold page number pn, with room to grow in the same direction.
  private cover(pn: number): void {
    const len = this.pages.length;
    if (len === 0) {
      this.pages = new Float64Array(8).fill(-1);
      this.base = pn;
      return;
    }
    const lo = Math.min(this.base, pn);
    const hi = Math.max(this.base + len, pn + 1);
    const span = hi - lo;
    const size = Math.max(span, len * 2);
    const newBase = pn < this.base ? Math.max(0, hi - size) : lo;
    const next = new Float64Array(size).fill(-1);
    next.set(this.pages, this.base - newBase);
    this.pages = next;
    this.base = newBase;
  }
}
