import type { BoardMemoryMap } from './board.js';
import { VmError } from './errors.js';
import { hex, isPowerOfTwo } from './validate.js';

/*
 * The state word: one Uint16 per frame. The low byte is the original's `page_t.flags` (free bit, owner bits 1–3,
 * usage bits 4–7); the high byte says where the frame stands in the buddy system.
 *
 *   bit  0      FREE   free (in the buddy, or on the per-CPU list)
 *   bits 1–3    owner  PageOwner
 *   bits 4–7    usage  PageUsage
 *   bits 8–11   order  block order, on a block's head frame (0–15)
 *   bit  12     HEAD   the frame heads a block (allocated or free)
 *   bit  13     PCP    a free order-0 frame on the per-CPU list, not on a buddy free list
 *   bit  14     RAM    the frame exists; 0 in a hole between banks (and in every slot past a bank's end)
 *
 * Only a block's head carries flags and order; a tail frame is {@link TAIL}, whatever its block.
 * A hole is the word 0, which is also what an out-of-bounds typed-array read turns into after `& mask`, so no
 * check on the hot path can mistake a hole or a stray index for a frame.
 */
export const FRAME_FREE = 0x0001;
export const OWNER_SHIFT = 1;
export const OWNER_MASK = 0x000e;
export const USAGE_SHIFT = 4;
export const USAGE_MASK = 0x00f0;
export const FLAGS_MASK = 0x00ff;
export const ORDER_SHIFT = 8;
export const ORDER_MASK = 0x0f00;
export const S_HEAD = 0x1000;
export const S_PCP = 0x2000;
export const S_RAM = 0x4000;
/** A free block's head of order 0 (add `order << ORDER_SHIFT`). */
export const FREE_HEAD = S_RAM | S_HEAD | FRAME_FREE;
/**
 * Every tail frame, free or allocated: a block's owner, usage and freedom are its head's (as a Linux compound
 * page's tails defer to `compound_head`), so allocating or freeing a block writes one state word, not 2^order.
 */
export const TAIL = S_RAM;
/** A free order-0 frame parked on the per-CPU list. */
export const PCP_FRAME = S_RAM | S_HEAD | S_PCP | FRAME_FREE;

/**
 * Frames per section: 2^15 (128 MiB of 4 KiB pages, 16 MiB of 512-byte pages), the unit in which frame metadata is
 * allocated — Linux's SPARSEMEM section (also 128 MiB on x86-64). A section is 192 KiB of metadata (6 bytes per
 * frame), so the one a board's firmware and kernel image sit in fits the 1 MiB boot budget; it is also the largest
 * block order, so a section no one has touched is exactly one free block of the largest order and needs no
 * metadata at all.
 */
export const SECTION_SHIFT = 15;
export const SECTION_FRAMES = 1 << SECTION_SHIFT;
export const SECTION_MASK = SECTION_FRAMES - 1;

/** A bank of RAM: page numbers `[pnStart, pnEnd)` (address ÷ page size), below 2^31. */
export interface FrameBank {
  readonly base: number;
  readonly end: number;
  readonly pnStart: number;
  readonly pnEnd: number;
  readonly frames: number;
}

/** Page numbers must fit in 31 bits so buddy arithmetic stays in int32 (RAM below 8 TiB with 4 KiB pages). */
export const MAX_PAGE_NUMBER = 2 ** 31;

/**
 * The most frames a `PageAllocator` manages: 2^31, as many as there are page numbers. Frame metadata is allocated
 * per touched section, so RAM size costs nothing at boot; what bounds a board is that page numbers fit in 31 bits.
 */
export const MAX_FRAMES = MAX_PAGE_NUMBER;

const EMPTY_STATE = new Uint16Array(0);
const EMPTY_LINKS = new Int32Array(0);
const EMPTY_COUNTS = new Uint16Array(0);
const EMPTY_LRU = new Int32Array(0);

/**
 * A mapping count word holding this value stands for a count of 65535 or more, kept exactly in the allocator's
 * overflow `Map` (a shared zero page may be mapped by more processes than a `Uint16` counts).
 */
export const COUNT_OVERFLOW = 0xffff;

/**
 * The page-frame database, allocated lazily per section of {@link SECTION_FRAMES} frames and indexed by page
 * number, so a frame's metadata is found without a bank search and a hole between banks has no entry unless it
 * shares a section with RAM (its state word is then 0).
 *
 * Per frame: a 2-byte state word (above) and one Int32 link. A free block on a free list at head `h` keeps its
 * `next` in `link[h]` and its `prev` in `link[h ^ 1]`: for a block of order ≥ 1 that is its first tail, for an
 * order-0 block its buddy — which is allocated, on the per-CPU list or a hole (a free buddy would have been
 * merged), so its own slot is unused. 6 bytes per touched frame; the original's `page_t` is 24 or more. Reclaim's
 * hooks add a `Uint16` mapping count and an `Int32` LRU word per frame, each allocated per section only when the
 * section first uses it: 12 bytes per frame with both in use, 6 on a board that never reclaims.
 */
export class FrameTable {
  declare readonly pageSize: number;
  declare readonly pageShift: number;
  /** Frames of RAM (`ram` and `reserved`). */
  declare readonly count: number;
  declare readonly banks: readonly FrameBank[];
  /** Reserved ranges as page numbers `[a, z)`. */
  declare readonly reserved: readonly { readonly a: number; readonly z: number }[];
  /** Section number of directory entry 0 (the lowest section holding RAM). */
  declare readonly secBase: number;
  /**
   * State words per section, from entry 0 up to the highest live section (a shared empty array for a section
   * that is not live). Sections past the end are not live either; the directory grows when one becomes live, so a
   * board's boot costs nothing per section.
   */
  readonly state: Uint16Array[] = [];
  /** Links per section, as {@link state}. */
  readonly links: Int32Array[] = [];
  /**
   * Mapping counts per section (reclaim's hooks), as {@link state} but allocated only when a frame of the section
   * first gets a mapping (a shared empty array until then): 2 bytes per frame of such a section.
   */
  readonly counts: Uint16Array[] = [];
  /** LRU words per section, allocated only when a frame of the section first gets a nonzero one: 4 bytes per frame. */
  readonly lru: Int32Array[] = [];
  /** Sections that are still untouched, and the lowest directory index that may be one. */
  untouched = 0;
  cursor = 0;

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
    this.banks = board.banks.map((b) => {
      const pnStart = b.base / pageSize;
      return { base: b.base, end: b.base + b.size, pnStart, pnEnd: pnStart + b.size / pageSize, frames: b.size / pageSize };
    });
    this.reserved = board.regions.filter((r) => r.kind === 'reserved').map((r) => ({ a: r.base / pageSize, z: (r.base + r.size) / pageSize }));
    this.count = total;
    this.secBase = Math.floor(this.banks[0].pnStart / SECTION_FRAMES);
    // Sections wholly inside a bank, less those holding reserved frames (counted once each).
    for (const b of this.banks) this.untouched += Math.max(0, Math.floor(b.pnEnd / SECTION_FRAMES) - Math.ceil(b.pnStart / SECTION_FRAMES));
    let last = -1;
    for (const r of this.reserved) {
      for (let sec = Math.max(last + 1, Math.floor(r.a / SECTION_FRAMES)); sec <= Math.floor((r.z - 1) / SECTION_FRAMES); sec++) {
        if (this.wholeRam(sec)) this.untouched--;
        last = sec;
      }
    }
  }

  /** True when section `sec` (a section number) lies wholly inside one bank. */
  wholeRam(sec: number): boolean {
    const start = sec * SECTION_FRAMES;
    for (const b of this.banks) if (b.pnStart <= start && start + SECTION_FRAMES <= b.pnEnd) return true;
    return false;
  }

  /** True when section `sec` holds a reserved frame. */
  holdsReserved(sec: number): boolean {
    const start = sec * SECTION_FRAMES;
    for (const r of this.reserved) if (r.a < start + SECTION_FRAMES && r.z > start) return true;
    return false;
  }

  /** True when directory entry `d` has metadata. */
  isLive(d: number): boolean {
    return d >= 0 && d < this.state.length && this.state[d].length > 0;
  }

  /**
   * True when directory entry `d` is untouched: wholly RAM, no reserved frame, no metadata yet — one free block of
   * order {@link SECTION_SHIFT} on no list. Any other section with RAM is live from boot on.
   */
  isUntouched(d: number): boolean {
    const sec = this.secBase + d;
    return d >= 0 && !this.isLive(d) && this.wholeRam(sec) && !this.holdsReserved(sec);
  }

  /** Host memory of the live sections' metadata, in bytes. */
  get metadataBytes(): number {
    let n = 0;
    for (let d = 0; d < this.state.length; d++) {
      n += this.state[d].byteLength + this.links[d].byteLength + this.counts[d].byteLength + this.lru[d].byteLength;
    }
    return n;
  }

  /** Allocates directory entry `d`'s metadata: every frame a hole (state 0) until the caller says otherwise. */
  allocate(d: number): void {
    const start = (this.secBase + d) * SECTION_FRAMES;
    let end = start;
    for (const b of this.banks) if (b.pnStart < start + SECTION_FRAMES && b.pnEnd > start) end = Math.min(b.pnEnd, start + SECTION_FRAMES);
    // Up to the last frame of RAM, rounded to even so that every frame's buddy (h ^ 1) has a slot.
    const len = (end - start + 1) & ~1;
    while (this.state.length <= d) {
      this.state.push(EMPTY_STATE);
      this.links.push(EMPTY_LINKS);
      this.counts.push(EMPTY_COUNTS);
      this.lru.push(EMPTY_LRU);
    }
    this.state[d] = new Uint16Array(len);
    this.links[d] = new Int32Array(len);
  }

  /** Allocates live directory entry `d`'s mapping counts (all 0), one per state word; returns them. */
  allocateCounts(d: number): Uint16Array {
    return (this.counts[d] = new Uint16Array(this.state[d].length));
  }

  /** Allocates live directory entry `d`'s LRU words (all 0), one per state word; returns them. */
  allocateLru(d: number): Int32Array {
    return (this.lru[d] = new Int32Array(this.state[d].length));
  }

  /** The lowest untouched section's directory index, or -1. */
  nextUntouched(): number {
    if (this.untouched === 0) return -1;
    for (;;) {
      const sec = this.secBase + this.cursor;
      if (this.isUntouched(this.cursor)) return this.cursor;
      // Skip to the next section boundary inside a bank at or after this one.
      let next = Infinity;
      for (const b of this.banks) {
        const first = Math.max(sec + 1, Math.ceil(b.pnStart / SECTION_FRAMES));
        if (first * SECTION_FRAMES + SECTION_FRAMES <= b.pnEnd) next = Math.min(next, first);
      }
      if (next === Infinity) return -1;
      this.cursor = next - this.secBase;
    }
  }

  /** The state word of page number `pn`; 0 (a hole) when no frame is there, or `-1` in an untouched section. */
  stateOf(pn: number): number {
    if (!Number.isInteger(pn) || pn < 0 || pn >= MAX_PAGE_NUMBER) return 0;
    const d = Math.floor(pn / SECTION_FRAMES) - this.secBase;
    if (!this.isLive(d)) return this.isUntouched(d) && this.bankOfPn(pn) >= 0 ? -1 : 0;
    const st = this.state[d];
    const i = pn & SECTION_MASK;
    return i < st.length ? st[i] : 0;
  }

  /** The bank holding page number `pn` (an index into {@link banks}), or -1. */
  bankOfPn(pn: number): number {
    const banks = this.banks;
    for (let b = 0; b < banks.length; b++) if (pn >= banks[b].pnStart && pn < banks[b].pnEnd) return b;
    return -1;
  }
}
