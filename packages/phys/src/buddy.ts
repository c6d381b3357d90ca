import { FaultInjector } from './fault-injector.js';

// Positions of the sites in FAULT_SITES.
const SITE_FRAME = 0;
const SITE_PTABLE = 1;
import { PageOwner, PageUsage } from './constants.js';
import type { PageOwnerValue, PageUsageValue } from './constants.js';
import { VmError } from './errors.js';
import {
  FRAME_FREE,
  FRAME_WORDS,
  FrameTable,
  type FrameBank,
  OWNER_MASK,
  OWNER_SHIFT,
  TAIL,
  USAGE_MASK,
  USAGE_SHIFT,
  W_INFO,
  W_NEXT,
  W_PREV,
} from './frame-table.js';
import { checkAligned, checkSize, hex, log2Ceil, log2Floor } from './validate.js';
import { invariant } from './invariant.js';
import { PAGE_MARKERS } from './page-map.js';
import type { PageMapRun } from './page-map.js';
import { CHUNK_SIZE } from './physical-memory.js';
import type { PhysicalMemory } from './physical-memory.js';

/** A block of frames handed out by {@link PageAllocator.alloc}: `2^order` pages from `pa`. A value, not a handle. */
export interface Frame {
  readonly pa: number;
  readonly order: number;
}

/** What {@link PageAllocator.get} reports of the block containing an address. */
export interface FrameInfo {
  /** Address of the block's head frame. */
  pa: number;
  /** The block holds `2^order` pages. */
  order: number;
  owner: PageOwnerValue;
  usage: PageUsageValue;
  free: boolean;
}

export interface AllocOptions {
  /** Default `PageOwner.KERNEL`. */
  owner?: PageOwnerValue;
  /** Default `PageUsage.NONE`. A `PTABLE` allocation counts at fault site `ptable`, anything else at `frame`. */
  usage?: PageUsageValue;
}

/** Byte figures of the allocator, as the original's `vm_pageinfo` plus the kernel/application split. */
export interface PageInfo {
  total: number;
  free: number;
  alloc: number;
  boot: number;
  kernel: number;
  app: number;
}

export interface PageAllocatorOptions {
  /** Bytes per page: a power of two ≥ 512 (4096 on MMU targets, 512 on armv7m). */
  pageSize: number;
}

/**
 * The buddy page allocator of the original `vm/page.c`: one free list per order, split on allocation, buddy merge
 * on free. Buddies are found by physical address and merged only when address-contiguous, so holes between RAM
 * banks are never swallowed into a block (the original's array arithmetic does swallow them). `reserved` board
 * regions become frames owned by `BOOT`; everything else starts free in maximal naturally aligned blocks.
 *
 * Frames handed out read as zeros: a freed block's bytes are dropped from `PhysicalMemory` on free.
 */
export class PageAllocator {
  readonly mem: PhysicalMemory;
  readonly pageSize: number;
  /** The fault-injection hook every layer above allocates through. */
  readonly faults = new FaultInjector();
  /** Largest block order this RAM can hold. */
  readonly maxOrder: number;
  private readonly frames: FrameTable;
  // Pinned frames by index, with their pin counts: rare (physical objects), so a Map beside the typed arrays.
  private readonly pins = new Map<number, number>();
  // The frame slots (FRAME_WORDS words each), the hot data of every call.
  private readonly meta: Int32Array;
  // Free-list heads per order (frame numbers, -1 = empty).
  private readonly heads: Int32Array;
  // Allocated pages by owner (BOOT, KERNEL, APP).
  private readonly owned = new Float64Array(3);
  // Page number of frame 0 when RAM is one bank (the common case: frame ↔ address without a bank search), else -1.
  private readonly pn0: number;

  /**
   * Boots the allocator over `mem`'s board. `options.pageSize` must be a power of two ≥ 512 and every RAM region
   * page-aligned (`EINVAL`); RAM ending above 2^31 pages → `EINVAL`; more than `MAX_FRAMES` frames of RAM
   * (8 GiB of 4 KiB pages) → `ENOMEM`, before any host memory is taken for the frame table.
   */
  constructor(mem: PhysicalMemory, options: PageAllocatorOptions) {
    if (mem === null || typeof mem !== 'object' || mem.board === null || typeof mem.board !== 'object') {
      throw new VmError('EINVAL', `mem must be a PhysicalMemory, got ${hex(mem)}`);
    }
    if (options === null || typeof options !== 'object') {
      throw new VmError('EINVAL', `options must be { pageSize }, got ${hex(options)}`);
    }
    this.mem = mem;
    this.frames = new FrameTable(mem.board, options.pageSize);
    this.meta = this.frames.meta;
    this.pageSize = this.frames.pageSize;
    let largest = 1;
    for (const b of this.frames.banks) largest = Math.max(largest, b.frames);
    this.maxOrder = Math.min(log2Floor(largest), 30);
    this.heads = new Int32Array(this.maxOrder + 1).fill(-1);
    this.pn0 = this.frames.banks.length === 1 ? this.frames.banks[0].pnStart : -1;
    this.boot();
  }

  /**
   * A block of at least `size` bytes (rounded up to a power-of-two number of pages), zeroed, or `null` when no
   * block that large is free or the fault injector says so. Bad `size` (not a positive integer number below 2^53),
   * options that are not an object, or a bad `owner`/`usage` → `EINVAL`, before the fault injector counts anything.
   */
  alloc(size: number, options?: AllocOptions): Frame | null {
    const i = this.take(size, options);
    return i < 0 ? null : { pa: this.frames.paOf(i), order: this.frames.order(i) };
  }

  /**
   * {@link alloc} without the `Frame` value: the block's physical address, or -1. For hot paths that keep
   * addresses in typed arrays (page tables, page caches); free it with {@link freePa}.
   */
  allocPa(size: number, options?: AllocOptions): number {
    const i = this.take(size, options);
    if (i < 0) return -1;
    return this.pn0 >= 0 ? (this.pn0 + i) * this.pageSize : this.frames.paOf(i);
  }

  /**
   * Gives a block back and merges it with its free buddies. `frame` must be exactly what `alloc` returned (or a
   * boot frame from `get`): its head address and order. Double free, a non-head frame, a wrong order or an
   * address outside RAM → `EINVAL`, nothing changed.
   */
  free(frame: Frame): void {
    if (frame === null || typeof frame !== 'object') throw new VmError('EINVAL', `frame must be { pa, order }, got ${hex(frame)}`);
    const { pa, order } = frame;
    // -1 is release()'s "any order": a caller's order must be a real one.
    if (typeof order !== 'number' || order >>> 0 !== order) {
      throw new VmError('EINVAL', `frame.order must be a block order (an integer ≥ 0), got ${hex(order)}`);
    }
    this.release(pa, order);
  }

  /** Frees the block whose head is at `pa`, whatever its order (the rules of {@link free} otherwise). */
  freePa(pa: number): void {
    this.release(pa, -1);
  }

  /**
   * Pins the allocated frames of `[pa, pa + size)` (whole pages): a block holding a pinned frame cannot be freed
   * (`EBUSY`) until every pin is undone with {@link unpin}. For memory that something maps without owning it — a
   * physical memory object over a frame buffer — so that the frames cannot be handed to someone else while mapped.
   * Pins count. Bad arguments, a range outside RAM or holding a free frame → `EINVAL`, nothing pinned.
   */
  pin(pa: number, size: number): void {
    const pages = this.pinRange(pa, size);
    for (const i of pages) {
      invariant(!(this.frames.flags(this.headOf(i, this.frames.paOf(i))) & FRAME_FREE), 'pinRange let a free frame through');
    }
    for (const i of pages) this.pins.set(i, (this.pins.get(i) ?? 0) + 1);
  }

  /** Undoes one {@link pin} of `[pa, pa + size)`. A frame that is not pinned → `EINVAL`, nothing changed. */
  unpin(pa: number, size: number): void {
    const pages = this.pinRange(pa, size);
    for (const i of pages) if (!this.pins.has(i)) throw new VmError('EINVAL', `frame ${hex(this.frames.paOf(i))} is not pinned`);
    for (const i of pages) {
      const n = this.pins.get(i)!;
      if (n === 1) this.pins.delete(i);
      else this.pins.set(i, n - 1);
    }
  }

  /** True when the frame holding `pa` is pinned. */
  pinned(pa: number): boolean {
    if (!Number.isSafeInteger(pa) || pa < 0) return false;
    const i = this.frames.indexOf(pa - (pa % this.pageSize));
    return i >= 0 && this.pins.has(i);
  }

  /** The block (allocated or free) containing `pa`, or undefined when `pa` is not RAM (or not an address at all). */
  get(pa: number): FrameInfo | undefined {
    if (!Number.isSafeInteger(pa) || pa < 0) return undefined;
    const f = this.frames;
    const page = pa - (pa % this.pageSize);
    const i = f.indexOf(page);
    if (i < 0) return undefined;
    const head = this.headOf(i, page);
    const flag = f.flags(head);
    return {
      pa: f.paOf(head),
      order: f.order(head),
      owner: ((flag & OWNER_MASK) >> OWNER_SHIFT) as PageOwnerValue,
      usage: ((flag & USAGE_MASK) >> USAGE_SHIFT) as PageUsageValue,
      free: (flag & FRAME_FREE) !== 0,
    };
  }

  /** Byte figures: total RAM (with reserved), free, allocated, and the allocated split by owner. */
  info(): PageInfo {
    const ps = this.pageSize;
    const total = this.frames.count * ps;
    const boot = this.owned[PageOwner.BOOT] * ps;
    const kernel = this.owned[PageOwner.KERNEL] * ps;
    const app = this.owned[PageOwner.APP] * ps;
    const alloc = boot + kernel + app;
    return { total, free: total - alloc, alloc, boot, kernel, app };
  }

  /** Free blocks per order (index = order), e.g. to compare fragmentation before and after. */
  freeBlocks(): number[] {
    const out: number[] = [];
    for (let k = 0; k <= this.maxOrder; k++) {
      let n = 0;
      for (let i = this.heads[k]; i >= 0; i = this.meta[i * FRAME_WORDS + W_NEXT]) n++;
      out.push(n);
    }
    return out;
  }

  /** Run-length page map in address order, with the original's markers (runs break at holes). */
  pageMap(): PageMapRun[] {
    const f = this.frames;
    const runs: PageMapRun[] = [];
    for (const b of f.banks) {
      let run: PageMapRun | undefined;
      for (let i = b.first; i < b.first + b.frames; i++) {
        const m = marker(f.flags(i));
        if (run && run.marker === m) run.count++;
        else {
          run = { count: 1, marker: m, addr: b.base + (i - b.first) * this.pageSize };
          runs.push(run);
        }
      }
    }
    return runs;
  }

  /**
   * Verifies every invariant of the frame database and free lists; throws on the first broken one. Cost is
   * linear in the number of frames: tests call it after every step, production code never.
   */
  check(): void {
    const f = this.frames;
    const m = this.meta;
    for (const [i, n] of this.pins) {
      invariant(n > 0 && i >= 0 && i < f.count, `frame ${i} has ${n} pins`);
      invariant(!(f.flags(this.headOf(i, f.paOf(i))) & FRAME_FREE), `pinned frame ${hex(f.paOf(i))} is free`);
    }
    const onList = new Uint8Array(f.count);
    for (let k = 0; k <= this.maxOrder; k++) {
      let prev = -1;
      for (let i = this.heads[k], steps = 0; i >= 0; i = m[i * FRAME_WORDS + W_NEXT], steps++) {
        invariant(steps < f.count, `free list ${k} has a cycle`);
        const p = m[i * FRAME_WORDS + W_PREV];
        invariant(p === prev, `free list ${k}: frame ${i} has prev ${p}, expected ${prev}`);
        invariant(f.order(i) === k, `free list ${k} holds frame ${i} of order ${f.order(i)}`);
        invariant(f.flags(i) === FRAME_FREE, `free list ${k} holds frame ${i} with flags ${hex(f.flags(i))}`);
        invariant(onList[i] === 0, `frame ${i} is on the free lists twice`);
        onList[i] = 1;
        prev = i;
      }
    }
    const owned = [0, 0, 0];
    // One pass over the slots, block by block; cold text (messages, addresses) only when something is wrong.
    for (const b of f.banks) {
      let i = b.first;
      const end = b.first + b.frames;
      while (i < end) {
        const info = m[i * FRAME_WORDS + W_INFO];
        const k = info & 0xff;
        const flag = info >>> 8;
        const pn = b.pnStart + (i - b.first);
        if (k === TAIL) invariant(false, `frame ${i} at ${hex(pn * this.pageSize)} is a tail with no head before it`);
        const pages = 2 ** k;
        if (pn % pages !== 0) invariant(false, `block at ${hex(pn * this.pageSize)} of order ${k} is not naturally aligned`);
        if (i + pages > end) invariant(false, `block at ${hex(pn * this.pageSize)} of order ${k} runs past its bank`);
        const tail = TAIL | (flag << 8);
        for (let t = i + 1; t < i + pages; t++) {
          if (m[t * FRAME_WORDS + W_INFO] !== tail) {
            invariant(f.order(t) === TAIL, `frame ${t} inside block ${hex(pn * this.pageSize)} is marked as a head`);
            invariant(false, `frame ${t} inside block ${hex(pn * this.pageSize)} has flags differing from its head`);
          }
        }
        if (flag & FRAME_FREE) {
          invariant(flag === FRAME_FREE, `free block ${hex(pn * this.pageSize)} carries owner/usage bits`);
          invariant(onList[i] === 1, `free block ${hex(pn * this.pageSize)} of order ${k} is on no free list`);
          if (k < this.maxOrder) {
            const buddy = pn ^ pages;
            const inBank = buddy >= b.pnStart && buddy + pages <= b.pnEnd;
            const j = i + (buddy - pn);
            invariant(
              !(inBank && m[j * FRAME_WORDS + W_INFO] === (k | (FRAME_FREE << 8))),
              `free block ${hex(pn * this.pageSize)} and its free buddy ${hex(buddy * this.pageSize)} of order ${k} were not merged`,
            );
          }
        } else {
          invariant(onList[i] === 0, `allocated block ${hex(pn * this.pageSize)} is on a free list`);
          const owner = (flag & OWNER_MASK) >> OWNER_SHIFT;
          invariant(owner <= PageOwner.APP, `block ${hex(pn * this.pageSize)} has unknown owner ${owner}`);
          owned[owner] += pages;
        }
        i += pages;
      }
    }
    for (let o = 0; o < 3; o++) {
      invariant(owned[o] === this.owned[o], `owner ${o} accounts ${this.owned[o]} pages, frames say ${owned[o]}`);
    }
    for (const chunk of this.mem.backedChunks()) this.checkFreeZero(chunk);
  }

  // Freed frames must never show old data: every byte of a free frame that still has host memory is zero.
  private checkFreeZero(chunk: number): void {
    const f = this.frames;
    for (let pa = chunk; pa < chunk + CHUNK_SIZE; pa += this.pageSize) {
      const i = f.indexOf(pa);
      if (i < 0 || (f.flags(i) & FRAME_FREE) === 0) continue;
      for (let off = 0; off < Math.min(this.pageSize, CHUNK_SIZE); off += 4) {
        if (this.mem.read32(pa + off) !== 0) invariant(false, `free frame ${hex(pa)} holds old data`);
      }
    }
  }

  // The frame number of a fresh block for `size` bytes, or -1.
  private take(size: number, options: AllocOptions | undefined): number {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new VmError('EINVAL', `options must be { owner?, usage? }, got ${hex(options)}`);
    }
    const owner = options?.owner ?? PageOwner.KERNEL;
    const usage = options?.usage ?? PageUsage.NONE;
    let k = 0;
    if (size > this.pageSize || !(size > 0) || !Number.isSafeInteger(size)) {
      checkSize('size', size);
      k = log2Ceil(Math.ceil(size / this.pageSize));
    }
    if (owner !== PageOwner.KERNEL || usage !== PageUsage.NONE) checkOwnerUsage(owner, usage);
    if (this.faults.hitIndex(usage === PageUsage.PTABLE ? SITE_PTABLE : SITE_FRAME)) return -1;
    if (k > this.maxOrder) return -1;
    let j = k;
    const heads = this.heads;
    while (heads[j] < 0) if (++j > this.maxOrder) return -1;
    const m = this.meta;
    const i = heads[j];
    // i heads its list: popping it needs no prev link.
    const next = m[i * FRAME_WORDS + W_NEXT];
    heads[j] = next;
    if (next >= 0) m[next * FRAME_WORDS + W_PREV] = -1;
    while (j > k) {
      j--;
      const upper = i + (1 << j);
      m[upper * FRAME_WORDS + W_INFO] = j | (FRAME_FREE << 8);
      this.push(upper, j);
    }
    const flag = (owner << OWNER_SHIFT) | (usage << USAGE_SHIFT);
    m[i * FRAME_WORDS + W_INFO] = k | (flag << 8);
    if (k > 0) this.setTails(i, 1 << k, flag);
    this.owned[owner] += 1 << k;
    return i;
  }

  // Frees the allocated block headed at pa (of the given order, unless order is -1) and merges it. `pa` is checked
  // to be a number first: '0', null, [] and false would divide to page 0, and a BigInt would throw a TypeError.
  private release(pa: number, order: number): void {
    if (typeof pa !== 'number') this.badFree(pa, order, -1);
    const f = this.frames;
    const m = this.meta;
    const pn = pa / this.pageSize;
    const bi = this.pn0 >= 0 ? 0 : f.bankOfPn(pn);
    const bank = f.banks[bi];
    const i = bi < 0 || (pn | 0) !== pn || pn < bank.pnStart || pn >= bank.pnEnd ? -1 : bank.first + (pn - bank.pnStart);
    const info = i < 0 ? TAIL : m[i * FRAME_WORDS + W_INFO];
    const k = info & 0xff;
    const flag = info >>> 8;
    if (k === TAIL || flag & FRAME_FREE || (order !== -1 && order !== k)) this.badFree(pa, order, i);
    const pages = 1 << k;
    if (this.pins.size !== 0) this.checkUnpinned(i, pages, pa);
    this.owned[(flag & OWNER_MASK) >> OWNER_SHIFT] -= pages;
    // Nothing to drop while no page holds data (zero() would be a no-op).
    if (this.mem.backedBytes !== 0) this.mem.zero(pa, pages * this.pageSize);
    if (k > 0) this.setTails(i, pages, FRAME_FREE);
    this.merge(i, k, pn | 0, bank);
  }

  // Sets the flags of the tail frames of block i (order bits stay TAIL).
  private setTails(i: number, pages: number, flag: number): void {
    const m = this.meta;
    const info = TAIL | (flag << 8);
    for (let t = i + 1; t < i + pages; t++) m[t * FRAME_WORDS + W_INFO] = info;
  }

  private boot(): void {
    const f = this.frames;
    const m = this.meta;
    const board = this.mem.board;
    for (let i = 0; i < f.count; i++) m[i * FRAME_WORDS + W_INFO] = TAIL;
    for (const r of board.regions) {
      if (r.kind !== 'reserved') continue;
      const first = f.indexOf(r.base);
      const n = r.size / this.pageSize;
      // Each boot frame is its own order-0 block, so a kernel may give boot memory back page by page.
      const info = 0 | (((PageOwner.BOOT << OWNER_SHIFT) | (PageUsage.NONE << USAGE_SHIFT)) << 8);
      for (let i = first; i < first + n; i++) m[i * FRAME_WORDS + W_INFO] = info;
      this.owned[PageOwner.BOOT] += n;
    }
    for (const r of board.regions) {
      if (r.kind !== 'ram') continue;
      let i = f.indexOf(r.base);
      let pn = r.base / this.pageSize;
      const end = pn + r.size / this.pageSize;
      while (pn < end) {
        // Largest block that is naturally aligned at pn and fits in what is left of the region.
        let k = Math.min(this.maxOrder, log2Floor(end - pn));
        while (k > 0 && (pn & ((1 << k) - 1)) !== 0) k--;
        const pages = 1 << k;
        this.setTails(i, pages, FRAME_FREE);
        this.merge(i, k, pn, f.bankOf(i));
        i += pages;
        pn += pages;
      }
    }
  }

  // Merges free block (i, k) at page number pn with free buddies of equal order and puts the result on its list.
  private merge(i: number, k: number, pn: number, bank: FrameBank): void {
    const m = this.meta;
    while (k < this.maxOrder) {
      const pages = 1 << k;
      const buddy = pn ^ pages;
      // A buddy is merged only when it is memory: one that falls in a hole after or before the bank has no frame.
      if (buddy < bank.pnStart || buddy + pages > bank.pnEnd) break;
      const j = i + (buddy - pn);
      if (m[j * FRAME_WORDS + W_INFO] !== (k | (FRAME_FREE << 8))) break;
      this.unlink(j, k);
      if (buddy > pn) m[j * FRAME_WORDS + W_INFO] = TAIL | (FRAME_FREE << 8);
      else {
        m[i * FRAME_WORDS + W_INFO] = TAIL | (FRAME_FREE << 8);
        i = j;
        pn = buddy;
      }
      k++;
    }
    m[i * FRAME_WORDS + W_INFO] = k | (FRAME_FREE << 8);
    this.push(i, k);
  }

  // The frame indices of the pages of [pa, pa + size), every one allocated RAM; EINVAL otherwise.
  private pinRange(pa: number, size: number): number[] {
    checkAligned('pa', pa, this.pageSize);
    checkSize('size', size);
    const end = pa + Math.ceil(size / this.pageSize) * this.pageSize;
    if (!Number.isSafeInteger(end) || (end - pa) / this.pageSize > this.frames.count) {
      throw new VmError('EINVAL', `[${hex(pa)}, +${hex(size)}) is larger than RAM`);
    }
    const out: number[] = [];
    for (let p = pa; p < end; p += this.pageSize) {
      const i = this.frames.indexOf(p);
      if (i < 0) throw new VmError('EINVAL', `pa ${hex(p)} is outside RAM`);
      if (this.frames.flags(this.headOf(i, p)) & FRAME_FREE) throw new VmError('EINVAL', `pa ${hex(p)} is a free frame: only allocated frames are pinned`);
      out.push(i);
    }
    return out;
  }

  // EBUSY when a page of block i (of `pages` pages) is pinned.
  private checkUnpinned(i: number, pages: number, pa: number): void {
    for (let t = i; t < i + pages; t++) {
      if (this.pins.has(t)) throw new VmError('EBUSY', `the block at ${hex(pa)} holds pinned frame ${hex(this.frames.paOf(t))}`);
    }
  }

  // Cold path: says precisely why a free was refused.
  private badFree(pa: number, order: number, i: number): never {
    const f = this.frames;
    if (!Number.isSafeInteger(pa) || pa < 0 || pa % this.pageSize !== 0) {
      throw new VmError('EINVAL', `pa must be a page-aligned address, got ${hex(pa)}`);
    }
    if (i < 0) throw new VmError('EINVAL', `pa ${hex(pa)} is outside RAM`);
    if (f.order(i) === TAIL) throw new VmError('EINVAL', `pa ${hex(pa)} is not the head of a block`);
    if (f.flags(i) & FRAME_FREE) throw new VmError('EINVAL', `pa ${hex(pa)} is already free (double free)`);
    throw new VmError('EINVAL', `order ${hex(order)} does not match the block at ${hex(pa)} (order ${f.order(i)})`);
  }

  // The head of the block containing frame i (at page address pa).
  private headOf(i: number, pa: number): number {
    const f = this.frames;
    if (f.order(i) !== TAIL) return i;
    for (let k = 1; k <= this.maxOrder; k++) {
      const size = this.pageSize * 2 ** k;
      const h = i - (pa % size) / this.pageSize;
      if (f.order(h) === k) return h;
    }
    throw new Error(`frame ${i} has no head`);
  }

  private push(i: number, k: number): void {
    const m = this.meta;
    const h = this.heads[k];
    m[i * FRAME_WORDS + W_NEXT] = h;
    m[i * FRAME_WORDS + W_PREV] = -1;
    if (h >= 0) m[h * FRAME_WORDS + W_PREV] = i;
    this.heads[k] = i;
  }

  private unlink(i: number, k: number): void {
    const m = this.meta;
    const n = m[i * FRAME_WORDS + W_NEXT];
    const p = m[i * FRAME_WORDS + W_PREV];
    if (p >= 0) m[p * FRAME_WORDS + W_NEXT] = n;
    else this.heads[k] = n;
    if (n >= 0) m[n * FRAME_WORDS + W_PREV] = p;
  }
}

function checkOwnerUsage(owner: number, usage: number): void {
  if (owner !== PageOwner.BOOT && owner !== PageOwner.KERNEL && owner !== PageOwner.APP) {
    throw new VmError('EINVAL', `owner must be a PageOwner (0..2), got ${hex(owner)}`);
  }
  if (!Number.isInteger(usage) || usage < PageUsage.NONE || usage > PageUsage.HEAP) {
    throw new VmError('EINVAL', `usage must be a PageUsage (0..6), got ${hex(usage)}`);
  }
}

function marker(flag: number): string {
  if (flag & FRAME_FREE) return PAGE_MARKERS.free;
  const owner = (flag & OWNER_MASK) >> OWNER_SHIFT;
  if (owner === PageOwner.BOOT) return PAGE_MARKERS.boot;
  if (owner === PageOwner.APP) return PAGE_MARKERS.app;
  return PAGE_MARKERS.kernel[(flag & USAGE_MASK) >> USAGE_SHIFT] ?? 'K';
}
