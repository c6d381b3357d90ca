import { FAULT_SITES, VmError, checkSize, hex, invariant } from '@vmlayers/phys';
import type { FaultInjector } from '@vmlayers/phys';
import { checkKernelMemory } from './kernel-memory.js';
import type { KernelMemory } from './kernel-memory.js';
import { PageIndex } from './internal/page-index.js';
import { classIndex, sizeClasses } from './internal/size-classes.js';
import type { SizeClasses } from './internal/size-classes.js';

/** Smallest class: 2^4 = 16 bytes, as the original. */
export const KMALLOC_MIN_SHIFT = 4;
/** Largest class: 2^23 = 8 MiB; larger requests → `ENOMEM`, as the original. */
export const KMALLOC_MAX_SHIFT = 23;
/** Slots of the class table, as the original's `sizes[24]` (classes 4..23 are used). */
export const KMALLOC_SLOTS = 24;
/**
 * Bytes a zone descriptor takes in kernel memory: the original's 32-bit `vm_zone_t` (48 bytes) rounded to its
 * class. Every zone but the first is described by one block of this class, as the original does.
 */
export const ZONE_HEADER_SIZE = 64;
/** Header zones hold at least this many descriptors (the original's `zonehdrs`). */
export const ZONE_HEADERS = 16;

// Constants as const enums: esbuild inlines their values, where a module-level `const` becomes a `var` that the
// JIT loads from the module context at every use (and cannot fold into `z * Z.W + Z.BASE`).
const enum K {
  /** 8 MiB, the largest class. */
  MAX_SIZE = 8388608,
  /** FAULT_SITES.indexOf('kmalloc'), checked at construction. */
  SITE_KMALLOC = 4,
  NONE = -1,
}
// A zone's int fields, Z.W per zone in one Int32Array: a zone's state, its class's figures included, is one cache
// line, one array load away.
const enum Z {
  W = 16,
  USED = 0,
  HEAD = 1,
  FRESH = 2,
  BASE = 3,
  PREV = 4,
  NEXT = 5,
  CLS = 6,
  LIVE = 7,
  SIZE = 8,
  BLOCKS = 9,
  /** log2 of the block size, 31 when not a power of two (see kfree). */
  SHIFT = 10,
}
// A block's word in the link array: a free block holds the next free block of its zone (END: none), a block in
// use says whose it is (the caller's, or a zone descriptor: kmalloc's own). One word per block, so freeing checks
// and links a block with one load and one store.
const enum B {
  END = -1,
  USED = -2,
  DESCRIPTOR = -3,
  /** Free, in its class's magazine (counted in use by its zone, free by stats() and check()). */
  MAG = -4,
}
// The per-class magazine: a small LIFO stack of freed blocks in front of the zones (a slab's per-CPU free list).
const enum G {
  /** Blocks a magazine holds (a power of two: a class's addresses start at class << SHIFT in magVa). */
  SIZE = 64,
  SHIFT = 6,
  /** A class's row in `mag`: its count, its blocks held, and its blocks' words from AT (W = 1 << WSHIFT). */
  WSHIFT = 7,
  N = 0,
  HELD = 1,
  AT = 2,
  /** A full magazine gives back its oldest BATCH blocks to their zones. */
  BATCH = 32,
}

/** Figures of one size class. */
export interface KmallocClassStats {
  /** Block size of the class in bytes. */
  size: number;
  /** Zones of the class now mapped, kept empty zones included; at least 1 (a class without a zone is not listed). */
  zones: number;
  /** Blocks handed out (for the descriptor class: zone descriptors too). */
  used: number;
  /** Free blocks in the class's zones, the blocks in its magazine included. */
  free: number;
  /** Bytes of kernel pages the class's zones hold. */
  bytes: number;
  /** Bytes of those pages no block covers (a zone's blocks rounded up to whole pages). */
  waste: number;
}

/**
 * What {@link Kmalloc.stats} reports: the figures of every zone now mapped, per class and in total. Blocks in a
 * magazine count as free; zone descriptors (kmalloc's own blocks of the 64-byte class) count as used, as the
 * original's `allocsz`. `used + free` is the bytes of all blocks; `bytes − used − free` the page bytes no block covers.
 */
export interface KmallocStats {
  /** Per class, only classes that have zones, by increasing block size. */
  classes: KmallocClassStats[];
  /** Bytes handed out (block sizes, i.e. requests rounded up to their class; zone descriptors included). */
  used: number;
  /** Bytes of free blocks in existing zones (kept empty zones and magazines included). */
  free: number;
  /**
   * Zones now mapped, of every class, kept empty zones included; at least 1 (the first descriptor zone, made by the
   * constructor and never released).
   */
  zones: number;
  /** Bytes of kernel pages held by all zones. */
  bytes: number;
  /** Free zone descriptors (the original's `hdrblocks`); never below 1 between calls. */
  headerBlocks: number;
}

/**
 * Options of {@link Kmalloc}'s constructor, all optional (`undefined` or `null`: the default). Anything else than
 * the values below — another number, a fraction, a negative, NaN, a string… — or `options` not an object → `EINVAL`.
 */
export interface KmallocOptions {
  /**
   * 1 (default): the original's power-of-two classes, 16 B … 8 MiB. 4: four classes per octave (16, 20, 24, 28,
   * 32, 40 … 8 MiB), less memory lost to rounding at the price of more zones.
   */
  classesPerOctave?: 1 | 4;
  /**
   * Emptied zones each class may keep whatever its size (an integer from 0 to 2^20; default 0, 8 for a buffer
   * heap), instead of releasing them at once; unlike the `keepEmptyPer` hysteresis these survive an empty class
   * until {@link Kmalloc.trim}. Kept zones are reused before a new zone is made, given back by {@link Kmalloc.trim},
   * and given back before any `ENOMEM`.
   */
  keepEmptyZones?: number;
  /**
   * The hysteresis on zone release (an integer from 0 to 2^20; default 4, {@link KEEP_EMPTY_PER}): a class may
   * also keep one emptied zone per `keepEmptyPer` of its zones in use, so a class with fewer than that many zones in
   * use releases every emptied zone at once, as the original, and every kept zone is released as the class shrinks
   * back: once every block of a class is freed, every page is back. 0 turns it off (the original's immediate
   * release). Kept zones cost at most 1/`keepEmptyPer` of the class's pages in use; they are reused first, given
   * back by {@link Kmalloc.trim} and before any `ENOMEM`. The descriptor class keeps none by this rule (its zones
   * would keep each other). The same proportion bounds the magazines: a class's magazine (up to 64 freed blocks in
   * front of its zones) is used while the class has at least 64 × `keepEmptyPer` blocks live; none with 0.
   */
  keepEmptyPer?: number;
}

/** Default {@link KmallocOptions.keepEmptyPer}: one emptied zone kept per 4 zones in use in its class. */
export const KEEP_EMPTY_PER = 4;

/**
 * The fine-grained kernel allocator of the original `vm/kmalloc.c`: power-of-two classes from 16 B to 8 MiB on
 * zones (four per octave as an option), zones made on demand and released when they are empty (a large class keeps
 * one emptied zone per four in use: the hysteresis, `keepEmptyPer`), zone descriptors kept in zones of their own
 * class with the original's rule that one descriptor is always spare — so a new descriptor zone can always be
 * described. A zone is one page for classes up to a page, one block for larger classes.
 *
 * `kmalloc` returns a kernel virtual address whose bytes are real: read and write them through the kernel map.
 * Exhaustion anywhere (no frame, no map entry, the fault injector) → `VmError('ENOMEM')`, every structure as it was.
 *
 * Zones are rows of typed arrays (zone ids recycled per class with their rows of block words), found from a block's
 * address through a page index; a class with at least 64 × `keepEmptyPer` blocks live keeps up to 64 freed blocks
 * in a magazine in front of its zones (a slab's per-CPU free list), handed out first; see the README's design
 * decisions for why.
 */
export class Kmalloc {
  /**
   * The kernel memory the zones' pages come from (`allocPages`) and go back to (`freePages`), through which zone
   * descriptors are written; its page allocator's fault injector counts `kmalloc` calls (site `kmalloc`).
   */
  readonly kmap: KernelMemory;
  /** Classes per octave of this instance (1: the original's powers of two). */
  readonly classesPerOctave: 1 | 4;
  /** Emptied zones each class keeps (0: released at once). */
  readonly keepEmptyZones: number;
  /** One emptied zone kept per this many zones in use in its class (0: none). */
  readonly keepEmptyPer: number;
  private readonly faults: Pick<FaultInjector, 'hitIndex'>;
  private readonly pageSize: number;
  private readonly invPage: number;
  private readonly cls: SizeClasses;
  private readonly hdr: number;
  // Per class: free blocks in its zones (the descriptor class's: the original's `hdrblocks`), and its zones.
  private readonly clsFree: Int32Array;
  private readonly clsZones: Int32Array;
  // Per class: head and tail of its list of zones with a free block (see link()).
  private readonly partial: Int32Array;
  private readonly partialTail: Int32Array;
  // Per class: kept empty zones (the first zone never counts), all at the tail of its list.
  private readonly emptyCount: Int32Array;
  // Per class: zones with a block in use (the hysteresis' measure of the class's size).
  private readonly inUse: Int32Array;
  // Per class, a row of 1 << G.WSHIFT words: how many blocks its magazine holds (G.N), the blocks callers hold or
  // its magazine does (G.HELD: neither free in a zone nor descriptors; it changes only when a block goes to or from
  // a zone, so the inline paths never write it), and the magazine's block words (from G.AT);
  // the magazine's addresses are in magVa, G.SIZE from class << G.SHIFT.
  private readonly mag: Int32Array;
  private readonly magVa: Float64Array;
  // Magazines are used while a class has this many blocks live (G.SIZE × keepEmptyPer; never with keepEmptyPer 0).
  private readonly magLive: number;
  private readonly drained = new Int32Array(G.SIZE);
  private readonly drainedVa = new Float64Array(G.SIZE);
  // Per class: released zone ids, whose rows of block state can serve the next zone of the class.
  private readonly spareIds: number[][];
  // Zone rows: Z.W int32 fields each (see Z); the zone's address and its descriptor's in Float64Arrays (kernel
  // addresses pass 2^32).
  private zi = new Int32Array(64 * Z.W);
  private zva = new Float64Array(64);
  private zhdr = new Float64Array(64);
  private zones = 0;
  private liveZones = 0;
  // Block rows: a zone's blocks' words (see B.END/B.USED/B.DESCRIPTOR), `blocks` entries from its Z.BASE.
  private links = new Int32Array(1024);
  private rows = 0;
  private readonly index = new PageIndex();
  private readonly scratch = new Uint8Array(24);
  // keepEmptyZones and keepEmptyPer, or 0 while trim() runs.
  private keep: number;
  private keepPer: number;

  /**
   * Creates the first descriptor zone (never released). `kmap` no `KernelMemory`, or bad options → `EINVAL`; no
   * memory → `ENOMEM`.
   */
  constructor(kmap: KernelMemory, options?: KmallocOptions) {
    checkKernelMemory('kmap', kmap);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new VmError('EINVAL', `options must be { classesPerOctave?, keepEmptyZones?, keepEmptyPer? }, got ${hex(options)}`);
    }
    const perOctave = options?.classesPerOctave ?? 1;
    if (perOctave !== 1 && perOctave !== 4) throw new VmError('EINVAL', `options.classesPerOctave must be 1 or 4, got ${hex(perOctave)}`);
    const keep = options?.keepEmptyZones ?? 0;
    if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 0 || keep > 2 ** 20) {
      throw new VmError('EINVAL', `options.keepEmptyZones must be an integer from 0 to 2^20, got ${hex(keep)}`);
    }
    const per = options?.keepEmptyPer ?? KEEP_EMPTY_PER;
    if (typeof per !== 'number' || !Number.isInteger(per) || per < 0 || per > 2 ** 20) {
      throw new VmError('EINVAL', `options.keepEmptyPer must be an integer from 0 to 2^20, got ${hex(per)}`);
    }
    this.kmap = kmap;
    this.classesPerOctave = perOctave;
    this.keepEmptyZones = keep;
    this.keep = keep;
    this.keepEmptyPer = per;
    this.keepPer = per;
    invariant(FAULT_SITES[K.SITE_KMALLOC] === 'kmalloc', 'fault site kmalloc moved');
    const faults = kmap.alloc.faults;
    // A KernelMemory's injector may have only hit(site): the index form is the allocators' hot-path variant.
    this.faults = typeof faults.hitIndex === 'function' ? faults : { hitIndex: (i: number) => faults.hit(FAULT_SITES[i]) };
    this.pageSize = kmap.pageSize;
    this.invPage = 1 / kmap.pageSize;
    this.cls = sizeClasses(perOctave, kmap.pageSize, ZONE_HEADER_SIZE, ZONE_HEADERS);
    this.hdr = classIndex(perOctave, ZONE_HEADER_SIZE);
    const n = this.cls.size.length;
    this.clsFree = new Int32Array(n);
    this.clsZones = new Int32Array(n);
    this.partial = new Int32Array(n).fill(K.NONE);
    this.partialTail = new Int32Array(n).fill(K.NONE);
    this.emptyCount = new Int32Array(n);
    this.inUse = new Int32Array(n);
    this.mag = new Int32Array(n << G.WSHIFT);
    this.magVa = new Float64Array(n << G.SHIFT);
    // A magazine holds at most 1/keepEmptyPer of its class's blocks, as kept zones at most 1/keepEmptyPer of its zones.
    this.magLive = per === 0 ? 0x7fffffff : G.SIZE * per;
    this.spareIds = Array.from({ length: n }, () => []);
    const z = this.makeZone(this.hdr, K.NONE);
    this.link(z);
  }

  /**
   * `size` bytes (rounded up to its class: a power of two ≥ 16 by default) of kernel memory. `size` not a positive
   * integer below 2^53 (0, negative, NaN, ±Infinity, a fraction, a BigInt, a string…) → `EINVAL`; a valid size
   * larger than 8 MiB, no memory, or the fault injector at `kmalloc` → `ENOMEM`. Nothing changes on error.
   */
  kmalloc(size: number): number {
    if (typeof size !== 'number' || !(size >= 1 && size <= K.MAX_SIZE) || (size | 0) !== size) refuseSize(size);
    const c = this.classesPerOctave === 1 ? (size <= 16 ? 0 : 28 - Math.clz32(size - 1)) : classIndex(4, size);
    if (this.faults.hitIndex(K.SITE_KMALLOC)) refuseInjected(size);
    // The class's magazine first: the last block freed, one store to mark it in use.
    const mag = this.mag;
    const row = c << G.WSHIFT;
    const n = mag[row + G.N] - 1;
    if (n < 0) return this.kmallocZone(c);
    mag[row + G.N] = n;
    this.links[mag[row + G.AT + n]] = B.USED;
    return this.magVa[(c << G.SHIFT) + n];
  }

  // kmalloc from the zones of class c (its magazine is empty).
  private kmallocZone(c: number): number {
    this.mag[(c << G.WSHIFT) + G.HELD]++;
    // No free block means no zone on the list; one free descriptor is the spare the original keeps: the last free
    // block of any class goes the long way, which applies that rule.
    const free = this.clsFree[c];
    if (free <= 1) return this.kmallocSlow(c);
    this.clsFree[c] = free - 1;
    const z = this.partial[c];
    const zi = this.zi;
    const links = this.links;
    const o = z * Z.W;
    const base = zi[o + Z.BASE];
    let i = zi[o + Z.HEAD];
    if (i !== B.END) {
      zi[o + Z.HEAD] = links[base + i];
    } else {
      i = zi[o + Z.FRESH];
      zi[o + Z.FRESH] = i + 1;
    }
    links[base + i] = B.USED;
    const used = zi[o + Z.USED] + 1;
    zi[o + Z.USED] = used;
    // Only the head is taken from, so a zone fills at the head and leaves its list there (see link()).
    if (used === zi[o + Z.BLOCKS]) this.partial[c] = zi[o + Z.NEXT];
    if (used === 1) this.reused(z, c);
    return this.zva[z] + i * zi[o + Z.SIZE];
  }

  // kmalloc when the class has no free block or one (a zone to make or the spare-descriptor rule to apply).
  private kmallocSlow(c: number): number {
    try {
      this.refill(c);
    } catch (e) {
      this.mag[(c << G.WSHIFT) + G.HELD]--;
      throw e;
    }
    return this.take(c, B.USED);
  }

  /**
   * Frees a block from `kmalloc`. Not one — no address at all (NaN, a BigInt, a string…), inside a block, a zone
   * descriptor's block, or already free — → `EINVAL`, nothing changed.
   */
  kfree(vaddr: number): void {
    if (typeof vaddr !== 'number') return this.kfreeSlow(vaddr);
    // The page's fast entry in the page index's window, inline: its first block's word, class and block shift.
    // Anything else (a far page, no page, a page with no block start, a class that is not a power of two, a bad
    // address, no block in use) goes the long way.
    const index = this.index;
    const pn = Math.floor(vaddr * this.invPage);
    const k = 2 * (pn - index.lo);
    const fast = index.fast;
    const word = fast[k];
    if (!(word >= 0)) return this.kfreeSlow(vaddr);
    const info = fast[k + 1];
    const sh = info & 31;
    const off = vaddr - pn * this.pageSize;
    const i = off >>> sh;
    const at = word + i;
    const links = this.links;
    if (i << sh !== off || links[at] !== B.USED) return this.kfreeSlow(vaddr);
    // Into the class's magazine while it has room and the class enough live blocks; else the long way.
    const c = info >> 5;
    const mag = this.mag;
    const row = c << G.WSHIFT;
    const n = mag[row + G.N];
    // Blocks callers hold once this one is freed: held, less the magazine's, less this one.
    if (n === G.SIZE || mag[row + G.HELD] - n <= this.magLive) return this.kfreeFull(index.win[pn - index.lo], at, vaddr);
    links[at] = B.MAG;
    mag[row + G.AT + n] = at;
    this.magVa[(c << G.SHIFT) + n] = vaddr;
    mag[row + G.N] = n + 1;
  }

  // Frees the live block of zone z whose word is `at` (address vaddr) when the inline path cannot: the class's
  // magazine is full (its oldest half goes back to the zones first), or the class has too few live blocks for one
  // (it is emptied, and the block goes to its zone, so an emptied class gives back every zone at once).
  private kfreeFull(z: number, at: number, vaddr: number): void {
    const i = at - this.zi[z * Z.W + Z.BASE];
    const c = this.zi[z * Z.W + Z.CLS];
    const mag = this.mag;
    const row = c << G.WSHIFT;
    if (mag[row + G.HELD] - mag[row + G.N] <= this.magLive) {
      if (mag[row + G.N] > 0) this.drain(c, mag[row + G.N]);
      mag[row + G.HELD]--;
      this.put(z, i, true);
      return;
    }
    if (mag[row + G.N] === G.SIZE) this.drain(c, G.BATCH);
    const n = mag[row + G.N];
    this.links[at] = B.MAG;
    mag[row + G.AT + n] = at;
    this.magVa[(c << G.SHIFT) + n] = vaddr;
    mag[row + G.N] = n + 1;
  }

  // Gives the oldest k blocks of class c's magazine back to their zones (which may empty and release a zone).
  private drain(c: number, k: number): void {
    const mag = this.mag;
    const row = c << G.WSHIFT;
    const first = c << G.SHIFT;
    const n = mag[row + G.N];
    // Out of the magazine first (put may release zones and descriptors, never a block in a magazine).
    const ats = this.drained;
    const vas = this.drainedVa;
    ats.set(mag.subarray(row + G.AT, row + G.AT + k));
    vas.set(this.magVa.subarray(first, first + k));
    mag.copyWithin(row + G.AT, row + G.AT + k, row + G.AT + n);
    this.magVa.copyWithin(first, first + k, first + n);
    mag[row + G.N] = n - k;
    mag[row + G.HELD] -= k;
    for (let j = 0; j < k; j++) {
      const z = this.index.get(Math.floor(vas[j] * this.invPage));
      this.put(z, ats[j] - this.zi[z * Z.W + Z.BASE], true);
    }
  }

  // Every magazine back to the zones: before trim() and before an ENOMEM.
  private drainAll(): void {
    for (let c = 0; c < this.cls.size.length; c++) {
      const n = this.mag[(c << G.WSHIFT) + G.N];
      if (n > 0) this.drain(c, n);
    }
  }

  // kfree of anything the inline path did not free: a far page, a block of a class that is not a power of two, or
  // no live block at all (EINVAL).
  private kfreeSlow(vaddr: number): void {
    if (typeof vaddr !== 'number' || !(vaddr >= 0 && vaddr <= Number.MAX_SAFE_INTEGER)) this.refuseFree(vaddr);
    const z = this.index.get(Math.floor(vaddr * this.invPage));
    if (z === K.NONE) this.refuseFree(vaddr);
    const i = this.blockOf(z, vaddr);
    if (i < 0 || this.links[this.zi[z * Z.W + Z.BASE] + i] !== B.USED) this.refuseFree(vaddr);
    this.kfreeFull(z, this.zi[z * Z.W + Z.BASE] + i, vaddr);
  }

  // The block of zone z starting at vaddr, or -1.
  private blockOf(z: number, vaddr: number): number {
    const size = this.zi[z * Z.W + Z.SIZE];
    const off = vaddr - this.zva[z];
    const i = Math.floor(off / size);
    return i * size === off && i >= 0 && i < this.zi[z * Z.W + Z.BLOCKS] ? i : -1;
  }

  /** The class size `kmalloc(size)` hands out with the default classes, without allocating; its errors otherwise. */
  static sizeOf(size: number): number {
    if (typeof size !== 'number' || !(size >= 1 && size <= K.MAX_SIZE) || size % 1 !== 0) refuseSize(size);
    return size <= 16 ? 16 : 2 ** (32 - Math.clz32(size - 1));
  }

  /** The class size this instance hands out for `size` (its classes per octave); the errors of `kmalloc`. */
  classSize(size: number): number {
    if (typeof size !== 'number' || !(size >= 1 && size <= K.MAX_SIZE) || size % 1 !== 0) refuseSize(size);
    return this.cls.size[classIndex(this.classesPerOctave, size)];
  }

  /** The block size of the live block at `vaddr`, or -1 when `vaddr` is not one (for adapters; no error). */
  blockSize(vaddr: number): number {
    if (typeof vaddr !== 'number' || !(vaddr >= 0 && vaddr <= Number.MAX_SAFE_INTEGER)) return -1;
    const z = this.index.get(Math.floor(vaddr * this.invPage));
    if (z === K.NONE) return -1;
    const i = this.blockOf(z, vaddr);
    return i >= 0 && this.links[this.zi[z * Z.W + Z.BASE] + i] === B.USED ? this.zi[z * Z.W + Z.SIZE] : -1;
  }

  /**
   * Releases every kept empty zone (the hysteresis' and `keepEmptyZones`'), so that every page of a zone with no
   * block in use goes back to the kernel map at once. Returns the zones released.
   */
  trim(): number {
    let n = 0;
    const keep = this.keep;
    const per = this.keepPer;
    // The magazines' blocks back to their zones first (zones that empties beyond the limits go at once: counted).
    const live = this.liveZones;
    this.drainAll();
    n += live - this.liveZones;
    // Releasing a zone frees its descriptor, which can empty a descriptor zone: nothing is kept meanwhile.
    this.keep = 0;
    this.keepPer = 0;
    for (let c = 0; c < this.emptyCount.length; c++) {
      while (this.emptyCount[c] > 0) {
        const z = this.partialTail[c];
        this.unlink(z);
        this.emptyCount[c]--;
        this.release(z);
        n++;
      }
    }
    this.keep = keep;
    this.keepPer = per;
    return n;
  }

  /**
   * The allocator's figures now, per class and in total (see {@link KmallocStats}): a fresh object, computed from
   * the zones and magazines in O(zones + classes). Changes nothing (no magazine is emptied) and never throws.
   */
  stats(): KmallocStats {
    const classes = new Map<number, KmallocClassStats>();
    let free = 0;
    let bytes = 0;
    for (let z = 0; z < this.zones; z++) {
      if (this.zi[z * Z.W + Z.LIVE] === 0) continue;
      const k = this.zi[z * Z.W + Z.CLS];
      const size = this.cls.size[k];
      const blocks = this.cls.blocks[k];
      let c = classes.get(k);
      if (!c) classes.set(k, (c = { size, zones: 0, used: 0, free: 0, bytes: 0, waste: 0 }));
      const zb = this.cls.pages[k] * this.pageSize;
      c.zones++;
      c.used += this.zi[z * Z.W + Z.USED];
      c.free += blocks - this.zi[z * Z.W + Z.USED];
      c.bytes += zb;
      c.waste += zb - blocks * size;
      free += (blocks - this.zi[z * Z.W + Z.USED]) * size;
      bytes += zb;
    }
    // Blocks in magazines are free: their zones count them in use.
    for (let k = 0; k < this.cls.size.length; k++) {
      const n = this.mag[(k << G.WSHIFT) + G.N];
      if (n === 0) continue;
      const c = classes.get(k)!;
      c.used -= n;
      c.free += n;
      free += n * c.size;
    }
    let used = 0;
    for (const c of classes.values()) used += c.used * c.size;
    return {
      classes: [...classes.values()].sort((a, b) => a.size - b.size),
      used,
      free,
      zones: this.liveZones,
      bytes,
      headerBlocks: this.clsFree[this.hdr],
    };
  }

  /**
   * The zones of every class as text, as the original's `vm_kmallocDump` prints each class's list of
   * `zone(used/blocks)`: a header line (`kmalloc: Z zones, U bytes used, F bytes free`, the {@link stats} figures),
   * then one line per class with zones, by increasing block size — the block size, then each zone's kernel address
   * with its blocks in use and its blocks, in address order, and how many freed blocks wait in the class's
   * magazine (a zone counts those in use; they are free). Reads nothing through the kernel map; changes nothing.
   */
  dump(): string {
    const s = this.stats();
    const byClass = new Map<number, number[]>();
    for (let z = 0; z < this.zones; z++) {
      if (this.zi[z * Z.W + Z.LIVE] === 0) continue;
      const k = this.zi[z * Z.W + Z.CLS];
      let list = byClass.get(k);
      if (list === undefined) byClass.set(k, (list = []));
      list.push(z);
    }
    const lines = [`kmalloc: ${s.zones} zone${s.zones === 1 ? '' : 's'}, ${s.used} bytes used, ${s.free} bytes free`];
    const classes = [...byClass.keys()].sort((a, b) => this.cls.size[a] - this.cls.size[b]);
    const width = Math.max(...classes.map((k) => String(this.cls.size[k]).length));
    for (const k of classes) {
      const zs = byClass.get(k)!.sort((a, b) => this.zva[a] - this.zva[b]);
      const list = zs.map((z) => `${hex(this.zva[z])}(${this.zi[z * Z.W + Z.USED]}/${this.cls.blocks[k]})`).join(' ');
      const mag = this.mag[(k << G.WSHIFT) + G.N];
      lines.push(`${String(this.cls.size[k]).padStart(width)} B: ${list}${mag > 0 ? `; ${mag} free in the magazine` : ''}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /**
   * Verifies every invariant: zones without overlap, each zone's free list, fresh mark and block words, its class
   * figures, the page index maps exactly the zones' pages, each class's list holds exactly its zones with a free
   * block (kept empty zones behind the zones in use, within the hysteresis' limit), per-class free-block, zone and
   * zones-in-use counts, every zone but the first described by a live descriptor block that says what it describes,
   * and the spare-descriptor rule.
   */
  check(): void {
    const { size: sizes, blocks: nBlocks, pages: nPages } = this.cls;
    let live = 0;
    let pagesHeld = 0;
    const headers = new Set<number>();
    const order: number[] = [];
    const zonesInUse = new Int32Array(this.inUse.length);
    const clsFree = new Int32Array(this.clsFree.length);
    const clsZones = new Int32Array(this.clsFree.length);
    const clsLive = new Int32Array(this.clsFree.length);
    const clsMag = new Int32Array(this.clsFree.length);
    for (let z = 0; z < this.zones; z++) {
      if (this.zi[z * Z.W + Z.LIVE] === 0) continue;
      live++;
      order.push(z);
      const c = this.zi[z * Z.W + Z.CLS];
      const blocks = nBlocks[c];
      const base = this.zi[z * Z.W + Z.BASE];
      const fresh = this.zi[z * Z.W + Z.FRESH];
      invariant(fresh >= 0 && fresh <= blocks, `zone ${z}: fresh mark ${fresh} of ${blocks} blocks`);
      const seen = new Uint8Array(blocks);
      let onList = 0;
      for (let i = this.zi[z * Z.W + Z.HEAD]; i !== B.END; i = this.links[base + i]) {
        invariant(i >= 0 && i < fresh && seen[i] === 0, `zone ${z}: free list holds block ${i} badly`);
        seen[i] = 1;
        onList++;
      }
      let inUse = 0;
      for (let i = 0; i < blocks; i++) {
        const s = this.links[base + i];
        const taken = s === B.USED || s === B.DESCRIPTOR || s === B.MAG;
        if (s === B.USED) clsLive[c]++;
        if (s === B.MAG) clsMag[c]++;
        invariant(i < fresh || !taken, `zone ${z}: block ${i} past the fresh mark is in use`);
        invariant(taken || i >= fresh || seen[i] === 1, `zone ${z}: free block ${i} is not on the free list`);
        invariant(!taken || seen[i] === 0, `zone ${z}: block ${i} in use is on the free list`);
        if (taken) inUse++;
        if (s === B.DESCRIPTOR) invariant(c === this.hdr, `zone ${z}: a descriptor in class ${sizes[c]}`);
      }
      invariant(onList + inUse === fresh, `zone ${z}: ${onList} listed free and ${inUse} in use below the fresh mark ${fresh}`);
      invariant(inUse === this.zi[z * Z.W + Z.USED], `zone ${z} counts ${this.zi[z * Z.W + Z.USED]} blocks in use, states say ${inUse}`);
      if (inUse > 0) zonesInUse[c]++;
      clsFree[c] += blocks - inUse;
      clsZones[c]++;
      invariant(this.zi[z * Z.W + Z.SIZE] === sizes[c] && this.zi[z * Z.W + Z.BLOCKS] === blocks, `zone ${z}: class figures ${this.zi[z * Z.W + Z.SIZE]} × ${this.zi[z * Z.W + Z.BLOCKS]}, class ${sizes[c]} × ${blocks}`);
      for (let p = 0; p < nPages[c]; p++) {
        const pn = Math.floor(this.zva[z] * this.invPage) + p;
        invariant(this.index.get(pn) === z, `page ${p} of zone ${z} is not indexed to it`);
        const k = pn - this.index.lo;
        if (k >= 0 && k < this.index.win.length) {
          const word = this.fastWord(z, p);
          const ok = word < 0 ? this.index.fast[2 * k] === -1 : this.index.fast[2 * k] === word && this.index.fast[2 * k + 1] === ((c << 5) | this.zi[z * Z.W + Z.SHIFT]);
          invariant(ok, `page ${p} of zone ${z}: fast entry ${this.index.fast[2 * k]}, ${this.index.fast[2 * k + 1]}, expected word ${word}`);
        }
      }
      pagesHeld += nPages[c];
      if (z !== 0) {
        const h = this.zhdr[z];
        const hz = this.index.get(Math.floor(h * this.invPage));
        const hi = hz === K.NONE ? -1 : (h - this.zva[hz]) / sizes[this.zi[hz * Z.W + Z.CLS]];
        invariant(hz !== K.NONE && this.zi[hz * Z.W + Z.CLS] === this.hdr && this.links[this.zi[hz * Z.W + Z.BASE] + hi] === B.DESCRIPTOR, `zone at ${hex(this.zva[z])} has no live descriptor`);
        invariant(!headers.has(h), `two zones share descriptor ${hex(h)}`);
        headers.add(h);
        invariant(this.kmap.read32(h) === 0x454e4f5a && this.kmap.read32(h + 4) === this.zva[z] >>> 0, `descriptor ${hex(h)} does not describe zone ${hex(this.zva[z])}`);
      } else {
        invariant(c === this.hdr, 'the first zone is not a descriptor zone');
      }
    }
    invariant(live === this.liveZones, `kmalloc counts ${this.liveZones} zones, ${live} are live`);
    for (let k = 0; k < this.index.win.length; k++) {
      invariant(this.index.win[k] !== K.NONE || this.index.fast[2 * k] === -1, `page ${hex(this.index.lo + k)} has a fast entry and no zone`);
    }
    invariant(this.index.entries === pagesHeld, `the page index holds ${this.index.entries} pages, zones ${pagesHeld}`);
    order.sort((a, b) => this.zva[a] - this.zva[b]);
    for (let k = 1; k < order.length; k++) {
      const p = order[k - 1];
      invariant(this.zva[p] + nPages[this.zi[p * Z.W + Z.CLS]] * this.pageSize <= this.zva[order[k]], `zones at ${hex(this.zva[p])} and ${hex(this.zva[order[k]])} overlap`);
    }
    // 1: on its list in use (or the first zone), 2: on its list kept empty.
    const listed = new Uint8Array(this.zones);
    for (let c = 0; c < this.partial.length; c++) {
      let prev = K.NONE;
      let kept = 0;
      for (let z = this.partial[c]; z !== K.NONE; z = this.zi[z * Z.W + Z.NEXT]) {
        invariant(this.zi[z * Z.W + Z.LIVE] === 1 && this.zi[z * Z.W + Z.CLS] === c && (prev === K.NONE || this.zi[z * Z.W + Z.PREV] === prev) && listed[z] === 0, `list ${sizes[c]} is inconsistent`);
        const used = this.zi[z * Z.W + Z.USED];
        invariant(used < nBlocks[c], `zone ${z} on list ${sizes[c]} is full`);
        const empty = used === 0 && z !== 0;
        // Kept zones after every zone in use: the head is in use when the class has one, the tail kept if any is.
        invariant(empty || kept === 0, `zone ${z} in use after a kept empty zone on list ${sizes[c]}`);
        if (empty) kept++;
        listed[z] = empty ? 2 : 1;
        prev = z;
      }
      invariant(prev === K.NONE || this.partialTail[c] === prev, `list ${sizes[c]} ends at ${prev}, its tail says ${this.partialTail[c]}`);
      invariant(zonesInUse[c] === this.inUse[c], `class ${sizes[c]} counts ${this.inUse[c]} zones in use, ${zonesInUse[c]} are`);
      invariant(kept === this.emptyCount[c] && kept <= this.keepLimit(c, this.inUse[c]), `class ${sizes[c]} keeps ${kept} empty zones (counted ${this.emptyCount[c]}, limit ${this.keepLimit(c, this.inUse[c])})`);
    }
    for (const z of order) {
      const c = this.zi[z * Z.W + Z.CLS];
      const full = this.zi[z * Z.W + Z.USED] === nBlocks[c];
      invariant(full === (listed[z] === 0), `zone at ${hex(this.zva[z])}: on a list ${listed[z] !== 0}, full ${full}`);
      invariant(z === 0 || this.zi[z * Z.W + Z.USED] > 0 || listed[z] === 2, `empty zone at ${hex(this.zva[z])} was not released`);
    }
    for (let c = 0; c < this.clsFree.length; c++) {
      invariant(this.clsFree[c] === clsFree[c] && this.clsZones[c] === clsZones[c], `class ${sizes[c]} counts ${this.clsFree[c]} free blocks in ${this.clsZones[c]} zones, zones say ${clsFree[c]} in ${clsZones[c]}`);
    }
    invariant(this.clsFree[this.hdr] >= 1, 'no spare zone descriptor left');
    // Magazines: exactly the blocks marked so, each once, of its class; only while the class has enough live blocks.
    const inMag = new Set<number>();
    for (let c = 0; c < sizes.length; c++) {
      const n = this.mag[(c << G.WSHIFT) + G.N];
      const held = this.mag[(c << G.WSHIFT) + G.HELD];
      invariant(n >= 0 && n <= G.SIZE && n === clsMag[c], `class ${sizes[c]}: magazine holds ${n}, ${clsMag[c]} blocks are marked in one`);
      invariant(held === clsLive[c] + n, `class ${sizes[c]} counts ${held} blocks held, zones say ${clsLive[c]} live and ${n} in its magazine`);
      invariant(n === 0 || clsLive[c] >= this.magLive, `class ${sizes[c]}: ${n} blocks in a magazine with ${clsLive[c]} live`);
      for (let j = 0; j < n; j++) {
        const va = this.magVa[(c << G.SHIFT) + j];
        const at = this.mag[(c << G.WSHIFT) + G.AT + j];
        const z = this.index.get(Math.floor(va * this.invPage));
        const i = z === K.NONE ? -1 : this.blockOf(z, va);
        invariant(i >= 0 && this.zi[z * Z.W + Z.CLS] === c && this.zi[z * Z.W + Z.BASE] + i === at && !inMag.has(va), `class ${sizes[c]}: magazine entry ${hex(va)} is not a block of its own`);
        invariant(this.links[at] === B.MAG, `class ${sizes[c]}: magazine block ${hex(va)} is not marked free`);
        inMag.add(va);
      }
    }
  }

  // Makes sure class c has a zone with a free block, applying the spare-descriptor rule of the original: the last
  // free descriptor may only describe a new descriptor zone, so that zone is made now when this call is about to
  // take a descriptor-sized block (a new zone's descriptor, or a block of the descriptors' own class). Made in any
  // other case it would stay empty, a zone never released. A failure leaves nothing behind.
  private refill(c: number): void {
    const needZone = this.partial[c] === K.NONE;
    let spare = K.NONE;
    if (this.clsFree[this.hdr] === 1 && (c === this.hdr || needZone)) spare = this.addZone(this.hdr);
    if (this.partial[c] === K.NONE) {
      try {
        this.addZone(c);
      } catch (e) {
        if (spare !== K.NONE) this.dropZone(spare);
        throw e;
      }
    }
  }

  // A new zone for class c at the head of its list (counted as kept until its first block is taken), described by
  // a descriptor block; on failure nothing is left behind (kept empty zones are given back first and the zone
  // tried again before ENOMEM is let through).
  private addZone(c: number): number {
    // Kept empty descriptor zones are on the descriptor list like any other: the descriptor comes from one of them.
    const header = this.take(this.hdr, B.DESCRIPTOR);
    let z: number;
    try {
      z = this.makeZone(c, header);
    } catch (e) {
      if (!(e instanceof VmError) || e.code !== 'ENOMEM' || (this.drainAll(), this.emptyTotal() === 0)) {
        this.undoDescriptor(header);
        throw e;
      }
      this.trim();
      try {
        z = this.makeZone(c, header);
      } catch (e2) {
        this.undoDescriptor(header);
        throw e2;
      }
    }
    this.link(z);
    this.emptyCount[c]++;
    return z;
  }

  private emptyTotal(): number {
    let n = 0;
    for (let c = 0; c < this.emptyCount.length; c++) n += this.emptyCount[c];
    return n;
  }

  // Maps the zone's pages and gives it a row (a released id of the class when there is one); not linked anywhere.
  private makeZone(c: number, header: number): number {
    const pages = this.cls.pages[c];
    const va = this.kmap.allocPages(pages);
    let z: number;
    const ids = this.spareIds[c];
    if (ids.length > 0) z = ids.pop()!;
    else z = this.newRow(this.cls.blocks[c]);
    this.zva[z] = va;
    this.zhdr[z] = header;
    this.zi[z * Z.W + Z.CLS] = c;
    this.zi[z * Z.W + Z.USED] = 0;
    this.zi[z * Z.W + Z.HEAD] = B.END;
    this.zi[z * Z.W + Z.FRESH] = 0;
    this.zi[z * Z.W + Z.PREV] = this.zi[z * Z.W + Z.NEXT] = K.NONE;
    this.zi[z * Z.W + Z.LIVE] = 1;
    const size = this.cls.size[c];
    this.zi[z * Z.W + Z.SIZE] = size;
    this.zi[z * Z.W + Z.BLOCKS] = this.cls.blocks[c];
    this.zi[z * Z.W + Z.SHIFT] = (size & (size - 1)) === 0 ? 31 - Math.clz32(size) : 31;
    this.clsFree[c] += this.cls.blocks[c];
    this.clsZones[c]++;
    this.liveZones++;
    const pn = Math.floor(va * this.invPage);
    for (let p = 0; p < pages; p++) this.index.set(pn + p, z);
    for (let p = 0; p < pages; p++) {
      const word = this.fastWord(z, p);
      if (word >= 0) this.index.setFast(pn + p, word, (c << 5) | this.zi[z * Z.W + Z.SHIFT]);
    }
    if (header !== K.NONE) {
      // The descriptor's bytes say what it describes, as the original's vm_zone_t would in a memory dump:
      // little-endian { magic 'ZONE', vaddr low, vaddr high, blockSize, blocks, pages }.
      const b = this.scratch;
      put32(b, 0, 0x454e4f5a);
      put32(b, 4, va >>> 0);
      put32(b, 8, Math.floor(va / 2 ** 32));
      put32(b, 12, this.cls.size[c]);
      put32(b, 16, this.cls.blocks[c]);
      put32(b, 20, pages);
      this.kmap.write(header, b);
    }
    return z;
  }

  // The word of the first block on page p of zone z for kfree's fast entry, or -1 for none: a power-of-two class
  // whose blocks tile the zone's pages (each page's first block), or a zone of one block (its first page only).
  private fastWord(z: number, p: number): number {
    const c = this.zi[z * Z.W + Z.CLS];
    const size = this.cls.size[c];
    const blocks = this.cls.blocks[c];
    if (this.zi[z * Z.W + Z.SHIFT] === 31) return -1;
    if (blocks === 1) return p === 0 ? this.zi[z * Z.W + Z.BASE] : -1;
    if (blocks * size !== this.cls.pages[c] * this.pageSize) return -1;
    return this.zi[z * Z.W + Z.BASE] + (p * this.pageSize) / size;
  }

  private newRow(blocks: number): number {
    const z = this.zones++;
    if (z * Z.W === this.zi.length) {
      this.zi = grow(this.zi, z * 2 * Z.W);
      this.zva = grow(this.zva, z * 2);
      this.zhdr = grow(this.zhdr, z * 2);
    }
    if (this.rows + blocks > this.links.length) this.links = grow(this.links, Math.max(this.links.length * 2, this.rows + blocks));
    this.zi[z * Z.W + Z.BASE] = this.rows;
    this.rows += blocks;
    return z;
  }

  // Releases an empty zone made by this call (undo path) and returns its descriptor.
  private dropZone(z: number): void {
    this.unlink(z);
    this.emptyCount[this.zi[z * Z.W + Z.CLS]]--;
    this.release(z);
  }

  // Unmaps an empty zone that is on no list, frees its row and its descriptor (which may empty a descriptor zone).
  private release(z: number): void {
    const c = this.zi[z * Z.W + Z.CLS];
    const pages = this.cls.pages[c];
    this.clsFree[c] -= this.cls.blocks[c];
    this.clsZones[c]--;
    this.kmap.freePages(this.zva[z]);
    const pn = Math.floor(this.zva[z] * this.invPage);
    for (let p = 0; p < pages; p++) this.index.delete(pn + p);
    this.zi[z * Z.W + Z.LIVE] = 0;
    this.liveZones--;
    this.spareIds[c].push(z);
    this.putDescriptor(this.zhdr[z]);
  }

  // Gives back a descriptor addZone took, leaving its zone as it was: a zone it emptied again goes back to the tail
  // of its list, counted as kept (an empty spare zone made by the same call is then dropped by the caller).
  private undoDescriptor(header: number): void {
    const hz = this.index.get(Math.floor(header * this.invPage));
    this.put(hz, (header - this.zva[hz]) / ZONE_HEADER_SIZE, false);
  }

  private putDescriptor(header: number): void {
    const hz = this.index.get(Math.floor(header * this.invPage));
    this.put(hz, (header - this.zva[hz]) / ZONE_HEADER_SIZE, true);
  }

  // Hands out a block of the head zone of class c's list (the caller made sure there is one).
  private take(c: number, as: number): number {
    const z = this.partial[c];
    const zi = this.zi;
    const links = this.links;
    const o = z * Z.W;
    const base = zi[o + Z.BASE];
    let i = zi[o + Z.HEAD];
    // Blocks never handed out are taken from the fresh mark: a new zone's free list is never written.
    if (i !== B.END) zi[o + Z.HEAD] = links[base + i];
    else i = zi[o + Z.FRESH]++;
    links[base + i] = as;
    this.clsFree[c]--;
    const used = ++zi[o + Z.USED];
    if (used === zi[o + Z.BLOCKS]) this.partial[c] = zi[o + Z.NEXT];
    if (used === 1) this.reused(z, c);
    return this.zva[z] + i * zi[o + Z.SIZE];
  }

  // Zone z of class c has just handed out its first block: a kept (or new) empty zone is in use again.
  private reused(z: number, c: number): void {
    this.inUse[c]++;
    if (z !== 0) this.emptyCount[c]--;
  }

  // Frees block i of zone z (the caller checked it is in use); an emptied zone is kept or released, and its
  // descriptor freed in turn (`release` false: kept whatever the limit, for undoDescriptor).
  private put(z: number, i: number, release: boolean): void {
    const zi = this.zi;
    const o = z * Z.W;
    this.links[zi[o + Z.BASE] + i] = zi[o + Z.HEAD];
    zi[o + Z.HEAD] = i;
    this.clsFree[zi[o + Z.CLS]]++;
    const used = --zi[o + Z.USED];
    if (used === 0) this.emptied(z, zi[o + Z.CLS], release);
    else if (used === zi[o + Z.BLOCKS] - 1) this.link(z);
  }

  // The last block of zone z was freed. The first zone stays where it is; any other goes to the tail of its list as
  // a kept zone, and the class then gives back kept zones beyond its limit.
  private emptied(z: number, c: number, release: boolean): void {
    const inUse = --this.inUse[c];
    if (z === 0) return;
    // A one-block zone was full, on no list, whose list holds kept zones only: it goes to the head, to be the next
    // one taken (its row and pages are the ones in cache) and the last one released. A larger zone was on its list
    // among the zones in use: it goes to the tail, behind them.
    if (this.zi[z * Z.W + Z.BLOCKS] === 1) {
      this.link(z);
    } else {
      this.unlink(z);
      this.append(z);
    }
    const kept = ++this.emptyCount[c];
    if (release && kept > this.keepLimit(c, inUse)) this.shrink(c);
  }

  // Releases kept zones of class c, from the tail, while there are more than keepLimit allows. The limit falls with
  // the zones in use, so the last kept zone goes when the class has fewer than keepEmptyPer zones in use.
  private shrink(c: number): void {
    for (;;) {
      if (this.emptyCount[c] <= this.keepLimit(c, this.inUse[c])) return;
      const z = this.partialTail[c];
      this.unlink(z);
      this.emptyCount[c]--;
      this.release(z);
    }
  }

  // How many emptied zones class c may keep with `inUse` zones in use: keepEmptyZones, or one per keepEmptyPer zones
  // in use if more. Not the descriptor class by the proportion: its zones in use may hold nothing but the
  // descriptors of its kept zones, which would then keep each other for ever.
  private keepLimit(c: number, inUse: number): number {
    const per = this.keepPer;
    const proportional = per === 0 || c === this.hdr ? 0 : Math.floor(inUse / per);
    return proportional > this.keep ? proportional : this.keep;
  }

  // A class's list: zones with a free block, taken from the head. Zones in use are linked at the head, emptied ones
  // appended at the tail, so the head is a zone in use whenever the class has one, and the tail is a kept zone
  // whenever the class keeps one. Doubly linked, but the head's Z.PREV is not kept (`partial` says which zone is the
  // head) and the tail is kept only while the list is not empty, so a zone filling at the head leaves the list
  // with one store: `partial[c] = next`.
  private link(z: number): void {
    const zi = this.zi;
    const c = zi[z * Z.W + Z.CLS];
    const head = this.partial[c];
    zi[z * Z.W + Z.NEXT] = head;
    if (head !== K.NONE) zi[head * Z.W + Z.PREV] = z;
    else this.partialTail[c] = z;
    this.partial[c] = z;
  }

  private append(z: number): void {
    const zi = this.zi;
    const c = zi[z * Z.W + Z.CLS];
    zi[z * Z.W + Z.NEXT] = K.NONE;
    if (this.partial[c] === K.NONE) {
      this.partial[c] = z;
    } else {
      const tail = this.partialTail[c];
      zi[tail * Z.W + Z.NEXT] = z;
      zi[z * Z.W + Z.PREV] = tail;
    }
    this.partialTail[c] = z;
  }

  private unlink(z: number): void {
    const zi = this.zi;
    const c = zi[z * Z.W + Z.CLS];
    const next = zi[z * Z.W + Z.NEXT];
    if (this.partial[c] === z) {
      this.partial[c] = next;
    } else {
      const prev = zi[z * Z.W + Z.PREV];
      zi[prev * Z.W + Z.NEXT] = next;
      if (next !== K.NONE) zi[next * Z.W + Z.PREV] = prev;
      else this.partialTail[c] = prev;
    }
  }

  // The error for an address kfree refuses, with the reason the old code gave.
  private refuseFree(vaddr: unknown): never {
    let why = 'not a kmalloc block';
    if (typeof vaddr === 'number' && Number.isSafeInteger(vaddr) && vaddr >= 0) {
      const z = this.index.get(Math.floor(vaddr * this.invPage));
      if (z !== K.NONE) {
        const c = this.zi[z * Z.W + Z.CLS];
        const off = vaddr - this.zva[z];
        const i = off / this.cls.size[c];
        if (Number.isInteger(i) && i < this.cls.blocks[c]) {
          const s = this.links[this.zi[z * Z.W + Z.BASE] + i];
          why = s === B.DESCRIPTOR ? 'a zone descriptor' : 'already free (double free)';
        }
      }
    }
    throw new VmError('EINVAL', `vaddr ${hex(vaddr)} is ${why}`);
  }
}

// The error for a size kmalloc refuses: EINVAL unless a valid size, then ENOMEM (larger than the largest class).
function refuseSize(size: unknown): never {
  checkSize('size', size);
  throw new VmError('ENOMEM', `size ${hex(size)} is larger than the largest class (8 MiB)`);
}

function refuseInjected(size: number): never {
  throw new VmError('ENOMEM', `kmalloc(${hex(size)}) failed (injected)`);
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
