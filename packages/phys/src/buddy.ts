import { FaultInjector } from './fault-injector.js';
import { PageOwner, PageUsage } from './constants.js';
import type { PageOwnerValue, PageUsageValue } from './constants.js';
import { VmError } from './errors.js';
import {
  COUNT_OVERFLOW,
  FLAGS_MASK,
  FRAME_FREE,
  FREE_HEAD,
  TAIL,
  FrameTable,
  type FrameBank,
  ORDER_MASK,
  ORDER_SHIFT,
  OWNER_MASK,
  OWNER_SHIFT,
  PCP_FRAME,
  SECTION_FRAMES,
  SECTION_MASK,
  SECTION_SHIFT,
  S_HEAD,
  S_PCP,
  S_RAM,
  USAGE_MASK,
  USAGE_SHIFT,
} from './frame-table.js';
import { checkAligned, checkSize, hex, log2Ceil, log2Floor } from './validate.js';
import { invariant } from './invariant.js';
import { PAGE_MARKERS } from './page-map.js';
import type { PageMapRun } from './page-map.js';
import { CHUNK_SIZE } from './physical-memory.js';
import type { PhysicalMemory } from './physical-memory.js';

// Positions of the sites in FAULT_SITES.
const SITE_FRAME = 0;
const SITE_PTABLE = 1;

/**
 * Orders with a per-CPU list: 0–4 (blocks of up to 16 pages). Linux keeps lists up to `PAGE_ALLOC_COSTLY_ORDER`
 * (3) and for the pageblock order; order 4 is here because callers mixing orders 0–4 otherwise reach the buddy on a
 * fifth of their operations. Larger blocks go to the buddy every time.
 */
export const PCP_ORDERS = 5;
/**
 * Frames moved between the per-CPU list and the buddy at a time. Linux sizes `pcp->batch` from the zone (about
 * zone pages / 1024 / 4, clamped to 2^n - 1), which gives 3 on a 64 MiB board — too few to amortise a refill;
 * 63 is Linux's value for a zone of 1 GiB and up, and a power of two minus one as Linux keeps it.
 */
export const PCP_BATCH = 63;
/**
 * Frames a per-CPU list holds before a free gives its coldest batch back to the buddy: Linux's 6 × batch. The
 * order-0 list's high rises above this during bursts of frees (up to {@link PCP_HIGH_MAX}).
 */
export const PCP_HIGH = 6 * PCP_BATCH;
/**
 * The most frames the order-0 list may hold once a burst of frees has raised its high (Linux's pcp high
 * auto-tuning): 8 × {@link PCP_HIGH}, and never more than 1/8 of free memory when it is raised.
 */
export const PCP_HIGH_MAX = 8 * PCP_HIGH;
/** Blocks of order k moved at a time (63, 31, 15, 7, 3), and held at most (378, 189, 94, 47, 23): about as many pages. */
const pcpBatch = (k: number) => PCP_BATCH >> k;
const pcpHigh = (k: number) => PCP_HIGH >> k;

/** An allocated order-0 frame's state word without owner/usage bits. */
const ALLOC_HEAD = S_RAM | S_HEAD;
/** What the fast free path accepts: an allocated (not free) order-0 head. */
const FAST_MASK = S_RAM | S_HEAD | ORDER_MASK | FRAME_FREE;
const KERNEL_OWNER = PageOwner.KERNEL << OWNER_SHIFT;
const KERNEL_FRAME = ALLOC_HEAD | KERNEL_OWNER;

// The hot paths of allocPa and freePa spell these values as literals (see there); they must not drift.
if (
  SECTION_SHIFT !== 15 ||
  SECTION_MASK !== 0x7fff ||
  KERNEL_FRAME !== 0x5002 ||
  FAST_MASK !== 0x5f01 ||
  ALLOC_HEAD !== 0x5000 ||
  OWNER_MASK !== 0xe ||
  KERNEL_OWNER !== 2 ||
  PCP_FRAME !== 0x7001 ||
  PCP_HIGH !== 378 ||
  PCP_BATCH !== 63 ||
  (S_RAM | S_HEAD | FRAME_FREE) !== 0x5001 ||
  OWNER_SHIFT !== 1 ||
  SITE_FRAME !== 0
) {
  throw new Error('phys: a literal on the allocPa/freePa fast path differs from its constant');
}

/** A block of frames handed out by {@link PageAllocator.alloc}: `2^order` pages from `pa`. A value, not a handle. */
export interface Frame {
  /** Physical address of the block's first frame, aligned to the block's size. */
  readonly pa: number;
  /** The block holds `2^order` pages (0 for one page). */
  readonly order: number;
}

/** What {@link PageAllocator.get} reports of the block containing an address. */
export interface FrameInfo {
  /** Address of the block's head frame. */
  pa: number;
  /** The block holds `2^order` pages. */
  order: number;
  /** Who holds it (`PageOwner`: `BOOT`, `KERNEL` or `APP`); meaningless when `free`. */
  owner: PageOwnerValue;
  /** What the kernel uses it for (`PageUsage`, e.g. `PTABLE` for a page table); `NONE` for other memory. */
  usage: PageUsageValue;
  /** True when the block is free (on a free list, a per-CPU list, or in a section never touched). */
  free: boolean;
}

/** Who an allocation is for (`PageAllocator.alloc`, `allocPa`): the owner and usage recorded in the frame's state. */
export interface AllocOptions {
  /** Default `PageOwner.KERNEL`. */
  owner?: PageOwnerValue;
  /** Default `PageUsage.NONE`. A `PTABLE` allocation counts at fault site `ptable`, anything else at `frame`. */
  usage?: PageUsageValue;
}

/** Byte figures of the allocator, as the original's `vm_pageinfo` plus the kernel/application split. */
export interface PageInfo {
  /** Bytes of RAM, reserved regions included. */
  total: number;
  /** Bytes free (per-CPU lists and never-touched sections included); `free + alloc = total`. */
  free: number;
  /** Bytes allocated: `boot + kernel + app`. */
  alloc: number;
  /** Bytes the board reserved before boot (firmware, the kernel image), owned by `BOOT`. */
  boot: number;
  /** Bytes allocated to the kernel (page tables, kernel heap, zero page). */
  kernel: number;
  /** Bytes allocated to applications (process pages, object pages). */
  app: number;
}

/**
 * Free-page watermarks of {@link PageAllocator.setWatermarks}, in pages: `0 ≤ min ≤ low ≤ high ≤` RAM pages. All 0
 * (the default) changes nothing.
 */
export interface Watermarks {
  /** Below this many free pages, `APP` allocations are refused: the rest is the kernel's reserve. */
  min: number;
  /** An allocation that leaves fewer free pages than this calls `onLowMemory`. */
  low: number;
  /** Where a background reclaimer woken by `onLowMemory` stops: phys itself does not read it. */
  high: number;
}

/** Options of `new PageAllocator(mem, options)`. */
export interface PageAllocatorOptions {
  /** Bytes per page: a power of two ≥ 512 (4096 on MMU targets, 512 on armv7m). */
  pageSize: number;
  /**
   * Where {@link PageAllocator.allocExact} places a run. `'buddy'` (default): in a free block of the next power of
   * two when there is one (aligned, its tail given back), else first fit. `'first-fit'`: always the lowest run of
   * free frames long enough, as the original's no-MMU map places every mapping (`_map_find`), so runs pack from
   * the bottom of RAM instead of leaving each power of two's tail to smaller requests; what a board without an MMU
   * wants, where every mapping is such a run. O(free blocks) per run.
   */
  exactPlacement?: 'buddy' | 'first-fit';
}

/**
 * The buddy page allocator of the original `vm/page.c`: one free list per order, split on allocation, buddy merge
 * on free. Buddies are found by physical address and merged only when address-contiguous, so holes between RAM
 * banks are never swallowed into a block (the original's array arithmetic does swallow them). `reserved` board
 * regions become frames owned by `BOOT`; everything else starts free in maximal naturally aligned blocks.
 *
 * In front of the buddy sits a per-CPU page list (Linux's pcp lists): a LIFO of free order-0 frames, refilled from
 * and drained to the buddy `PCP_BATCH` frames at a time, so a steady alloc/free of single pages never
 * reaches the free lists. Frames on it are free for every report (`info`, `get`, `pageMap`); `freeBlocks` drains
 * it first, and no allocation is refused before it has been drained whole, so the buddy's merging stays exact.
 *
 * Frame metadata is allocated per section of 2^15 frames when the section is first needed (Linux's SPARSEMEM): a
 * section no one has touched is one free block of the largest order, with no metadata and on no free list.
 *
 * Frames handed out read as zeros: a freed block's bytes are dropped from `PhysicalMemory` on free.
 */
export class PageAllocator {
  /** The RAM whose frames this allocator hands out; freed blocks' bytes are dropped from it. */
  declare readonly mem: PhysicalMemory;
  /** Bytes per page (`PageAllocatorOptions.pageSize`): every block is `2^order` of them. */
  declare readonly pageSize: number;
  /** The fault-injection hook every layer above allocates through. */
  readonly faults = new FaultInjector();
  /** Largest block order this RAM can hold (at most 15, a section). */
  declare readonly maxOrder: number;
  declare private readonly frames: FrameTable;
  declare private readonly firstFitAlways: boolean;
  // Pinned frames by page number, with their pin counts: rare (physical objects), so a Map beside the typed arrays.
  private readonly pins = new Map<number, number>();
  // Frames whose mapping count is above 0.
  private mappedFrames = 0;
  // Exact mapping counts of the frames whose count word is COUNT_OVERFLOW (65535 and up), by page number.
  private readonly countOver = new Map<number, number>();
  // Sections that have LRU words.
  private lruSections = 0;
  // pins.size + mappedFrames + lruSections, as a plain field for freePa's fast path: while it is 0, no frame is
  // pinned or mapped and no LRU word needs clearing, so a free need not look at any of them.
  private slowFrees = 0;
  // Watermarks in pages (setWatermarks), and the low-memory callback.
  private wmMin = 0;
  private wmLow = 0;
  private wmHigh = 0;
  private lowCallback: ((freePages: number) => void) | null = null;
  // True while lowCallback runs (it is never re-entered).
  private inLowMemory = false;
  // The watermark threshold on kernel pages: kernel pages above trip means free pages are below low and there is a
  // callback (trip = RAM pages - boot - app - low); RAM pages (never exceeded) when there is nothing to call. The
  // hot paths do not read it: they count kernel pages as kernelLeft = trip - kernel pages, so the one watermark
  // test is the sign of the counter they update anyway.
  declare private trip: number;
  // The frame table's per-section state words, links, mapping counts and LRU words (the last two empty arrays
  // until a frame of the section uses them), and the section number of entry 0.
  declare private readonly st: Uint16Array[];
  declare private readonly ln: Int32Array[];
  declare private readonly mc: Uint16Array[];
  declare private readonly lw: Int32Array[];
  declare private readonly secBase: number;
  // Free-list heads per order (page numbers, -1 = empty).
  declare private readonly heads: Int32Array;
  // The per-CPU list of order-0 frames: page numbers, the hot end at pcpCount - 1.
  private readonly pcp = new Int32Array(PCP_HIGH_MAX + 1);
  // The order-0 list's current high: PCP_HIGH, raised a batch at a time by bursts of frees (up to PCP_HIGH_MAX
  // and 1/8 of free memory), lowered a batch by each refill, back to PCP_HIGH when the lists are drained whole.
  private pcpHigh0 = PCP_HIGH;
  private pcpCount = 0;
  // The per-CPU lists of orders 1 to PCP_ORDERS - 1 (entry 0 unused), and their lengths.
  private readonly pcpHi: Int32Array[] = Array.from({ length: PCP_ORDERS }, (_, k) => new Int32Array(k === 0 ? 0 : pcpHigh(k) + 1));
  private readonly pcpHiCount = new Int32Array(PCP_ORDERS);
  // The largest request the per-CPU lists serve, in bytes (16 pages, or less on a board whose blocks are smaller).
  declare private readonly pcpMaxSize: number;
  declare private readonly pageShift: number;
  // 1 / pageSize: a power of two, so multiplying by it divides exactly.
  declare private readonly perPage: number;
  // Allocated pages by owner (BOOT, KERNEL, APP).
  private bootPages = 0;
  // trip - kernel pages (see trip); kernel pages are the kernelPages accessor.
  private kernelLeft = 0;
  private appPages = 0;

  /**
   * Boots the allocator over `mem`'s board. `options.pageSize` must be a power of two ≥ 512 and every RAM region
   * page-aligned (`EINVAL`); RAM ending above 2^31 pages → `EINVAL`. Boot costs the same for any RAM size: only
   * the sections holding reserved memory or a bank's ragged end get metadata.
   */
  constructor(mem: PhysicalMemory, options: PageAllocatorOptions) {
    if (mem === null || typeof mem !== 'object' || mem.board === null || typeof mem.board !== 'object') {
      throw new VmError('EINVAL', `mem must be a PhysicalMemory, got ${hex(mem)}`);
    }
    if (options === null || typeof options !== 'object') {
      throw new VmError('EINVAL', `options must be { pageSize }, got ${hex(options)}`);
    }
    if (options.exactPlacement !== undefined && options.exactPlacement !== 'buddy' && options.exactPlacement !== 'first-fit') {
      throw new VmError('EINVAL', `options.exactPlacement must be 'buddy' or 'first-fit', got ${hex(options.exactPlacement)}`);
    }
    this.mem = mem;
    this.firstFitAlways = options.exactPlacement === 'first-fit';
    this.frames = new FrameTable(mem.board, options.pageSize);
    this.st = this.frames.state;
    this.ln = this.frames.links;
    this.mc = this.frames.counts;
    this.lw = this.frames.lru;
    this.trip = smi(this.frames.count);
    this.kernelLeft = this.trip;
    this.secBase = this.frames.secBase;
    this.pageSize = this.frames.pageSize;
    let largest = 1;
    for (const b of this.frames.banks) largest = Math.max(largest, b.frames);
    this.maxOrder = Math.min(log2Floor(largest), SECTION_SHIFT);
    this.heads = new Int32Array(this.maxOrder + 1).fill(-1);
    this.pageShift = this.frames.pageShift;
    this.perPage = 1 / this.pageSize;
    this.pcpMaxSize = this.pageSize * 2 ** Math.min(PCP_ORDERS - 1, this.maxOrder);
    this.boot();
  }

  /**
   * A block of at least `size` bytes (rounded up to a power-of-two number of pages), zeroed, or `null` when no
   * block that large is free or the fault injector says so (or, for `PageOwner.APP`, when it would leave fewer free
   * pages than the `min` watermark: {@link setWatermarks}). Bad `size` (not a positive integer number below 2^53),
   * options that are not an object, or a bad `owner`/`usage` → `EINVAL`, before the fault injector counts anything.
   */
  alloc(size: number, options?: AllocOptions): Frame | null {
    const pn = this.take(size, options, 0);
    if (pn < 0) return null;
    const s = this.st[(pn >>> SECTION_SHIFT) - this.secBase][pn & SECTION_MASK];
    if (this.kernelLeft < 0) this.lowMemory(pn, 0);
    return { pa: pn * this.pageSize, order: (s & ORDER_MASK) >> ORDER_SHIFT };
  }

  /**
   * {@link alloc} without the `Frame` value: the block's physical address, or -1. For hot paths that keep
   * addresses in typed arrays (page tables, page caches); free it with {@link freePa}.
   */
  allocPa(size: number, options?: AllocOptions): number {
    // Up to 16 kernel pages with no options: straight off a per-CPU list.
    if (options === undefined && typeof size === 'number' && size > 0 && (size | 0) === size) {
      if (size <= this.pageSize) {
        // Literals, not the module constants, on the two hot paths: V8 loads a module-scope `const` from its
        // context and tests its tag on every use (SITE_FRAME 0, SECTION_SHIFT 15, SECTION_MASK 0x7fff,
        // KERNEL_FRAME 0x5002; checked against the constants when this module loads).
        if (this.faults.hitIndex(0)) return -1;
        if (this.pcpCount === 0 && !this.refill(0)) return -1;
        const pn = this.pcp[--this.pcpCount];
        this.st[(pn >>> 15) - this.secBase][pn & 0x7fff] = 0x5002;
        // Kernel pages + 1, and the one watermark test: the counter's sign, never negative while no low watermark
        // and callback are set.
        if (--this.kernelLeft < 0) return this.lowMemory(pn, 0);
        return pn * this.pageSize;
      }
      if (size <= this.pcpMaxSize) return this.allocPcp(size);
    }
    return this.allocSlow(size, options);
  }

  // allocPa's path for everything but up to 16 kernel pages with no options: a method of its own, so that allocPa
  // stays small enough for V8 to inline it with freePa into a caller's loop.
  private allocSlow(size: number, options: AllocOptions | undefined): number {
    const pn = this.take(size, options, 0);
    if (pn < 0) return -1;
    if (this.kernelLeft < 0) return this.lowMemory(pn, 0);
    return pn * this.pageSize;
  }

  /**
   * Exactly `ceil(size / pageSize)` physically contiguous pages, zeroed, as Linux's `alloc_pages_exact`: a block of
   * the next power of two, whose pages past the run go straight back to the free lists. The run is kept as
   * naturally aligned blocks of decreasing orders (a 5-page run is a 4-page block and a 1-page block), each an
   * ordinary allocated block in the frame table; give it back with {@link freeExact} and the same `size`. When no
   * block of that power of two is free, the lowest run of free frames long enough is taken instead, at any
   * alignment (first fit over adjacent free blocks, as the original's no-MMU map finds an exact range), so a
   * fragmented RAM still serves a run wherever enough free frames lie in a row. The physical address, or -1 (no
   * such run, or the fault injector, counted once as one `frame` allocation). Bad arguments → `EINVAL` as
   * {@link alloc}.
   */
  allocExact(size: number, options?: AllocOptions): number {
    const pa = this.exactRun(size, options);
    if (pa >= 0 && this.kernelLeft < 0) return this.lowMemory(pa / this.pageSize, Math.ceil(size / this.pageSize));
    return pa;
  }

  private exactRun(size: number, options: AllocOptions | undefined): number {
    const ps = this.pageSize;
    if (this.firstFitAlways) {
      checkAllocArgs(size, options);
      if (this.faults.hitIndex(SITE_FRAME)) return -1;
      const n = Math.ceil(size / ps);
      if (this.belowMin(options?.owner ?? PageOwner.KERNEL, n)) return -1;
      return n > 2 ** this.maxOrder ? -1 : this.firstFit(n, options);
    }
    const pages = typeof size === 'number' ? Math.ceil(size / ps) : 0;
    const pn = this.take(size, options, pages);
    if (pn === -2 && pages > 1) return this.firstFit(pages, options);
    if (pn < 0) return -1;
    const st = this.st[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    const s = st[i];
    const k = (s & ORDER_MASK) >> ORDER_SHIFT;
    if (pages === 1 << k) return pn * ps;
    const flag = s & FLAGS_MASK;
    // The kept run as runBlocks cuts it (the set bits of `pages`, largest first: pn is aligned to 2^k), each block
    // in this section.
    for (let off = 0, j = 0; off < pages; off += 1 << j) {
      j = runOrder(pn + off, pages - off);
      st[i + off] = ALLOC_HEAD | (j << ORDER_SHIFT) | flag;
    }
    // The tail: the largest aligned block at each offset, each made an allocated block of its own and freed, so
    // counters, per-CPU lists and merging treat it as any free.
    for (let off = pages, j = 0; off < 1 << k; off += 1 << j) {
      j = 31 - Math.clz32(off & -off);
      st[i + off] = ALLOC_HEAD | (j << ORDER_SHIFT) | flag;
      this.release((pn + off) * ps, j);
    }
    return pn * ps;
  }

  /**
   * Gives back a run from {@link allocExact}: `pa` and the `size` it was allocated with. Anything that is not such a
   * run (a wrong size, a block freed already, a pinned frame) → `EINVAL`/`EBUSY` with nothing freed.
   */
  freeExact(pa: number, size: number): void {
    const ps = this.pageSize;
    if (typeof pa !== 'number' || !Number.isSafeInteger(pa) || pa < 0 || pa % ps !== 0) {
      throw new VmError('EINVAL', `pa must be a page-aligned address, got ${hex(pa)}`);
    }
    checkSize('size', size);
    const pages = Math.ceil(size / ps);
    if (pages > 2 ** this.maxOrder) throw new VmError('EINVAL', `size ${hex(size)} is larger than any run allocExact gives`);
    const pn = pa / ps;
    const blocks: number[] = [];
    for (let off = 0, j = 0; off < pages; off += 1 << j) {
      j = runOrder(pn + off, pages - off);
      blocks.push(pn + off, j);
    }
    // Every block checked before any is freed: a wrong size frees nothing.
    for (let b = 0; b < blocks.length; b += 2) {
      const s = this.stateOf(blocks[b]);
      const order = (s & ORDER_MASK) >> ORDER_SHIFT;
      if (s <= 0 || (s & (S_RAM | S_HEAD | FRAME_FREE)) !== (S_RAM | S_HEAD) || order !== blocks[b + 1]) {
        throw new VmError('EINVAL', `[${hex(pa)}, +${hex(size)}) is not a run from allocExact (block at ${hex(blocks[b] * ps)})`);
      }
      if (this.pins.size !== 0) this.checkUnpinned(blocks[b], 1 << order, blocks[b] * ps);
      if (this.mappedFrames !== 0) this.checkUnmapped(blocks[b], 1 << order, blocks[b] * ps);
    }
    for (let b = 0; b < blocks.length; b += 2) this.release(blocks[b] * ps, blocks[b + 1]);
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
    // No pins, mappings or LRU words and no data to drop: one page straight onto the per-CPU list, a larger block on
    // through freeBlock with its state already read. Anything else, including every bad argument, takes the checked
    // path.
    // Literals as in allocPa: SECTION_SHIFT 15, SECTION_MASK 0x7fff, FAST_MASK 0x5f01, ALLOC_HEAD 0x5000,
    // OWNER_MASK 0xe, KERNEL_OWNER 2, PCP_FRAME 0x7001, PCP_HIGH 378, PCP_BATCH 63, S_RAM | S_HEAD | FRAME_FREE
    // 0x5001.
    if (typeof pa === 'number' && this.slowFrees === 0 && this.mem.backedBytes === 0) {
      // Exact: the page size is a power of two.
      const pn = pa * this.perPage;
      const d = (pn >>> 15) - this.secBase;
      if (pn >>> 0 === pn && d >>> 0 < this.st.length) {
        const st = this.st[d];
        const i = pn & 0x7fff;
        const s = i < st.length ? st[i] : 0;
        if ((s & 0x5f01) === 0x5000) {
          if ((s & 0xe) === 2) this.kernelLeft++;
          else this.count((s & 0xe) >> 1, -1);
          st[i] = 0x7001;
          const n = this.pcpCount;
          this.pcp[n] = pn;
          this.pcpCount = n + 1;
          if (n >= this.pcpHigh0) this.overHigh();
          return;
        }
        if ((s & 0x5001) === 0x5000) {
          this.freeBlock(st, i, pn, s);
          return;
        }
      }
    }
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
    for (const pn of pages) this.pins.set(pn, (this.pins.get(pn) ?? 0) + 1);
    this.slowFrees = this.pins.size + this.mappedFrames + this.lruSections;
  }

  /** Undoes one {@link pin} of `[pa, pa + size)`. A frame that is not pinned → `EINVAL`, nothing changed. */
  unpin(pa: number, size: number): void {
    const pages = this.pinRange(pa, size);
    for (const pn of pages) if (!this.pins.has(pn)) throw new VmError('EINVAL', `frame ${hex(pn * this.pageSize)} is not pinned`);
    for (const pn of pages) {
      const n = this.pins.get(pn)!;
      if (n === 1) this.pins.delete(pn);
      else this.pins.set(pn, n - 1);
    }
    this.slowFrees = this.pins.size + this.mappedFrames + this.lruSections;
  }

  /** True when the frame holding `pa` is pinned. */
  pinned(pa: number): boolean {
    if (!Number.isSafeInteger(pa) || pa < 0) return false;
    return this.pins.has(Math.floor(pa / this.pageSize));
  }

  /**
   * The mapping count of the frame at `pa` (a page-aligned address): how many page-table entries map it, as the
   * mapper reports them with {@link addMapping} and {@link removeMapping}. 0 for a frame never mapped, a free frame
   * or an address outside RAM. Anything that is not a page-aligned address (a fraction, NaN, a string, beyond
   * 2^53) → `EINVAL`.
   */
  mapCount(pa: number): number {
    const pn = this.frameAt(pa);
    if (pn === -2) this.badFrame('mapCount', pa, pn);
    return pn < 0 ? 0 : this.countAt(pn);
  }

  /**
   * One more page-table entry maps the frame at `pa`: any allocated frame, the head or a tail of its block (a
   * block's frames count separately). Returns the new count; counts are exact at any size (above 65535 they are
   * kept in a `Map`). A free frame, an address outside RAM or anything that is not a page-aligned address →
   * `EINVAL`, nothing changed. O(1), no allocation, except the section's counts the first time one of its frames
   * is mapped (2 bytes per frame of the section) and a count's first step above 65535. A block holding a mapped
   * frame cannot be freed (`EBUSY`) until every mapping is removed.
   */
  addMapping(pa: number): number {
    const pn = this.frameAt(pa);
    if (pn < 0) this.badFrame('addMapping', pa, pn);
    const d = (pn >>> SECTION_SHIFT) - this.secBase;
    const i = pn & SECTION_MASK;
    let mc = this.mc[d];
    if (mc.length === 0) mc = this.frames.allocateCounts(d);
    const c = mc[i];
    if (c < COUNT_OVERFLOW - 1) {
      if (c === 0) {
        this.mappedFrames++;
        this.slowFrees++;
      }
      mc[i] = c + 1;
      return c + 1;
    }
    const n = c === COUNT_OVERFLOW ? this.countOver.get(pn)! + 1 : COUNT_OVERFLOW;
    mc[i] = COUNT_OVERFLOW;
    this.countOver.set(pn, n);
    return n;
  }

  /**
   * One page-table entry fewer maps the frame at `pa`. Returns the new count. A frame whose count is 0 (never
   * mapped, free, outside RAM) or anything that is not a page-aligned address → `EINVAL`, nothing changed. O(1).
   */
  removeMapping(pa: number): number {
    const pn = this.frameAt(pa);
    if (pn < 0) this.badFrame('removeMapping', pa, pn);
    const mc = this.mc[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    const c = i < mc.length ? mc[i] : 0;
    if (c === 0) throw new VmError('EINVAL', `removeMapping: frame ${hex(pa)} has no mapping`);
    if (c !== COUNT_OVERFLOW) {
      mc[i] = c - 1;
      if (c === 1) {
        this.mappedFrames--;
        this.slowFrees--;
      }
      return c - 1;
    }
    const n = this.countOver.get(pn)! - 1;
    if (n < COUNT_OVERFLOW) {
      this.countOver.delete(pn);
      mc[i] = n;
    } else this.countOver.set(pn, n);
    return n;
  }

  /**
   * The LRU word of the frame at `pa`: an int32 that a page-replacement policy keeps per frame (a list link, an
   * age), 0 until {@link setLru} sets it and again once the frame is freed, so every frame is allocated with 0.
   * Any frame of RAM, free or allocated (a free frame's is 0); outside RAM or not a page-aligned address →
   * `EINVAL`.
   */
  lru(pa: number): number {
    const pn = this.frameAt(pa);
    if (pn < 0) {
      if (pn === -1 && this.stateOf(pa / this.pageSize) !== 0) return 0;
      this.badFrame('lru', pa, pn);
    }
    const lw = this.lw[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    return i < lw.length ? lw[i] : 0;
  }

  /**
   * Sets the LRU word of the allocated frame at `pa` (any frame of its block) to `value`, an int32. A free frame,
   * an address outside RAM, anything that is not a page-aligned address, or a value that is not an int32 →
   * `EINVAL`, nothing changed. O(1), no allocation except the section's LRU words the first time one of its
   * frames gets a nonzero value (4 bytes per frame of the section). Once a section has LRU words, every `freePa`
   * takes the checked path (which clears the freed frames' words).
   */
  setLru(pa: number, value: number): void {
    const pn = this.frameAt(pa);
    if (pn < 0) this.badFrame('setLru', pa, pn);
    if (typeof value !== 'number' || (value | 0) !== value) {
      throw new VmError('EINVAL', `setLru: value must be an int32, got ${hex(value)}`);
    }
    const d = (pn >>> SECTION_SHIFT) - this.secBase;
    let lw = this.lw[d];
    if (lw.length === 0) {
      if (value === 0) return;
      lw = this.frames.allocateLru(d);
      this.lruSections++;
      this.slowFrees++;
    }
    lw[pn & SECTION_MASK] = value;
  }

  /**
   * Sets the free-page watermarks, in pages: integers with `0 ≤ min ≤ low ≤ high ≤` RAM pages (reserved
   * included), else `EINVAL` and nothing changed. Below `min` free pages, `APP` allocations are refused (`null`,
   * -1, as exhaustion, after the fault injector has counted them) while `KERNEL` and `BOOT` ones may use the rest:
   * the reserve a reclaimer needs for its own memory. An allocation that takes free pages below `low` calls
   * {@link onLowMemory}. `high` is for the reclaimer: where background reclaim stops. All 0 (the default): no
   * effect at all.
   */
  setWatermarks(w: Watermarks): void {
    if (w === null || typeof w !== 'object') throw new VmError('EINVAL', `watermarks must be { min, low, high }, got ${hex(w)}`);
    const { min, low, high } = w;
    for (const [name, v] of [['min', min], ['low', low], ['high', high]] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw new VmError('EINVAL', `watermarks.${name} must be an integer number of pages ≥ 0, got ${hex(v)}`);
      }
    }
    if (!(min <= low && low <= high && high <= this.frames.count)) {
      throw new VmError('EINVAL', `watermarks must satisfy 0 ≤ min ≤ low ≤ high ≤ ${this.frames.count} pages, got ${min}, ${low}, ${high}`);
    }
    this.wmMin = min;
    this.wmLow = low;
    this.wmHigh = high;
    this.retrip();
  }

  /** The watermarks in pages (a copy); all 0 until {@link setWatermarks}. */
  watermarks(): Watermarks {
    return { min: this.wmMin, low: this.wmLow, high: this.wmHigh };
  }

  /** Free pages, per-CPU lists and untouched sections included (`info().free / pageSize`). O(1). */
  freePages(): number {
    return this.frames.count - this.bootPages - this.kernelPages - this.appPages;
  }

  /**
   * Called with the free page count after an allocation takes free pages from `low` or above to below `low`
   * ({@link setWatermarks}): once per crossing, synchronously, before the allocation returns, and never
   * re-entered (allocations made by the callback do not call it). Where a kernel wakes its background reclaimer
   * (kswapd), which frees pages until `high`. When it throws, the allocation is given back and the error goes to
   * the allocation's caller. `null` (the default) or a function; anything else → `EINVAL`.
   */
  get onLowMemory(): ((freePages: number) => void) | null {
    return this.lowCallback;
  }

  /** Sets the low-memory callback (see the getter): a function or `null`; anything else → `EINVAL`. */
  set onLowMemory(f: ((freePages: number) => void) | null) {
    if (f !== null && typeof f !== 'function') throw new VmError('EINVAL', `onLowMemory must be a function or null, got ${hex(f)}`);
    this.lowCallback = f;
    this.retrip();
  }

  /**
   * The block (allocated or free) containing `pa`, or undefined when `pa` is not RAM (or not an address at all).
   * A frame on the per-CPU list is a free block of order 0.
   */
  get(pa: number): FrameInfo | undefined {
    if (!Number.isSafeInteger(pa) || pa < 0) return undefined;
    const pn = Math.floor(pa / this.pageSize);
    const s = this.stateOf(pn);
    if (s === 0) return undefined;
    if (s < 0) return { pa: (pn - (pn & SECTION_MASK)) * this.pageSize, order: SECTION_SHIFT, owner: PageOwner.BOOT, usage: PageUsage.NONE, free: true };
    const head = this.headOf(pn);
    const hs = this.stateOf(head);
    return {
      pa: head * this.pageSize,
      order: (hs & ORDER_MASK) >> ORDER_SHIFT,
      owner: ((hs & OWNER_MASK) >> OWNER_SHIFT) as PageOwnerValue,
      usage: ((hs & USAGE_MASK) >> USAGE_SHIFT) as PageUsageValue,
      free: (hs & FRAME_FREE) !== 0,
    };
  }

  /** Byte figures: total RAM (with reserved), free, allocated, and the allocated split by owner. */
  info(): PageInfo {
    const ps = this.pageSize;
    const total = this.frames.count * ps;
    const boot = this.bootPages * ps;
    const kernel = this.kernelPages * ps;
    const app = this.appPages * ps;
    const alloc = boot + kernel + app;
    return { total, free: total - alloc, alloc, boot, kernel, app };
  }

  /**
   * Free blocks per order (index = order), e.g. to compare fragmentation before and after. Drains the per-CPU
   * list first, so the figures are the buddy's own: what they were before the list existed.
   */
  freeBlocks(): number[] {
    this.drainAll();
    const out: number[] = [];
    for (let k = 0; k <= this.maxOrder; k++) {
      let n = 0;
      for (let pn = this.heads[k]; pn >= 0; pn = this.link(pn)) n++;
      out.push(n);
    }
    if (this.frames.untouched > 0) out[this.maxOrder] += this.frames.untouched;
    return out;
  }

  /** Run-length page map in address order, with the original's markers (runs break at holes). */
  pageMap(): PageMapRun[] {
    const f = this.frames;
    const runs: PageMapRun[] = [];
    for (const b of f.banks) {
      let run: PageMapRun | undefined;
      for (let pn = b.pnStart; pn < b.pnEnd; ) {
        // Block by block (a bank starts with a block's head); an untouched section is one free block.
        const s = this.stateOf(pn);
        const m = s < 0 ? PAGE_MARKERS.free : marker(s & FLAGS_MASK);
        const n = s < 0 ? SECTION_FRAMES : 2 ** ((s & ORDER_MASK) >> ORDER_SHIFT);
        if (run && run.marker === m) run.count += n;
        else {
          run = { count: n, marker: m, addr: pn * this.pageSize };
          runs.push(run);
        }
        pn += n;
      }
    }
    return runs;
  }

  /**
   * Verifies every invariant of the frame database, the free lists, the per-CPU list and the sections; throws on
   * the first broken one. Cost is linear in the number of touched frames: tests call it after every step,
   * production code never.
   */
  check(): void {
    const f = this.frames;
    const ps = this.pageSize;
    for (const [pn, n] of this.pins) {
      invariant(n > 0, `frame ${hex(pn * ps)} has ${n} pins`);
      const s = this.stateOf(pn);
      invariant(s > 0 && !(this.stateOf(this.headOf(pn)) & FRAME_FREE), `pinned frame ${hex(pn * ps)} is free or no frame`);
    }
    // Sections: live ones have both arrays; every other section with RAM is untouched, none below the cursor.
    let untouched = 0;
    const lastSec = Math.floor((f.banks[f.banks.length - 1].pnEnd - 1) / SECTION_FRAMES);
    for (let d = 0; d <= lastSec - f.secBase; d++) {
      const start = (f.secBase + d) * SECTION_FRAMES;
      if (d < this.st.length) {
        const n = this.st[d].length;
        invariant(this.ln[d].length === n && n % 2 === 0, `section ${hex(start * ps)} has ${n} state words and ${this.ln[d].length} links`);
        const c = this.mc[d].length;
        const l = this.lw[d].length;
        invariant((c === 0 || c === n) && (l === 0 || l === n), `section ${hex(start * ps)} has ${n} state words, ${c} mapping counts, ${l} LRU words`);
      }
      if (f.isLive(d)) continue;
      if (f.isUntouched(d)) {
        untouched++;
        invariant(d >= f.cursor, `untouched section ${hex(start * ps)} below the cursor`);
      } else {
        invariant(
          !f.banks.some((b) => b.pnStart < start + SECTION_FRAMES && b.pnEnd > start),
          `section ${hex(start * ps)} holds RAM but neither metadata nor a whole free block`,
        );
      }
    }
    invariant(untouched === f.untouched, `${f.untouched} sections counted untouched, ${untouched} are`);
    invariant(this.mc.length === this.st.length && this.lw.length === this.st.length, 'the section directories differ in length');
    // Reclaim's hooks: the mapped-frame and LRU-section counters, overflowed counts, and freePa's fast-path test.
    let mapped = 0;
    let overflowed = 0;
    let lruSections = 0;
    for (let d = 0; d < this.st.length; d++) {
      const mc = this.mc[d];
      for (let i = 0; i < mc.length; i++) {
        if (mc[i] === 0) continue;
        mapped++;
        if (mc[i] === COUNT_OVERFLOW) {
          overflowed++;
          const n = this.countOver.get((f.secBase + d) * SECTION_FRAMES + i);
          invariant(n !== undefined && n >= COUNT_OVERFLOW, `frame ${hex(((f.secBase + d) * SECTION_FRAMES + i) * ps)} overflowed its count word to ${n}`);
        }
      }
      if (this.lw[d].length !== 0) lruSections++;
    }
    invariant(mapped === this.mappedFrames, `${this.mappedFrames} frames counted mapped, ${mapped} are`);
    invariant(overflowed === this.countOver.size, `${this.countOver.size} overflowed counts kept, ${overflowed} count words overflowed`);
    invariant(lruSections === this.lruSections, `${this.lruSections} sections counted with LRU words, ${lruSections} have them`);
    invariant(
      this.slowFrees === this.pins.size + this.mappedFrames + this.lruSections,
      `freePa's slow-path counter is ${this.slowFrees}, not ${this.pins.size} + ${this.mappedFrames} + ${this.lruSections}`,
    );
    // Watermarks.
    const { wmMin: min, wmLow: low, wmHigh: high } = this;
    invariant(0 <= min && min <= low && low <= high && high <= f.count, `watermarks ${min}, ${low}, ${high} are out of order`);
    const trip = smi(this.lowCallback !== null && low > 0 ? f.count - this.bootPages - this.appPages - low : f.count);
    invariant(this.trip === trip, `the low-watermark threshold is ${this.trip}, expected ${trip}`);
    // Free pages found by walking the free lists, the per-CPU lists and the untouched sections.
    let walkedFree = f.untouched * SECTION_FRAMES;
    // Marks of frames on a list (1) or on the per-CPU list (2), per live section.
    const marks = new Map<number, Uint8Array>();
    const mark = (pn: number, v: number, what: string) => {
      const d = (pn >>> SECTION_SHIFT) - f.secBase;
      invariant(pn >= 0 && f.isLive(d), `${what} holds page ${pn}, in no live section`);
      let m = marks.get(d);
      if (!m) marks.set(d, (m = new Uint8Array(this.st[d].length)));
      const i = pn & SECTION_MASK;
      invariant(i < m.length, `${what} holds page ${pn}, past its section's frames`);
      invariant(m[i] === 0, `frame ${hex(pn * ps)} is on the free lists twice`);
      m[i] = v;
    };
    for (let k = 0; k <= this.maxOrder; k++) {
      let prev = -1;
      for (let pn = this.heads[k], steps = 0; pn >= 0; pn = this.link(pn), steps++) {
        invariant(steps <= f.count, `free list ${k} has a cycle`);
        mark(pn, 1, `free list ${k}`);
        const p = this.link(pn ^ 1);
        invariant(p === prev, `free list ${k}: frame ${hex(pn * ps)} has prev ${p}, expected ${prev}`);
        const s = this.stateOf(pn);
        invariant(s === (FREE_HEAD | (k << ORDER_SHIFT)), `free list ${k} holds frame ${hex(pn * ps)} with state ${hex(s)}`);
        walkedFree += 2 ** k;
        prev = pn;
      }
    }
    invariant(
      this.pcpHigh0 >= PCP_HIGH && this.pcpHigh0 <= PCP_HIGH_MAX && (this.pcpHigh0 - PCP_HIGH) % PCP_BATCH === 0,
      `the order-0 per-CPU list's high is ${this.pcpHigh0}`,
    );
    for (let k = 0; k < PCP_ORDERS; k++) {
      const list = k === 0 ? this.pcp : this.pcpHi[k];
      const n = k === 0 ? this.pcpCount : this.pcpHiCount[k];
      const high = k === 0 ? this.pcpHigh0 : pcpHigh(k);
      invariant(n >= 0 && n <= high, `the per-CPU list of order ${k} holds ${n} blocks (high ${high})`);
      for (let j = 0; j < n; j++) {
        const pn = list[j];
        mark(pn, 2, `the per-CPU list of order ${k}`);
        walkedFree += 2 ** k;
        const s = this.stateOf(pn);
        if (s !== (PCP_FRAME | (k << ORDER_SHIFT))) invariant(false, `per-CPU block ${hex(pn * ps)} of order ${k} has state ${hex(s)}`);
      }
    }
    const pcpBlocks = new Array<number>(PCP_ORDERS).fill(0);
    const owned = [0, 0, 0];
    // One pass over the live sections' frames, block by block; cold text only when something is wrong.
    for (let d = 0; d < this.st.length; d++) {
      if (!f.isLive(d)) continue;
      const st = this.st[d];
      const m = marks.get(d);
      const start = (f.secBase + d) * SECTION_FRAMES;
      const mc = this.mc[d];
      const lw = this.lw[d];
      let i = 0;
      for (const b of f.banks) {
        const lo = Math.max(b.pnStart, start) - start;
        const hi = Math.min(b.pnEnd, start + SECTION_FRAMES) - start;
        if (lo >= hi) continue;
        for (let h = i; h < lo; h++) if (st[h] !== 0) invariant(false, `hole frame ${hex((start + h) * ps)} has state ${hex(st[h])}`);
        i = lo;
        while (i < hi) {
          const s = st[i];
          const pn = start + i;
          if (!(s & S_RAM) || s & 0x8000) invariant(false, `frame ${hex(pn * ps)} has state ${hex(s)}`);
          if (!(s & S_HEAD)) invariant(false, `frame ${hex(pn * ps)} is a tail with no head before it`);
          const k = (s & ORDER_MASK) >> ORDER_SHIFT;
          const pages = 2 ** k;
          const flag = s & FLAGS_MASK;
          if (k > this.maxOrder || pn % pages !== 0) invariant(false, `block at ${hex(pn * ps)} of order ${k} is not naturally aligned`);
          if (i + pages > hi) invariant(false, `block at ${hex(pn * ps)} of order ${k} runs past its bank`);
          for (let t = i + 1; t < i + pages; t++) {
            if (st[t] !== TAIL) {
              invariant(!(st[t] & S_HEAD), `frame ${hex((start + t) * ps)} inside block ${hex(pn * ps)} is marked as a head`);
              invariant(false, `frame ${hex((start + t) * ps)} inside block ${hex(pn * ps)} has flags differing from its head`);
            }
          }
          const listed = m ? m[i] : 0;
          if (flag & FRAME_FREE) {
            // A free frame is mapped by no one and has LRU word 0.
            for (let t = i; t < i + pages; t++) {
              if (t < mc.length && mc[t] !== 0) invariant(false, `free frame ${hex((start + t) * ps)} has mapping count ${this.countAt(start + t)}`);
              if (t < lw.length && lw[t] !== 0) invariant(false, `free frame ${hex((start + t) * ps)} has LRU word ${lw[t]}`);
            }
          }
          if (s & S_PCP) {
            if (k >= PCP_ORDERS || s !== (PCP_FRAME | (k << ORDER_SHIFT))) invariant(false, `per-CPU block ${hex(pn * ps)} has state ${hex(s)}`);
            if (listed !== 2) invariant(false, `per-CPU block ${hex(pn * ps)} is not on the per-CPU list`);
            pcpBlocks[k]++;
          } else if (flag & FRAME_FREE) {
            if (flag !== FRAME_FREE) invariant(false, `free block ${hex(pn * ps)} carries owner/usage bits`);
            if (listed !== 1) invariant(false, `free block ${hex(pn * ps)} of order ${k} is on no free list`);
            if (k < this.maxOrder) {
              const buddy = i ^ pages;
              invariant(
                !(buddy < st.length && st[buddy] === (FREE_HEAD | (k << ORDER_SHIFT))),
                `free block ${hex(pn * ps)} and its free buddy ${hex((start + buddy) * ps)} of order ${k} were not merged`,
              );
            }
          } else {
            if (listed !== 0) invariant(false, `allocated block ${hex(pn * ps)} is on a free list`);
            const owner = (flag & OWNER_MASK) >> OWNER_SHIFT;
            if (owner > PageOwner.APP) invariant(false, `block ${hex(pn * ps)} has unknown owner ${owner}`);
            owned[owner] += pages;
          }
          i += pages;
        }
      }
      for (let h = i; h < st.length; h++) if (st[h] !== 0) invariant(false, `hole frame ${hex((start + h) * ps)} has state ${hex(st[h])}`);
    }
    for (let k = 0; k < PCP_ORDERS; k++) {
      const n = k === 0 ? this.pcpCount : this.pcpHiCount[k];
      invariant(pcpBlocks[k] === n, `${pcpBlocks[k]} blocks of order ${k} are marked per-CPU, the list holds ${n}`);
    }
    const counted = [this.bootPages, this.kernelPages, this.appPages];
    for (let o = 0; o < 3; o++) invariant(owned[o] === counted[o], `owner ${o} accounts ${counted[o]} pages, frames say ${owned[o]}`);
    invariant(walkedFree === this.freePages(), `${this.freePages()} pages counted free, the lists hold ${walkedFree}`);
    for (const chunk of this.mem.backedChunks()) this.checkFreeZero(chunk);
  }

  // Freed frames must never show old data: every byte of a free frame that still has host memory is zero.
  private checkFreeZero(chunk: number): void {
    for (let pa = chunk; pa < chunk + CHUNK_SIZE; pa += this.pageSize) {
      const pn = Math.floor(pa / this.pageSize);
      const s = this.stateOf(pn);
      if (s === 0 || (s > 0 && (this.stateOf(this.headOf(pn)) & FRAME_FREE) === 0)) continue;
      for (let off = 0; off < Math.min(this.pageSize, CHUNK_SIZE); off += 4) {
        if (this.mem.read32(pa + off) !== 0) invariant(false, `free frame ${hex(pa)} holds old data`);
      }
    }
  }

  // The page number of a fresh block for `size` bytes; -1 when refused (fault injector, larger than any block), -2
  // when no free block is large enough.
  // `pages` is how many pages the caller keeps (allocExact), for the min watermark; 0: the whole block.
  private take(size: number, options: AllocOptions | undefined, pages: number): number {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new VmError('EINVAL', `options must be { owner?, usage? }, got ${hex(options)}`);
    }
    const owner = options?.owner ?? PageOwner.KERNEL;
    const usage = options?.usage ?? PageUsage.NONE;
    let k = 0;
    if (size > this.pageSize || !(size > 0) || !Number.isSafeInteger(size)) {
      if (typeof size !== 'number' || !(size > 0) || !Number.isSafeInteger(size)) checkSize('size', size);
      const pages = Math.ceil(size / this.pageSize);
      k = pages <= 0x4000_0000 ? 32 - Math.clz32(pages - 1) : log2Ceil(pages);
    }
    if (owner !== PageOwner.KERNEL || usage !== PageUsage.NONE) checkOwnerUsage(owner, usage);
    if (this.faults.hitIndex(usage === PageUsage.PTABLE ? SITE_PTABLE : SITE_FRAME)) return -1;
    if (k > this.maxOrder) return -1;
    if (owner === PageOwner.APP && this.belowMin(owner, pages > 0 ? pages : 2 ** k)) return -1;
    let pn: number;
    // -2: no free block of order k (allocExact then looks for a run of free blocks).
    if (k === 0) {
      if (this.pcpCount === 0 && !this.refill(0)) return -2;
      pn = this.pcp[--this.pcpCount];
    } else if (k < PCP_ORDERS) {
      if (this.pcpHiCount[k] === 0 && !this.refill(k)) return -2;
      pn = this.pcpHi[k][--this.pcpHiCount[k]];
    } else {
      pn = this.takeBlock(k);
      // No request is refused while a per-CPU list holds blocks that might merge into one that fits.
      if (pn < 0 && this.drainAll()) pn = this.takeBlock(k);
      if (pn < 0) return -2;
    }
    const flag = (owner << OWNER_SHIFT) | (usage << USAGE_SHIFT);
    const st = this.st[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    st[i] = ALLOC_HEAD | (k << ORDER_SHIFT) | flag;
    this.count(owner, 1 << k);
    return pn;
  }

  private count(owner: number, pages: number): void {
    if (owner === PageOwner.KERNEL) this.kernelLeft -= pages;
    else {
      if (owner === PageOwner.APP) this.appPages += pages;
      else this.bootPages += pages;
      this.retrip();
    }
  }

  // Recomputes trip (and kernelLeft with it) after boot or app pages, the low watermark or the callback changed.
  private retrip(): void {
    const f = this.frames.count;
    const trip = smi(this.lowCallback !== null && this.wmLow > 0 ? f - this.bootPages - this.appPages - this.wmLow : f);
    this.kernelLeft = (this.kernelLeft + trip - this.trip) | 0;
    this.trip = trip;
  }

  // Pages allocated to the kernel.
  private get kernelPages(): number {
    return this.trip - this.kernelLeft;
  }

  private set kernelPages(n: number) {
    this.kernelLeft = (this.trip - n) | 0;
  }

  // True when an allocation of `pages` for `owner` is refused by the min watermark: APP only, while the pages
  // would leave fewer than min free.
  private belowMin(owner: number, pages: number): boolean {
    return owner === PageOwner.APP && this.wmMin !== 0 && this.freePages() - pages < this.wmMin;
  }

  // An allocation of block pn (or of an exact run of `exact` pages from pn) left free pages below low and there is
  // a callback: calls it when this allocation crossed low (free pages were at or above low before it) and it is
  // not running already. Returns the allocation's address. When the callback throws, the allocation is given
  // back and the error goes to the allocation's caller.
  private lowMemory(pn: number, exact: number): number {
    const pa = pn * this.pageSize;
    const cb = this.lowCallback;
    if (cb === null || this.inLowMemory) return pa;
    const free = this.freePages();
    const pages = exact > 0 ? exact : 2 ** ((this.stateOf(pn) & ORDER_MASK) >> ORDER_SHIFT);
    if (free >= this.wmLow || free + pages < this.wmLow) return pa;
    this.inLowMemory = true;
    try {
      cb(free);
    } catch (e) {
      this.inLowMemory = false;
      try {
        if (exact > 0) this.freeExact(pa, exact * this.pageSize);
        else this.release(pa, -1);
      } catch {
        // The callback pinned or mapped the block: it stays allocated, and the callback's error is what matters.
      }
      throw e;
    }
    this.inLowMemory = false;
    return pa;
  }

  // Frees the allocated block headed at pa (of the given order, unless order is -1) and merges it. `pa` is checked
  // to be a number first: '0', null, [] and false would divide to page 0, and a BigInt would throw a TypeError.
  private release(pa: number, order: number): void {
    if (typeof pa !== 'number') this.badFree(pa, order);
    const pn = pa * this.perPage;
    const d = (pn >>> SECTION_SHIFT) - this.secBase;
    // pn >>> 0 === pn: an integer in [0, 2^32); d in range: a section of this board; then the bounds of its array.
    if (pn >>> 0 !== pn || pn >= 0x8000_0000 || d >>> 0 >= this.st.length) this.badFree(pa, order);
    const st = this.st[d];
    const i = pn & SECTION_MASK;
    const s = i < st.length ? st[i] : 0;
    if ((s & (S_RAM | S_HEAD | FRAME_FREE)) !== (S_RAM | S_HEAD)) this.badFree(pa, order);
    const k = (s & ORDER_MASK) >> ORDER_SHIFT;
    if (order !== -1 && order !== k) this.badFree(pa, order);
    const pages = 1 << k;
    if (this.slowFrees !== 0) {
      if (this.pins.size !== 0) this.checkUnpinned(pn, pages, pa);
      if (this.mappedFrames !== 0) this.checkUnmapped(pn, pages, pa);
      // A freed frame's LRU word is 0 again, so every frame is allocated with 0.
      if (this.lruSections !== 0 && this.lw[d].length !== 0) this.lw[d].fill(0, i, i + pages);
    }
    this.count((s & OWNER_MASK) >> OWNER_SHIFT, -pages);
    // Nothing to drop while no page holds data (zero() would be a no-op).
    if (this.mem.backedBytes !== 0) this.mem.zero(pa, pages * this.pageSize);
    if ((s & FAST_MASK) === ALLOC_HEAD) {
      st[i] = PCP_FRAME;
      this.pcp[this.pcpCount++] = pn;
      if (this.pcpCount > this.pcpHigh0) this.overHigh();
      return;
    }
    if (k < PCP_ORDERS) this.toPcp(st, i, pn, k);
    else this.merge(pn, k);
  }

  // allocExact when no block of the next power of two is free: the lowest run of `pages` free frames made of
  // adjacent free blocks of any order, at any alignment (first fit, as the original's no-MMU `_map_find` finds an
  // exact range). The run's blocks leave their lists, the run is cut as runBlocks cuts it, and what the last block
  // holds past the run goes back as aligned free blocks. O(free blocks); only reached when memory is fragmented.
  private firstFit(pages: number, options: AllocOptions | undefined): number {
    this.drainAll();
    for (;;) {
      const pa = this.firstFitIn(pages, options);
      // Untouched sections are on no list: give them metadata one at a time until a run fits or none is left.
      if (pa >= 0 || !this.touch()) return pa;
    }
  }

  private firstFitIn(pages: number, options: AllocOptions | undefined): number {
    const free: number[] = [];
    for (let k = 0; k <= this.maxOrder; k++) for (let pn = this.heads[k]; pn >= 0; pn = this.link(pn)) free.push(pn * 32 + k);
    free.sort((a, b) => a - b);
    let first = 0;
    let start = -1;
    let end = -1;
    let last = -1;
    for (let b = 0; b < free.length && last < 0; b++) {
      const pn = Math.floor(free[b] / 32);
      if (pn !== end) {
        first = b;
        start = pn;
      }
      end = pn + 2 ** (free[b] % 32);
      if (end - start >= pages) last = b;
    }
    if (last < 0) return -1;
    for (let b = first; b <= last; b++) {
      const pn = Math.floor(free[b] / 32);
      this.unlink(pn, free[b] % 32);
      this.setState(pn, TAIL);
    }
    const flag = ((options?.owner ?? PageOwner.KERNEL) << OWNER_SHIFT) | ((options?.usage ?? PageUsage.NONE) << USAGE_SHIFT);
    for (let pn = start, j = 0; pn < start + pages; pn += 1 << j) {
      j = runOrder(pn, start + pages - pn);
      this.setState(pn, ALLOC_HEAD | (j << ORDER_SHIFT) | flag);
    }
    for (let pn = start + pages, j = 0; pn < end; pn += 1 << j) {
      j = runOrder(pn, end - pn);
      this.merge(pn, j);
    }
    this.count(options?.owner ?? PageOwner.KERNEL, pages);
    return start * this.pageSize;
  }

  private setState(pn: number, v: number): void {
    this.st[(pn >>> SECTION_SHIFT) - this.secBase][pn & SECTION_MASK] = v;
  }

  // allocPa's path for 2 to 16 kernel pages (size checked): a block off the per-CPU list of its order.
  private allocPcp(size: number): number {
    if (this.faults.hitIndex(SITE_FRAME)) return -1;
    const k = 32 - Math.clz32((size - 1) >> this.pageShift);
    if (this.pcpHiCount[k] === 0 && !this.refill(k)) return -1;
    const n = this.pcpHiCount[k] - 1;
    const pn = this.pcpHi[k][n];
    this.pcpHiCount[k] = n;
    this.st[(pn >>> SECTION_SHIFT) - this.secBase][pn & SECTION_MASK] = KERNEL_FRAME | (k << ORDER_SHIFT);
    this.kernelLeft -= 1 << k;
    if (this.kernelLeft < 0) return this.lowMemory(pn, 0);
    return pn * this.pageSize;
  }

  // freePa's path for an allocated block of order 1 and up (state s, checked), no pins, no data to drop.
  private freeBlock(st: Uint16Array, i: number, pn: number, s: number): void {
    const k = (s & ORDER_MASK) >> ORDER_SHIFT;
    this.count((s & OWNER_MASK) >> OWNER_SHIFT, -(1 << k));
    if (k < PCP_ORDERS) this.toPcp(st, i, pn, k);
    else this.merge(pn, k);
  }

  // Puts the free block of order k (1 to PCP_ORDERS - 1) at index i of section states st on its per-CPU list.
  private toPcp(st: Uint16Array, i: number, pn: number, k: number): void {
    st[i] = PCP_FRAME | (k << ORDER_SHIFT);
    const n = this.pcpHiCount[k] + 1;
    this.pcpHi[k][n - 1] = pn;
    this.pcpHiCount[k] = n;
    if (n > PCP_HIGH >> k) this.drain(k, PCP_BATCH >> k);
  }

  // Moves up to a batch of order-k blocks from the buddy to the empty per-CPU list of order k, the first taken on
  // top (so a run of allocations gets ascending addresses, as from the buddy). When the buddy has none, every
  // per-CPU list is drained (its blocks may merge into one that splits) and the buddy asked again. False when
  // nothing was free.
  private refill(k: number): boolean {
    const list = k === 0 ? this.pcp : this.pcpHi[k];
    const batch = pcpBatch(k);
    const tag = PCP_FRAME | (k << ORDER_SHIFT);
    // The order-0 list ran dry: allocations are outpacing frees, so its high comes down a batch.
    if (k === 0 && this.pcpHigh0 > PCP_HIGH) this.pcpHigh0 -= PCP_BATCH;
    let n = 0;
    // Straight off the free list of order k first: one link read and one state write per block.
    let pn = this.heads[k];
    while (n < batch && pn >= 0) {
      const d = (pn >>> SECTION_SHIFT) - this.secBase;
      const i = pn & SECTION_MASK;
      this.st[d][i] = tag;
      list[n++] = pn;
      pn = this.ln[d][i];
    }
    this.heads[k] = pn;
    if (pn >= 0) this.setLink(pn ^ 1, -1);
    while (n < batch) {
      let pn = this.takeBlock(k);
      if (pn < 0 && n === 0 && this.drainAll()) pn = this.takeBlock(k);
      if (pn < 0) break;
      this.st[(pn >>> SECTION_SHIFT) - this.secBase][pn & SECTION_MASK] = tag;
      list[n++] = pn;
    }
    for (let a = 0, z = n - 1; a < z; a++, z--) {
      const t = list[a];
      list[a] = list[z];
      list[z] = t;
    }
    if (k === 0) this.pcpCount = n;
    else this.pcpHiCount[k] = n;
    return n > 0;
  }

  // A free took the order-0 list above its high. A burst of frees raises high by a batch, while that stays within
  // PCP_HIGH_MAX and 1/8 of free memory (Linux's pcp high auto-tuning), so a burst that comes back as a burst of
  // allocations never reaches the buddy; otherwise the coldest batch goes back to the buddy (Linux's
  // free_pcppages_bulk of one batch), which leaves the list near high for the next burst of allocations.
  private overHigh(): void {
    const high = this.pcpHigh0 + PCP_BATCH;
    const free = this.frames.count - this.bootPages - this.kernelPages - this.appPages;
    if (high <= PCP_HIGH_MAX && high <= free >> 3) this.pcpHigh0 = high;
    else this.drain(0, PCP_BATCH);
  }

  // Gives the n coldest blocks of the per-CPU list of order k back to the buddy.
  private drain(k: number, n: number): void {
    if (n <= 0) return;
    const list = k === 0 ? this.pcp : this.pcpHi[k];
    const count = k === 0 ? this.pcpCount : this.pcpHiCount[k];
    for (let j = 0; j < n; j++) this.merge(list[j], k);
    list.copyWithin(0, n, count);
    if (k === 0) this.pcpCount = count - n;
    else this.pcpHiCount[k] = count - n;
  }

  // Drains every per-CPU list whole; false when they were all empty.
  private drainAll(): boolean {
    let any = this.pcpCount > 0;
    this.drain(0, this.pcpCount);
    this.pcpHigh0 = PCP_HIGH;
    for (let k = 1; k < PCP_ORDERS; k++) {
      if (this.pcpHiCount[k] > 0) any = true;
      this.drain(k, this.pcpHiCount[k]);
    }
    return any;
  }

  // A free block of order k off the free lists (split from a larger one, or from an untouched section), its head
  // state not yet set; -1 when there is none.
  private takeBlock(k: number): number {
    const heads = this.heads;
    let j = k;
    while (heads[j] < 0) {
      if (++j > this.maxOrder) {
        if (!this.touch()) return -1;
        j = this.maxOrder;
      }
    }
    const pn = heads[j];
    // pn heads its list: popping it needs no prev link.
    const next = this.link(pn);
    heads[j] = next;
    if (next >= 0) this.setLink(next ^ 1, -1);
    if (j > k) {
      const st = this.st[(pn >>> SECTION_SHIFT) - this.secBase];
      const i = pn & SECTION_MASK;
      while (j > k) {
        j--;
        st[i + (1 << j)] = FREE_HEAD | (j << ORDER_SHIFT);
        this.push(pn + (1 << j), j);
      }
    }
    return pn;
  }

  // Gives the lowest untouched section metadata and puts it on the largest order's list as one free block.
  private touch(): boolean {
    const f = this.frames;
    const d = f.nextUntouched();
    if (d < 0) return false;
    f.allocate(d);
    const st = this.st[d];
    st.fill(TAIL);
    st[0] = FREE_HEAD | (SECTION_SHIFT << ORDER_SHIFT);
    f.untouched--;
    this.push((f.secBase + d) * SECTION_FRAMES, SECTION_SHIFT);
    return true;
  }

  private boot(): void {
    const f = this.frames;
    const ps = this.pageSize;
    const regions = this.mem.board.regions;
    // Live from boot: sections holding reserved frames, and the ragged sections at a bank's ends. The rest of RAM
    // is untouched sections, which cost nothing here.
    const live = new Set<number>();
    for (const r of f.reserved) for (let sec = Math.floor(r.a / SECTION_FRAMES); sec * SECTION_FRAMES < r.z; sec++) live.add(sec);
    for (const b of f.banks) {
      for (const sec of [Math.floor(b.pnStart / SECTION_FRAMES), Math.floor((b.pnEnd - 1) / SECTION_FRAMES)]) if (!f.wholeRam(sec)) live.add(sec);
    }
    for (const sec of [...live].sort((x, y) => x - y)) {
      const d = sec - f.secBase;
      f.allocate(d);
      const st = this.st[d];
      const start = sec * SECTION_FRAMES;
      const end = start + SECTION_FRAMES;
      // Reserved frames first (each its own order-0 BOOT block, so a kernel may give boot memory back page by
      // page), then RAM in maximal naturally aligned blocks, merged with what is already free.
      for (const pass of ['reserved', 'ram'] as const) {
        for (const r of regions) {
          if (r.kind !== pass) continue;
          let pn = Math.max(r.base / ps, start);
          const z = Math.min((r.base + r.size) / ps, end);
          if (pn >= z) continue;
          if (pass === 'reserved') {
            st.fill(ALLOC_HEAD | (PageOwner.BOOT << OWNER_SHIFT), pn - start, z - start);
            this.bootPages += z - pn;
            continue;
          }
          while (pn < z) {
            // Largest block that is naturally aligned at pn and fits in what is left of the region.
            let k = Math.min(this.maxOrder, log2Floor(z - pn));
            while (k > 0 && (pn & ((1 << k) - 1)) !== 0) k--;
            const pages = 1 << k;
            st.fill(TAIL, pn - start, pn - start + pages);
            this.merge(pn, k);
            pn += pages;
          }
        }
      }
    }
  }

  // Merges free block (pn, k) with free buddies of equal order and puts the result on its list. A buddy of order
  // below maxOrder (≤ the section order) lies in the same section.
  private merge(pn: number, k: number): void {
    const d = (pn >>> SECTION_SHIFT) - this.secBase;
    const st = this.st[d];
    const base = pn - (pn & SECTION_MASK);
    let i = pn & SECTION_MASK;
    while (k < this.maxOrder) {
      const b = i ^ (1 << k);
      // A buddy in a hole (or past the section's last frame) is no frame: state 0, or no slot at all.
      if (b >= st.length || st[b] !== (FREE_HEAD | (k << ORDER_SHIFT))) break;
      this.unlink(base + b, k);
      if (b > i) st[b] = TAIL;
      else {
        st[i] = TAIL;
        i = b;
      }
      k++;
    }
    st[i] = FREE_HEAD | (k << ORDER_SHIFT);
    // push(base + i, k), with this section's links at hand.
    const ln = this.ln[d];
    const h = this.heads[k];
    ln[i] = h;
    ln[i ^ 1] = -1;
    if (h >= 0) this.setLink(h ^ 1, base + i);
    this.heads[k] = base + i;
  }

  // The page numbers of [pa, pa + size), every one allocated RAM; EINVAL otherwise.
  private pinRange(pa: number, size: number): number[] {
    checkAligned('pa', pa, this.pageSize);
    checkSize('size', size);
    const end = pa + Math.ceil(size / this.pageSize) * this.pageSize;
    if (!Number.isSafeInteger(end) || (end - pa) / this.pageSize > this.frames.count) {
      throw new VmError('EINVAL', `[${hex(pa)}, +${hex(size)}) is larger than RAM`);
    }
    const out: number[] = [];
    for (let p = pa; p < end; p += this.pageSize) {
      const pn = p / this.pageSize;
      const s = this.stateOf(pn);
      if (s === 0) throw new VmError('EINVAL', `pa ${hex(p)} is outside RAM`);
      if (s < 0 || this.stateOf(this.headOf(pn)) & FRAME_FREE) throw new VmError('EINVAL', `pa ${hex(p)} is a free frame: only allocated frames are pinned`);
      out.push(pn);
    }
    return out;
  }

  // EBUSY when a page of block pn (of `pages` pages) is pinned.
  private checkUnpinned(pn: number, pages: number, pa: number): void {
    for (let t = pn; t < pn + pages; t++) {
      if (this.pins.has(t)) throw new VmError('EBUSY', `the block at ${hex(pa)} holds pinned frame ${hex(t * this.pageSize)}`);
    }
  }

  // EBUSY when a page of block pn (of `pages` pages) has a mapping count above 0.
  private checkUnmapped(pn: number, pages: number, pa: number): void {
    const mc = this.mc[(pn >>> SECTION_SHIFT) - this.secBase];
    if (mc.length === 0) return;
    const i = pn & SECTION_MASK;
    for (let t = i; t < i + pages; t++) {
      if (mc[t] !== 0) throw new VmError('EBUSY', `the block at ${hex(pa)} holds frame ${hex((pn + t - i) * this.pageSize)}, mapped ${this.countAt(pn + t - i)} times`);
    }
  }

  // The mapping count of frame pn (of a live section).
  private countAt(pn: number): number {
    const mc = this.mc[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    const c = i < mc.length ? mc[i] : 0;
    return c === COUNT_OVERFLOW ? this.countOver.get(pn)! : c;
  }

  // The page number of the allocated frame at `pa` (the head or a tail of an allocated block); -1 when `pa` is a
  // page-aligned address but of a free frame or outside RAM; -2 when it is no page-aligned address at all.
  private frameAt(pa: number): number {
    if (typeof pa === 'number') {
      const pn = pa * this.perPage;
      const d = (pn >>> SECTION_SHIFT) - this.secBase;
      if (pn >>> 0 === pn && pn < 0x8000_0000 && d >>> 0 < this.st.length) {
        const st = this.st[d];
        const i = pn & SECTION_MASK;
        const s = i < st.length ? st[i] : 0;
        if ((s & (S_RAM | S_HEAD | FRAME_FREE)) === (S_RAM | S_HEAD)) return pn;
        if (s === TAIL && !(this.stateOf(this.headOf(pn)) & FRAME_FREE)) return pn;
        return -1;
      }
    }
    if (typeof pa !== 'number' || !Number.isSafeInteger(pa) || pa < 0 || pa % this.pageSize !== 0) return -2;
    return -1;
  }

  // Cold path: EINVAL saying why `pa` (frameAt's answer pn < 0) is no allocated frame.
  private badFrame(what: string, pa: number, pn: number): never {
    if (pn === -2) throw new VmError('EINVAL', `${what}: pa must be a page-aligned address, got ${hex(pa)}`);
    const s = this.stateOf(pa / this.pageSize);
    if (s === 0) throw new VmError('EINVAL', `${what}: pa ${hex(pa)} is outside RAM`);
    throw new VmError('EINVAL', `${what}: pa ${hex(pa)} is a free frame`);
  }

  // Cold path: says precisely why a free was refused.
  private badFree(pa: number, order: number): never {
    if (!Number.isSafeInteger(pa) || pa < 0 || pa % this.pageSize !== 0) {
      throw new VmError('EINVAL', `pa must be a page-aligned address, got ${hex(pa)}`);
    }
    const s = this.stateOf(pa / this.pageSize);
    if (s === 0) throw new VmError('EINVAL', `pa ${hex(pa)} is outside RAM`);
    if (s > 0 && !(s & S_HEAD)) throw new VmError('EINVAL', `pa ${hex(pa)} is not the head of a block`);
    if (s < 0 || s & FRAME_FREE) throw new VmError('EINVAL', `pa ${hex(pa)} is already free (double free)`);
    throw new VmError('EINVAL', `order ${hex(order)} does not match the block at ${hex(pa)} (order ${(s & ORDER_MASK) >> ORDER_SHIFT})`);
  }

  // The state word of page pn (0: no frame; -1: an untouched section).
  private stateOf(pn: number): number {
    return this.frames.stateOf(pn);
  }

  // The head of the block containing frame pn (a frame of a live section).
  private headOf(pn: number): number {
    if (this.stateOf(pn) & S_HEAD) return pn;
    for (let k = 1; k <= this.maxOrder; k++) {
      const h = pn - (pn & ((1 << k) - 1));
      const s = this.stateOf(h);
      if (s & S_HEAD && (s & ORDER_MASK) >> ORDER_SHIFT === k) return h;
    }
    throw new Error(`frame ${hex(pn * this.pageSize)} has no head`);
  }

  private link(pn: number): number {
    return this.ln[(pn >>> SECTION_SHIFT) - this.secBase][pn & SECTION_MASK];
  }

  private setLink(pn: number, v: number): void {
    this.ln[(pn >>> SECTION_SHIFT) - this.secBase][pn & SECTION_MASK] = v;
  }

  // Free-list links: next in link[pn], prev in link[pn ^ 1] (a tail, or the order-0 block's busy buddy).
  private push(pn: number, k: number): void {
    const h = this.heads[k];
    const ln = this.ln[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    ln[i] = h;
    ln[i ^ 1] = -1;
    if (h >= 0) this.setLink(h ^ 1, pn);
    this.heads[k] = pn;
  }

  private unlink(pn: number, k: number): void {
    const ln = this.ln[(pn >>> SECTION_SHIFT) - this.secBase];
    const i = pn & SECTION_MASK;
    const n = ln[i];
    const p = ln[i ^ 1];
    if (p >= 0) this.setLink(p, n);
    else this.heads[k] = n;
    if (n >= 0) this.setLink(n ^ 1, p);
  }
}

/**
 * `n` (an integer in [-2^31, 2^31]) as an int32 value, 2^31 as 2^31 - 1: the watermark threshold field then keeps
 * V8's small-integer representation (the frame count is computed by division, a heap number), so the hot paths
 * compare two small integers. Only a board of 2^31 frames holding all of them as kernel pages could tell 2^31 - 1
 * from 2^31, and then reaches the low-memory path to find nothing to call.
 */
function smi(n: number): number {
  return (n > 0x7fff_ffff ? 0x7fff_ffff : n) | 0;
}

/**
 * The order of the block at page `pn` in a run of `left` more pages, as allocExact and freeExact cut runs: the
 * largest naturally aligned block that starts at `pn` and fits (for a run aligned to its power of two, the set bits
 * of its length, largest first).
 */
function runOrder(pn: number, left: number): number {
  const align = pn === 0 ? 31 : 31 - Math.clz32(pn & -pn);
  return Math.min(align, 31 - Math.clz32(left));
}

// The argument checks of take(), without taking anything.
function checkAllocArgs(size: number, options: AllocOptions | undefined): void {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new VmError('EINVAL', `options must be { owner?, usage? }, got ${hex(options)}`);
  }
  checkSize('size', size);
  checkOwnerUsage(options?.owner ?? PageOwner.KERNEL, options?.usage ?? PageUsage.NONE);
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
