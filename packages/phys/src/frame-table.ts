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
/** A free block's head of order 0 (add `order << ORDER_SHIFT`), and the tails of a free block. */
export const FREE_HEAD = S_RAM | S_HEAD | FRAME_FREE;
export const FREE_TAIL = S_RAM | FRAME_FREE;
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

/** Section kinds in {@link FrameTable.kind}. */
export const SEC_NONE = 0;
/** Every frame is RAM and free: one free block of order {@link SECTION_SHIFT}, no metadata, on no free list. */
export const SEC_UNTOUCHED = 1;
/** Metadata allocated: the section's frames are in the state and link arrays. */
export const SEC_LIVE = 2;

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

/**
 * The page-frame database, allocated lazily per section of {@link SECTION_FRAMES} frames and indexed by page
 * number, so a frame's metadata is found without a bank search and a hole between banks has no entry unless it
 * shares a section with RAM (its state word is then 0).
 *
 * Per frame: a 2-byte state word (above) and one Int32 link. A free block on a free list at head `h` keeps its
 * `next` in `link[h]` and its `prev` in `link[h ^ 1]`: for a block of order ≥ 1 that is its first tail, for an
 * order-0 block its buddy — which is allocated, on the per-CPU list or a hole (a free buddy would have been
 * merged), so its own slot is unused. 6 bytes per touched frame; the original's `page_t` is 24 or more.
 */
export class FrameTable {
  readonly pageSize: number;
  readonly pageShift: number;
  /** Frames of RAM (`ram` and `reserved`). */
  readonly count: number;
  readonly banks: readonly FrameBank[];
  /** Section number of directory entry 0. */
  readonly secBase: number;
  /** Per directory entry: {@link SEC_NONE}, {@link SEC_UNTOUCHED} or {@link SEC_LIVE}. */
  readonly kind: Uint8Array;
  /** State words per section (a shared empty array for sections that are not live). */
  readonly state: Uint16Array[];
  /** Links per section (a shared empty array for sections that are not live). */
  readonly links: Int32Array[];
  /** Sections not live yet, and the lowest directory index that may be one. */
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
    this.count = total;
    const first = this.banks[0].pnStart >>> SECTION_SHIFT;
    const last = (this.banks[this.banks.length - 1].pnEnd - 1) >>> SECTION_SHIFT;
    this.secBase = first;
    const n = last - first + 1;
    this.kind = new Uint8Array(n);
    this.state = new Array<Uint16Array>(n).fill(EMPTY_STATE);
    this.links = new Array<Int32Array>(n).fill(EMPTY_LINKS);
    // Sections wholly inside a bank start untouched; any other section with RAM is made live by the allocator.
    for (const b of this.banks) {
      const lo = Math.ceil(b.pnStart / SECTION_FRAMES);
      const hi = Math.floor(b.pnEnd / SECTION_FRAMES);
      for (let s = lo; s < hi; s++) this.kind[s - first] = SEC_UNTOUCHED;
      if (hi > lo) this.untouched += hi - lo;
      for (let s = b.pnStart >>> SECTION_SHIFT; s <= (b.pnEnd - 1) >>> SECTION_SHIFT; s++) {
        if (this.kind[s - first] === SEC_NONE) this.kind[s - first] = SEC_LIVE;
      }
    }
    for (const r of board.regions) {
      if (r.kind !== 'reserved') continue;
      const a = r.base / pageSize;
      const z = (r.base + r.size) / pageSize;
      for (let s = a >>> SECTION_SHIFT; s <= (z - 1) >>> SECTION_SHIFT; s++) {
        if (this.kind[s - first] === SEC_UNTOUCHED) this.untouched--;
        this.kind[s - first] = SEC_LIVE;
      }
    }
  }

  /** Host memory of the live sections' metadata, in bytes. */
  get metadataBytes(): number {
    let n = 0;
    for (let d = 0; d < this.state.length; d++) n += this.state[d].byteLength + this.links[d].byteLength;
    return n;
  }

  /** Allocates directory entry `d`'s metadata: every frame a hole (state 0) until the caller says otherwise. */
  allocate(d: number): void {
    const start = (this.secBase + d) * SECTION_FRAMES;
    let end = start;
    for (const b of this.banks) if (b.pnStart < start + SECTION_FRAMES && b.pnEnd > start) end = Math.min(b.pnEnd, start + SECTION_FRAMES);
    // Up to the last frame of RAM, rounded to even so that every frame's buddy (h ^ 1) has a slot.
    const len = (end - start + 1) & ~1;
    this.state[d] = new Uint16Array(len);
    this.links[d] = new Int32Array(len);
  }

  /** The next untouched section's directory index at or after the cursor, or -1. */
  nextUntouched(): number {
    const kind = this.kind;
    while (this.cursor < kind.length && kind[this.cursor] !== SEC_UNTOUCHED) this.cursor++;
    return this.cursor < kind.length ? this.cursor : -1;
  }

  /** The state word of page number `pn`; 0 (a hole) when no frame is there, or `-1` in an untouched section. */
  stateOf(pn: number): number {
    const d = (pn >>> SECTION_SHIFT) - this.secBase;
    if (!Number.isInteger(pn) || pn < 0 || pn >= MAX_PAGE_NUMBER || d < 0 || d >= this.kind.length) return 0;
    if (this.kind[d] === SEC_UNTOUCHED) return -1;
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
