import type { BoardMemoryMap } from './board.js';
import { VmError } from './errors.js';
import { hex, isPowerOfTwo } from './internal/validate.js';

/** Frame flag bits, laid out as the original's `page_t.flags`. */
export const FRAME_FREE = 0x01;
export const OWNER_SHIFT = 1;
export const OWNER_MASK = 0x0e;
export const USAGE_SHIFT = 4;
export const USAGE_MASK = 0xf0;
/** `order` value of a frame that is not the head of a block. */
export const TAIL = 0xff;

/** A bank of frames: `frames` page frames from `base`, numbered from `first` in the frame table. */
export interface FrameBank {
  readonly base: number;
  readonly end: number;
  readonly first: number;
  readonly frames: number;
}

/**
 * The page-frame database: one slot per frame of RAM, in typed arrays (10 bytes a frame), numbered in address
 * order across banks. Holes between banks have no slots, so a frame's number and its address are related
 * through its bank, never by array arithmetic across a hole (the original's `_page_initSizes` bug).
 */
export class FrameTable {
  readonly pageSize: number;
  readonly pageShift: number;
  readonly count: number;
  readonly banks: readonly FrameBank[];
  /** Free-list links (frame numbers, -1 = none); meaningful on free block heads only. */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** log2 of the block size in pages on a block head, {@link TAIL} on every other frame. */
  readonly order: Uint8Array;
  /** {@link FRAME_FREE} | owner << 1 | usage << 4, the same on every frame of a block. */
  readonly flags: Uint8Array;

  constructor(board: BoardMemoryMap, pageSize: number) {
    if (!isPowerOfTwo(pageSize) || pageSize < 512) {
      throw new VmError('EINVAL', `pageSize must be a power of two ≥ 512, got ${String(pageSize)}`);
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
    let first = 0;
    this.banks = board.banks.map((b) => {
      const frames = b.size / pageSize;
      const bank = { base: b.base, end: b.base + b.size, first, frames };
      first += frames;
      return bank;
    });
    this.count = first;
    this.next = new Int32Array(first);
    this.prev = new Int32Array(first);
    this.order = new Uint8Array(first);
    this.flags = new Uint8Array(first);
  }

  /** The frame number of page-aligned `pa`, or -1 when no frame is there. */
  indexOf(pa: number): number {
    const banks = this.banks;
    for (let i = 0; i < banks.length; i++) {
      const b = banks[i];
      if (pa >= b.base && pa < b.end) return b.first + (pa - b.base) / this.pageSize;
    }
    return -1;
  }

  /** The physical address of frame `i`. */
  paOf(i: number): number {
    const banks = this.banks;
    for (let k = 0; k < banks.length; k++) {
      const b = banks[k];
      if (i < b.first + b.frames) return b.base + (i - b.first) * this.pageSize;
    }
    return -1;
  }

  /** The bank frame `i` lies in. */
  bankOf(i: number): FrameBank {
    for (const b of this.banks) if (i < b.first + b.frames) return b;
    throw new RangeError(`frame ${i} outside the table`);
  }
}
