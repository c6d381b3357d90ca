import type { BoardMemoryMap } from './board.js';
import { VmError } from './errors.js';
import { hex, isPowerOfTwo } from './validate.js';

/** Frame flag bits, laid out as the original's `page_t.flags`. */
export const FRAME_FREE = 0x01;
export const OWNER_SHIFT = 1;
export const OWNER_MASK = 0x0e;
export const USAGE_SHIFT = 4;
export const USAGE_MASK = 0xf0;
/** `order` value of a frame that is not the head of a block. */
export const TAIL = 0xff;

/**
 * A bank of frames: `frames` page frames from `base`, numbered from `first` in the frame table. `pnStart`/`pnEnd`
 * are page numbers (address ÷ page size), small integers the buddy arithmetic can use bitwise.
 */
export interface FrameBank {
  readonly base: number;
  readonly end: number;
  readonly pnStart: number;
  readonly pnEnd: number;
  readonly first: number;
  readonly frames: number;
}

/** Page numbers must fit in 31 bits so buddy arithmetic stays in int32 (RAM below 8 TiB with 4 KiB pages). */
export const MAX_PAGE_NUMBER = 2 ** 31;

/**
 * The most frames a `PageAllocator` manages: 2^21, 8 GiB of 4 KiB pages (1 GiB of 512-byte pages). The frame table
 * is 12 bytes per frame allocated at boot, so this bounds boot to 24 MiB of host memory and about 0.1 s; a board
 * with more RAM is refused with `ENOMEM` before anything is allocated (riscv-virt-4g, 2^20 frames, fits).
 */
export const MAX_FRAMES = 2 ** 21;

/** Words per frame in {@link FrameTable.meta}. */
export const FRAME_WORDS = 3;
/** Word offsets inside a frame's slot. */
export const W_NEXT = 0;
export const W_PREV = 1;
/** `order | flags << 8`: the block order on a head ({@link TAIL} elsewhere) and the frame flags. */
export const W_INFO = 2;

/**
 * The page-frame database: one 12-byte slot per frame of RAM in a single `Int32Array`, numbered in address order
 * across banks — the original's `page_t` array without the address (derived from the bank). A frame's links,
 * order and flags share a cache line, which is what makes a free of a random frame cheap. Holes between banks
 * have no slots, so a frame's number and its address are related through its bank, never by array arithmetic
 * across a hole (the original's `_page_initSizes` bug).
 */
export class FrameTable {
  readonly pageSize: number;
  readonly pageShift: number;
  readonly count: number;
  readonly banks: readonly FrameBank[];
  /**
   * {@link FRAME_WORDS} words per frame: free-list links (frame numbers, -1 = none; meaningful on free block
   * heads only) and {@link W_INFO}.
   */
  readonly meta: Int32Array;

  constructor(board: BoardMemoryMap, pageSize: number) {
    if (!isPowerOfTwo(pageSize) || pageSize < 512) {
      throw new VmError('EINVAL', `pageSize must be a power of two ≥ 512, got ${hex(pageSize)}`);
    }
    for (const r of board.regions) {
      if (r.kind !== 'device' && (r.base % pageSize !== 0 || r.size % pageSize !== 0)) {
        throw new VmError(
          'EINVAL',
          `region ${r.name} [${hex(r.base)}, ${hex(r.base + r.size)}) of board ${board.name} is not aligned to the page size ${pageSize}`,
        );
      }
    }
    this.pageSize = pageSize;
    this.pageShift = Math.log2(pageSize);
    let total = 0;
    for (const b of board.banks) {
      if ((b.base + b.size) / pageSize > MAX_PAGE_NUMBER) {
        throw new VmError('EINVAL', `RAM of board ${board.name} ends at ${hex(b.base + b.size)}, above 2^31 pages of ${pageSize} bytes`);
      }
      total += b.size / pageSize;
    }
    if (total > MAX_FRAMES) {
      throw new VmError(
        'ENOMEM',
        `board ${board.name} has ${total} frames of ${pageSize} bytes; the frame table holds at most ${MAX_FRAMES} (${hex(MAX_FRAMES * pageSize)} bytes of RAM)`,
      );
    }
    let first = 0;
    this.banks = board.banks.map((b) => {
      const frames = b.size / pageSize;
      const pnStart = b.base / pageSize;
      // Page numbers and frame numbers are below 2^31: keep them small integers (Smis) for the JIT.
      const bank = {
        base: b.base,
        end: b.base + b.size,
        pnStart: pnStart | 0,
        pnEnd: (pnStart + frames) | 0,
        first: first | 0,
        frames: frames | 0,
      };
      first += frames;
      return bank;
    });
    this.count = first;
    this.meta = new Int32Array(first * FRAME_WORDS);
  }

  /** Block order of frame `i` ({@link TAIL} when it is not a head). */
  order(i: number): number {
    return this.meta[i * FRAME_WORDS + W_INFO] & 0xff;
  }

  /** Flags of frame `i`. */
  flags(i: number): number {
    return this.meta[i * FRAME_WORDS + W_INFO] >>> 8;
  }

  /** The bank holding page number `pn` (an index into {@link banks}), or -1. */
  bankOfPn(pn: number): number {
    const banks = this.banks;
    for (let b = 0; b < banks.length; b++) if (pn >= banks[b].pnStart && pn < banks[b].pnEnd) return b;
    return -1;
  }

  /** The frame number of page-aligned `pa`, or -1 when no frame is there. */
  indexOf(pa: number): number {
    return this.indexOfPn(pa / this.pageSize);
  }

  /** The frame number of page number `pn`, or -1 when no frame is there (or `pn` is not an integer). */
  indexOfPn(pn: number): number {
    const banks = this.banks;
    for (let i = 0; i < banks.length; i++) {
      const b = banks[i];
      if (pn >= b.pnStart && pn < b.pnEnd) return Number.isInteger(pn) ? (b.first + (pn - b.pnStart)) | 0 : -1;
    }
    return -1;
  }

  /** The page number of frame `i`. */
  pnOf(i: number): number {
    const banks = this.banks;
    for (let k = 0; k < banks.length; k++) {
      const b = banks[k];
      if (i < b.first + b.frames) return (b.pnStart + (i - b.first)) | 0;
    }
    return -1;
  }

  /** The physical address of frame `i`. */
  paOf(i: number): number {
    return this.pnOf(i) * this.pageSize;
  }

  /** The bank frame `i` lies in. */
  bankOf(i: number): FrameBank {
    const banks = this.banks;
    for (let k = 0; k < banks.length; k++) if (i < banks[k].first + banks[k].frames) return banks[k];
    throw new RangeError(`frame ${i} outside the table`);
  }
}
