import { VmError, checkInt, hex, invariant } from '@vmlayers/phys';
import type { FaultInjector } from '@vmlayers/phys';

/** Slots per chunk of the backing store: a chunk's bytes exist while one of its slots is in use. */
const CHUNK_SLOTS = 16;

/** The swap device's figures. */
export interface SwapInfo {
  /** Slots the device has (`createVm({ swap: { pages } })`). */
  total: number;
  /** Slots holding a page now. */
  used: number;
  /** Pages written to the device since it was made (swap-outs). */
  writes: number;
  /** Pages read back (swap-ins: major faults). */
  reads: number;
}

/**
 * A swap device: a simulated block store of `pages` page-sized slots, a bitmap allocator over them and a reference
 * count per slot (the number of anons — or other holders — that name the slot; the slot is free at zero), as
 * Linux's `swap_info_struct` with its `swap_map` counts. Slots are handed out next-fit from the last one given, so
 * consecutive swap-outs land in consecutive slots as a real device wants them. The bytes live in chunks of 16
 * slots made when a slot of theirs is first written and dropped when all of them are free again: an empty device
 * costs its bitmap and counts only (about 4.1 bytes a slot).
 */
export class SwapDevice {
  /** Slots the device has. */
  readonly pages: number;
  /** Bytes per slot: the architecture's page size. */
  readonly pageSize: number;
  private readonly faults: FaultInjector;
  private readonly bitmap: Uint32Array;
  private readonly refsOf: Int32Array;
  private readonly chunks = new Map<number, Uint8Array>();
  // Slots in use per chunk, to drop a chunk's bytes when it empties.
  private readonly chunkUse: Uint16Array;
  private hint = 0;
  private usedSlots = 0;
  private writes = 0;
  private reads = 0;

  /** A device of `pages` slots (an integer from 1 to 2^24) of `pageSize` bytes. Bad arguments → `EINVAL`. */
  constructor(pages: number, pageSize: number, faults: FaultInjector) {
    checkInt('swap.pages', pages, 1, 2 ** 24);
    this.pages = pages;
    this.pageSize = pageSize;
    this.faults = faults;
    this.bitmap = new Uint32Array(Math.ceil(pages / 32));
    this.refsOf = new Int32Array(pages);
    this.chunkUse = new Uint16Array(Math.ceil(pages / CHUNK_SLOTS));
  }

  /** Slots in use. */
  get used(): number {
    return this.usedSlots;
  }

  /** Free slots. */
  get free(): number {
    return this.pages - this.usedSlots;
  }

  /**
   * A free slot with one reference, or -1 when the device is full or the fault injector fails the `swap` site (as
   * exhaustion: nothing taken).
   */
  alloc(): number {
    if (this.faults.hit('swap')) return -1;
    if (this.usedSlots === this.pages) return -1;
    const words = this.bitmap.length;
    for (let n = 0, w = this.hint >>> 5; n <= words; n++, w = w + 1 === words ? 0 : w + 1) {
      const bits = this.bitmap[w];
      if (bits === 0xffffffff) continue;
      // The lowest clear bit of the word, at or after the hint in the hint's own word.
      const start = w === this.hint >>> 5 && n === 0 ? this.hint & 31 : 0;
      for (let b = start; b < 32; b++) {
        const slot = w * 32 + b;
        if (slot >= this.pages) break;
        if ((bits & (1 << b)) === 0) {
          this.bitmap[w] = bits | (1 << b);
          this.refsOf[slot] = 1;
          this.usedSlots++;
          this.chunkUse[Math.floor(slot / CHUNK_SLOTS)]++;
          this.hint = slot + 1 === this.pages ? 0 : slot + 1;
          return slot;
        }
      }
    }
    return -1;
  }

  /** References to `slot` (0 when free). */
  refs(slot: number): number {
    this.checkSlot(slot);
    return this.refsOf[slot];
  }

  /** One more holder names `slot` (in use, else `EINVAL`). */
  ref(slot: number): void {
    this.checkUsed(slot);
    this.refsOf[slot]++;
  }

  /** One holder fewer; the last frees the slot (its bytes dropped with its chunk's last slot). */
  unref(slot: number): void {
    this.checkUsed(slot);
    if (--this.refsOf[slot] > 0) return;
    this.bitmap[slot >>> 5] &= ~(1 << (slot & 31));
    this.usedSlots--;
    const c = Math.floor(slot / CHUNK_SLOTS);
    if (--this.chunkUse[c] === 0) this.chunks.delete(c);
    else this.chunks.get(c)?.fill(0, (slot % CHUNK_SLOTS) * this.pageSize, (slot % CHUNK_SLOTS + 1) * this.pageSize);
  }

  /** Writes one page (`pageSize` bytes) into `slot` (in use): a swap-out. */
  write(slot: number, page: Uint8Array): void {
    this.checkUsed(slot);
    if (!(page instanceof Uint8Array) || page.length !== this.pageSize) {
      throw new VmError('EINVAL', `a swap write is one page of ${this.pageSize} bytes, got ${hex(page)}`);
    }
    const c = Math.floor(slot / CHUNK_SLOTS);
    let chunk = this.chunks.get(c);
    if (chunk === undefined) this.chunks.set(c, (chunk = new Uint8Array(CHUNK_SLOTS * this.pageSize)));
    chunk.set(page, (slot % CHUNK_SLOTS) * this.pageSize);
    this.writes++;
  }

  /** The page in `slot` (in use): a swap-in. A slot never written reads as zeros. */
  read(slot: number): Uint8Array {
    this.checkUsed(slot);
    this.reads++;
    const chunk = this.chunks.get(Math.floor(slot / CHUNK_SLOTS));
    const at = (slot % CHUNK_SLOTS) * this.pageSize;
    return chunk === undefined ? new Uint8Array(this.pageSize) : chunk.slice(at, at + this.pageSize);
  }

  /** Slots, slots in use, pages written and read. */
  info(): SwapInfo {
    return { total: this.pages, used: this.usedSlots, writes: this.writes, reads: this.reads };
  }

  /** The bitmap, the counts and the chunks agree. */
  check(): void {
    let used = 0;
    const perChunk = new Uint16Array(this.chunkUse.length);
    for (let s = 0; s < this.pages; s++) {
      const bit = (this.bitmap[s >>> 5] >>> (s & 31)) & 1;
      invariant(bit === (this.refsOf[s] > 0 ? 1 : 0), `swap slot ${s}: bitmap ${bit}, ${this.refsOf[s]} references`);
      invariant(this.refsOf[s] >= 0, `swap slot ${s} has ${this.refsOf[s]} references`);
      if (bit) {
        used++;
        perChunk[Math.floor(s / CHUNK_SLOTS)]++;
      }
    }
    invariant(used === this.usedSlots, `swap: ${used} slots in the bitmap, ${this.usedSlots} counted`);
    for (let c = 0; c < perChunk.length; c++) {
      invariant(perChunk[c] === this.chunkUse[c], `swap chunk ${c}: ${perChunk[c]} slots used, ${this.chunkUse[c]} counted`);
      if (perChunk[c] === 0) invariant(!this.chunks.has(c), `swap chunk ${c} keeps bytes with no slot in use`);
    }
  }

  private checkSlot(slot: number): void {
    if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= this.pages) {
      throw new VmError('EINVAL', `slot must be an integer below ${this.pages}, got ${hex(slot)}`);
    }
  }

  private checkUsed(slot: number): void {
    this.checkSlot(slot);
    if (this.refsOf[slot] === 0) throw new VmError('EINVAL', `swap slot ${slot} is free`);
  }
}
