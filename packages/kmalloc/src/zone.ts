import { VmError, checkInt, hex, invariant, isPowerOfTwo, isUint } from '@vmlayers/phys';
import { checkKernelMemory } from './kernel-memory.js';
import type { KernelMemory } from './kernel-memory.js';

/** Largest block size a zone takes: 2^30, far past kmalloc's largest class (8 MiB). */
const MAX_BLOCK = 2 ** 30;
/** Most blocks one zone holds (its free stack and bitmap are typed arrays of this length). */
const MAX_BLOCKS = 2 ** 24;

/** A zone's figures. */
export interface ZoneStats {
  /** Bytes per block: a power of two from 8 to 2^30, as the zone was made with. */
  blockSize: number;
  /** Blocks the zone holds, free and in use: 1 to 2^24, fixed when the zone is made. */
  blocks: number;
  /** Blocks handed out by `alloc` and not freed yet: 0 (an empty zone, which `release` accepts) to `blocks` (full). */
  used: number;
  /** Bytes of kernel pages the zone holds (blocks × blockSize rounded up to pages). */
  bytes: number;
}

/**
 * Fixed-size blocks carved from kernel pages (the original's `vm/zone.c`). `alloc` and `free` are O(1): free blocks
 * sit on a stack of block numbers beside a used bitmap, not threaded through the blocks as the original does, so
 * a double free or a stray pointer is caught (`EINVAL`) instead of corrupting the list.
 *
 * The zone's pages are wired kernel memory from `kmap.allocPages`; a block's bytes are real and reached through
 * the kernel map at the returned virtual address. Blocks are not zeroed on reuse, as `malloc`.
 */
export class Zone {
  /** The kernel memory the zone's pages were mapped in by `allocPages` and go back to on `release`. */
  readonly kmap: KernelMemory;
  /** Bytes per block: a power of two from 8 to 2^30; block `i` starts at `vaddr + i × blockSize`. */
  readonly blockSize: number;
  /** Blocks in the zone: an integer from 1 to 2^24 (`blockSize × blocks` below 2^53 bytes). */
  readonly blocks: number;
  /** Kernel virtual address of block 0. */
  readonly vaddr: number;
  /** Pages mapped for the zone. */
  readonly pages: number;
  /**
   * Physical address of block 0: the zone's pages are one physically contiguous run, so block `i` is at
   * `pa + i × blockSize` in RAM (what a driver hands a DMA engine; the original's `_vm_zalloc` `paddr`).
   */
  readonly pa: number;
  private readonly freeStack: Int32Array;
  private top: number;
  private readonly inUse: Uint8Array;
  private released = false;

  /**
   * Maps `ceil(blockSize × blocks / pageSize)` kernel pages. `kmap` must be a {@link KernelMemory}, `blockSize` a
   * power of two from 8 to 2^30 and `blocks` an integer from 1 to 2^24 — any other value (NaN, a fraction, a BigInt,
   * a string…) → `EINVAL`; no memory for the pages → `ENOMEM`, nothing allocated.
   */
  constructor(kmap: KernelMemory, blockSize: number, blocks: number) {
    checkKernelMemory('kmap', kmap);
    if (!isPowerOfTwo(blockSize) || blockSize < 8 || blockSize > MAX_BLOCK) {
      throw new VmError('EINVAL', `blockSize must be a power of two from 8 to 2^30, got ${hex(blockSize)}`);
    }
    checkInt('blocks', blocks, 1, MAX_BLOCKS);
    if (!Number.isSafeInteger(blockSize * blocks)) {
      throw new VmError('EINVAL', `${hex(blocks)} blocks of ${hex(blockSize)} bytes pass 2^53 bytes`);
    }
    this.kmap = kmap;
    this.blockSize = blockSize;
    this.blocks = blocks;
    this.pages = Math.ceil((blockSize * blocks) / kmap.pageSize);
    this.vaddr = kmap.allocPages(this.pages);
    try {
      this.pa = kmap.physical(this.vaddr);
    } catch (e) {
      kmap.freePages(this.vaddr);
      throw e;
    }
    this.freeStack = new Int32Array(blocks);
    // Lowest addresses on top, so a fresh zone hands out blocks in address order (easier to read in a dump).
    for (let i = 0; i < blocks; i++) this.freeStack[i] = blocks - 1 - i;
    this.top = blocks;
    this.inUse = new Uint8Array(blocks);
  }

  /** Blocks handed out now. */
  get used(): number {
    return this.blocks - this.top;
  }

  /** True when the zone has no free block. */
  get full(): boolean {
    return this.top === 0;
  }

  /** True when `va` is an address inside the zone's blocks (false for anything that is no address). */
  contains(va: number): boolean {
    return isUint(va) && va >= this.vaddr && va < this.vaddr + this.blocks * this.blockSize;
  }

  /** A free block's kernel virtual address; a full zone (or the fault injector at `zone`) → `ENOMEM`. */
  alloc(): number {
    this.assertLive();
    if (this.kmap.alloc.faults.hit('zone')) throw new VmError('ENOMEM', `zone of ${this.blockSize}-byte blocks: allocation failed (injected)`);
    const va = this.take();
    if (va < 0) throw new VmError('ENOMEM', `zone of ${this.blockSize}-byte blocks at ${hex(this.vaddr)} is full`);
    return va;
  }

  /**
   * The physical address of block address `va` (a block of this zone, free or not): `pa + (va − vaddr)`, as
   * `_vm_zalloc` reports it. Not an address inside the zone's blocks → `EINVAL`.
   */
  physical(va: number): number {
    if (!this.contains(va)) throw new VmError('EINVAL', `vaddr ${hex(va)} is not inside this zone's blocks`);
    return this.pa + (va - this.vaddr);
  }

  /**
   * Gives block `va` back. Not a block of this zone (no address at all included: NaN, a BigInt, a string…), or
   * already free → `EINVAL`, zone unchanged.
   */
  free(va: number): void {
    this.assertLive();
    const i = this.indexOf(va);
    if (i < 0 || this.inUse[i] === 0) {
      throw new VmError('EINVAL', `vaddr ${hex(va)} is ${i < 0 ? 'not a block of this zone' : 'already free (double free)'}`);
    }
    this.put(i);
  }

  /** Unmaps the zone's pages. Blocks still in use → `EBUSY`. The zone is unusable afterwards. */
  release(): void {
    this.assertLive();
    if (this.used !== 0) throw new VmError('EBUSY', `zone at ${hex(this.vaddr)} still has ${this.used} blocks in use`);
    this.kmap.freePages(this.vaddr);
    this.released = true;
  }

  /**
   * The zone's figures now: block size, blocks, blocks in use and bytes of pages held. O(1); never throws (after
   * `release` it still reports the figures the zone had, 0 blocks in use).
   */
  stats(): ZoneStats {
    return { blockSize: this.blockSize, blocks: this.blocks, used: this.used, bytes: this.pages * this.kmap.pageSize };
  }

  /** Verifies the free stack and the used bitmap agree. */
  check(): void {
    invariant(!this.released, `zone at ${hex(this.vaddr)} was released`);
    const seen = new Uint8Array(this.blocks);
    for (let k = 0; k < this.top; k++) {
      const i = this.freeStack[k];
      invariant(i >= 0 && i < this.blocks, `zone free stack holds block ${i} of ${this.blocks}`);
      invariant(seen[i] === 0, `zone block ${i} is on the free stack twice`);
      invariant(this.inUse[i] === 0, `zone block ${i} is both free and in use`);
      seen[i] = 1;
    }
    let used = 0;
    for (let i = 0; i < this.blocks; i++) used += this.inUse[i];
    invariant(used === this.used, `zone counts ${this.used} blocks in use, bitmap says ${used}`);
  }

  /** @internal The block for `va`, or -1 when `va` is not the start of one of this zone's blocks. */
  indexOf(va: number): number {
    if (!isUint(va)) return -1;
    const off = va - this.vaddr;
    if (!(off >= 0 && off < this.blocks * this.blockSize) || off % this.blockSize !== 0) return -1;
    return off / this.blockSize;
  }

  /** @internal Pops a free block without consulting the fault injector (kmalloc counts its own calls); -1 when full. */
  take(): number {
    if (this.top === 0) return -1;
    const i = this.freeStack[--this.top];
    this.inUse[i] = 1;
    return this.vaddr + i * this.blockSize;
  }

  /** @internal Pushes block `i` back (the caller has validated it). */
  put(i: number): void {
    this.inUse[i] = 0;
    this.freeStack[this.top++] = i;
  }

  /** @internal True when block `i` is handed out. */
  isUsed(i: number): boolean {
    return this.inUse[i] === 1;
  }

  private assertLive(): void {
    if (this.released) throw new VmError('EINVAL', `zone at ${hex(this.vaddr)} was released`);
  }
}
