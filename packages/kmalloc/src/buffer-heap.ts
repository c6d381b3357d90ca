import { PageAllocator, PageOwner, PageUsage, PhysicalMemory, VmError, boards, checkSize, hex, isPowerOfTwo } from '@vmlayers/phys';
import type { KernelMemory } from './kernel-memory.js';
import { Kmalloc } from './kmalloc.js';
import type { KmallocOptions, KmallocStats } from './kmalloc.js';

/**
 * Options of {@link createBufferHeap}: kmalloc's ({@link KmallocOptions}; `keepEmptyZones` defaults to 8 here instead
 * of 0) and the heap's page size, all optional. A bad value, or `options` not an object → `EINVAL`.
 */
export interface BufferHeapOptions extends KmallocOptions {
  /** Bytes per page of the heap: a power of two from 512 to 2^20 (default 4096). */
  pageSize?: number;
}

/**
 * What {@link BufferHeap.stats} reports: kmalloc's figures ({@link KmallocStats}, pointers being buffer offsets) and
 * how much of the buffer is left. `capacity − available` is the bytes of pages zones took from the buffer, at least
 * `bytes`: the buddy page allocator rounds a zone of a finer class above a page up to a power of two of pages.
 */
export interface BufferHeapStats extends KmallocStats {
  /** Bytes of the buffer the heap manages (whole pages, less page 0). */
  capacity: number;
  /** Bytes of pages no zone holds. */
  available: number;
}

/** A typed-array constructor that `view` accepts. */
export type TypedArrayConstructor<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  /**
   * Bytes per element: a power of two (1, 2, 4 or 8 for the built-in typed arrays), else `view` → `EINVAL`; `view`
   * also requires `ptr` to be a multiple of it.
   */
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * `Kmalloc` over a caller's `ArrayBuffer` or `SharedArrayBuffer`: pointers are byte offsets into the buffer (never
 * 0: the buffer's first page is left unused, as a C heap never hands out NULL). Bad input → `VmError('EINVAL')`, exhaustion → `ENOMEM`; either
 * way every live block and its bytes are as they were. Single-threaded: only one thread may call the heap, though
 * any may read and write the blocks of a `SharedArrayBuffer`.
 */
export interface BufferHeap {
  /**
   * The buffer given to {@link createBufferHeap}, not copied: a pointer is a byte offset into it. The heap uses its
   * whole pages but page 0; the bytes of a partial last page are never touched.
   */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /**
   * Bytes per page of the heap: a power of two from 512 to 2^20 (the `pageSize` option, default 4096). Zones take
   * whole pages: one for a power-of-two class up to a page (the 64-byte descriptor class at least 16 blocks, so two
   * pages of 512 B), 1, 2, 4 or 8 for a finer class up to a page, one block's worth for a class above a page.
   */
  readonly pageSize: number;
  /** The allocator underneath (its stats, check, trim). */
  readonly kmalloc: Kmalloc;
  /** `size` bytes (1 … 8 MiB), rounded up to the heap's class; not zeroed. */
  malloc(size: number): number;
  /** `n × size` zeroed bytes. */
  calloc(n: number, size: number): number;
  /**
   * The block at `ptr` resized to `size`: the same pointer while `size` is served by the same class, else a new
   * block holding the old bytes (up to `size`) and the old one freed. `ptr` 0 → `malloc(size)`. On `ENOMEM` the
   * old block is untouched.
   */
  realloc(ptr: number, size: number): number;
  /** Frees the block at `ptr`; `free(0)` does nothing, as C's `free(NULL)`. */
  free(ptr: number): void;
  /** Bytes the block at `ptr` may use (its class size). */
  usableSize(ptr: number): number;
  /** The block's bytes: `length` (default its usable size, at most that) bytes from `ptr`. */
  u8(ptr: number, length?: number): Uint8Array;
  /** A typed array over the block (`ptr` aligned to the element size; `length` elements, default as many as fit). */
  view<T>(type: TypedArrayConstructor<T>, ptr: number, length?: number): T;
  /**
   * kmalloc's figures ({@link Kmalloc.stats}) plus the buffer's `capacity` and `available` bytes: a fresh object;
   * changes nothing and never throws.
   */
  stats(): BufferHeapStats;
  /** Every invariant of the allocator and of the page allocator below it. */
  check(): void;
}

const KERNEL_HEAP = { owner: PageOwner.KERNEL, usage: PageUsage.HEAP };

/**
 * A heap over `buffer` (its whole pages but the first; at least three). The pages are handed out by phys's buddy `PageAllocator`
 * over a board the size of the buffer (it keeps only page numbers: no copy of the buffer), zones and classes are
 * kmalloc's. By default a buffer heap keeps up to 8 emptied zones per class (`keepEmptyZones`; more in a large
 * class by kmalloc's `keepEmptyPer` hysteresis), given back before
 * any `ENOMEM`. Bad buffer or options → `EINVAL`.
 */
export function createBufferHeap(buffer: ArrayBuffer | SharedArrayBuffer, options?: BufferHeapOptions): BufferHeap {
  const isBuffer =
    buffer instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer);
  if (!isBuffer) throw new VmError('EINVAL', `buffer must be an ArrayBuffer or SharedArrayBuffer, got ${hex(buffer)}`);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new VmError('EINVAL', `options must be { pageSize?, classesPerOctave?, keepEmptyZones?, keepEmptyPer? }, got ${hex(options)}`);
  }
  const pageSize = options?.pageSize ?? 4096;
  if (!isPowerOfTwo(pageSize) || pageSize < 512 || pageSize > 2 ** 20) {
    throw new VmError('EINVAL', `options.pageSize must be a power of two from 512 to 2^20, got ${hex(pageSize)}`);
  }
  const pages = Math.floor(buffer.byteLength / pageSize);
  if (pages < 3) throw new VmError('EINVAL', `buffer of ${hex(buffer.byteLength)} bytes holds fewer than 3 pages of ${pageSize}`);
  const bytes = pages * pageSize;
  // Page 0 is never handed out, so no pointer is 0 (C's NULL): the page allocator's RAM starts at the second page.
  const mem = new PhysicalMemory(boards.ram(bytes - pageSize, pageSize));
  const alloc = new PageAllocator(mem, { pageSize });
  const u8 = new Uint8Array(buffer, 0, bytes);
  const dv = new DataView(buffer, 0, bytes);
  const runs = new Map<number, number>();
  const kmem: KernelMemory = {
    pageSize,
    alloc,
    allocPages(n: number): number {
      // Exactly n pages (no power-of-two rounding), remembered for the free.
      const pa = alloc.allocExact(n * pageSize, KERNEL_HEAP);
      if (pa < 0) throw new VmError('ENOMEM', `no run of ${n} free pages in the buffer`);
      u8.fill(0, pa, pa + n * pageSize);
      runs.set(pa, n);
      return pa;
    },
    freePages(va) {
      const n = runs.get(va);
      if (n === undefined) throw new VmError('EINVAL', `${hex(va)} is not memory from allocPages`);
      alloc.freeExact(va, n * pageSize);
      runs.delete(va);
    },
    physical: (va) => va,
    read: (va, len) => u8.slice(va, va + len),
    write: (va, b) => u8.set(b, va),
    read32: (va) => dv.getUint32(va, true),
    write32: (va, v) => dv.setUint32(va, v, true),
  };
  const km = new Kmalloc(kmem, {
    classesPerOctave: options?.classesPerOctave,
    keepEmptyZones: options?.keepEmptyZones ?? 8,
    keepEmptyPer: options?.keepEmptyPer,
  });

  const sizeOfLive = (ptr: number): number => {
    const size = km.blockSize(ptr);
    if (size < 0) throw new VmError('EINVAL', `ptr ${hex(ptr)} is not a live block of this heap`);
    return size;
  };
  const malloc = (size: number): number => km.kmalloc(size);
  const free = (ptr: number): void => {
    if (ptr !== 0) km.kfree(ptr);
  };

  return {
    buffer,
    pageSize,
    kmalloc: km,
    malloc,
    free,
    calloc(n: number, size: number): number {
      checkSize('n', n);
      checkSize('size', size);
      const total = n * size;
      if (total > 2 ** 23) throw new VmError('ENOMEM', `calloc(${hex(n)}, ${hex(size)}) is larger than the largest class (8 MiB)`);
      const p = km.kmalloc(total);
      u8.fill(0, p, p + total);
      return p;
    },
    realloc(ptr: number, size: number): number {
      const want = km.classSize(size);
      if (ptr === 0) return km.kmalloc(size);
      const have = sizeOfLive(ptr);
      if (want === have) return ptr;
      const q = km.kmalloc(size);
      u8.copyWithin(q, ptr, ptr + Math.min(have, size));
      km.kfree(ptr);
      return q;
    },
    usableSize: sizeOfLive,
    u8(ptr: number, length?: number): Uint8Array {
      const size = sizeOfLive(ptr);
      const n = length ?? size;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > size) {
        throw new VmError('EINVAL', `length must be an integer from 0 to ${size} (the block's size), got ${hex(n)}`);
      }
      return new Uint8Array(buffer, ptr, n);
    },
    view<T>(type: TypedArrayConstructor<T>, ptr: number, length?: number): T {
      const size = sizeOfLive(ptr);
      const bpe = (type as { BYTES_PER_ELEMENT?: unknown } | null)?.BYTES_PER_ELEMENT;
      if (typeof type !== 'function' || typeof bpe !== 'number' || !isPowerOfTwo(bpe)) {
        throw new VmError('EINVAL', `type must be a typed-array constructor, got ${hex(type)}`);
      }
      if (ptr % bpe !== 0) throw new VmError('EINVAL', `ptr ${hex(ptr)} is not aligned to ${bpe} bytes for ${type.name}`);
      const n = length ?? Math.floor(size / bpe);
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n * bpe > size) {
        throw new VmError('EINVAL', `length must be an integer from 0 to ${Math.floor(size / bpe)} elements, got ${hex(n)}`);
      }
      return new type(buffer, ptr, n);
    },
    stats(): BufferHeapStats {
      return { ...km.stats(), capacity: bytes - pageSize, available: alloc.info().free };
    },
    check(): void {
      km.check();
      alloc.check();
    },
  };
}
