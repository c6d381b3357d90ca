/*
 * What the walker families share besides their formats: the memory, the TLB and its counters, the fault record,
 * the address check, and reading a page-table entry. A base class rather than imported helpers, because the miss
 * path calls them on every walk and a method is a direct call where an imported function is, under some loaders
 * (tsx), a getter on the module namespace first.
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { WalkTlb } from './tlb.js';
import type { WalkerStats } from './types.js';
import { WalkFault, checkAccess, checkOptionsObject } from './types.js';

// Page-table frames are read through `PhysicalMemory.frameWords` views on a little-endian host (one lookup of the
// frame, then array loads); elsewhere with read32.
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const PSC_SIZE = 64;

/**
 * @internal One page-table entry as read from RAM: bits 0–31 and 32–63 (0 for a 4-byte entry). Reading is a method
 * rather than an imported function: the walks call it per level, and a method on a monomorphic object inlines,
 * where an imported function is, under some loaders (tsx), a getter on the module namespace first.
 */
export class TableEntry {
  lo = 0;
  hi = 0;

  /**
   * Reads the `size`-byte entry at `addr`; false when it is not in RAM (a device window or a hole: the hardware's
   * access fault or machine check).
   */
  read(mem: PhysicalMemory, addr: number, size: number): boolean {
    const off = addr & 4095;
    let words: Uint32Array | null;
    // frameWords refuses a frame that is not all RAM (EFAULT); that is rare — a guest's bad pointer, or a bank that
    // does not end on a page — so it is caught rather than asked about first with isRam (a second lookup). Small,
    // with the rare cases out of line, so that it inlines into the walks.
    try {
      words = mem.frameWords(addr - off);
    } catch {
      return this.readSlow(mem, addr, size);
    }
    if (words === null) {
      if (!LITTLE_ENDIAN) return this.readSlow(mem, addr, size);
      // A frame that was never written reads as zeros.
      this.lo = 0;
      this.hi = 0;
      return true;
    }
    this.lo = words[off >>> 2];
    this.hi = size === 8 ? words[(off >>> 2) + 1] : 0;
    return true;
  }

  // A frame at the edge of a bank that does not end on a page, or a big-endian host (no views).
  private readSlow(mem: PhysicalMemory, addr: number, size: number): boolean {
    if (!mem.isRam(addr, size)) return false;
    this.lo = mem.read32(addr);
    this.hi = size === 8 ? mem.read32(addr + 4) : 0;
    return true;
  }
}

/** The machinery every walker has; see {@link RiscvWalker} and {@link X86Walker} for the formats. */
export abstract class WalkerBase {
  /** The last fault's details (see {@link WalkFault}). */
  readonly fault = new WalkFault();
  /** The walker's TLB (its slots can be inspected; flush it with the family's own operations). */
  readonly tlb: WalkTlb;
  /** @internal */
  protected readonly mem: PhysicalMemory;
  /** @internal True for formats with 64-bit addresses (signed numbers), false for 32-bit ones. */
  protected readonly wide: boolean;
  /** @internal The TLB's slots, held directly for the hit path. */
  protected readonly e: Int32Array;
  /** @internal Slot count − 1. */
  protected readonly tlbMask: number;
  /** @internal Where a walk core that takes a reader (ARMv7-A's) reads entries for this walker. */
  protected readonly entry = new TableEntry();
  /** @internal */
  protected hits = 0;
  /** @internal */
  protected misses = 0;
  /** @internal */
  protected flushes = 0;
  /** @internal */
  protected faults = 0;
  // The paging-structure cache: for (root, ASID, the span one last-level table maps) the physical address of that
  // table, and what the walk gathered above it (the family's own bits), so a miss reads one entry instead of
  // every level's. Direct-mapped, 64 entries. Both manuals let hardware cache non-leaf entries this way, tagged by
  // ASID/PCID; the root is part of the tag too, so a caller that walks two roots under one ASID without a flush
  // gets what the tables say rather than a stale pointer. Every flush operation empties it (the ISAs' rules for
  // which flush reaches non-leaf caches differ; emptying it at each is never wrong).
  private readonly pscKey = new Float64Array(PSC_SIZE).fill(Number.NaN);
  private readonly pscRoot = new Float64Array(PSC_SIZE);
  private readonly pscAsid = new Int32Array(PSC_SIZE);
  /** @internal The last-level table of the entry `pscFind` found. */
  protected readonly pscTable = new Float64Array(PSC_SIZE);
  /** @internal The family's bits of the entry `pscFind` found. */
  protected readonly pscBits = new Int32Array(PSC_SIZE);

  /** @internal */
  protected constructor(mem: PhysicalMemory, wide: boolean, tlbSize: number | undefined) {
    if (mem === null || typeof mem !== 'object' || typeof mem.isRam !== 'function' || typeof mem.frameWords !== 'function') {
      throw new VmError('EINVAL', `mem must be a PhysicalMemory, got ${hex(mem)}`);
    }
    this.mem = mem;
    this.wide = wide;
    this.tlb = new WalkTlb(tlbSize);
    this.e = this.tlb.entries;
    this.tlbMask = this.tlb.mask;
  }

  /**
   * @internal The physical address slot `k` (a word index) holds for an address whose low 32 bits are `low`: a
   * number above 4 GiB, or the answer after a miss filled the slot. Kept out of the hit tests, whose common answer
   * (a frame below 4 GiB on a hit) is then a uint32 V8 keeps unboxed, never a phi with a double.
   */
  protected fromSlot(k: number, low: number): number {
    const e = this.e;
    return e[k + 4] * 4294967296 + ((e[k + 3] | (low & 4095)) >>> 0);
  }

  /** Drops every TLB entry, global ones included. */
  flushAll(): void {
    this.flush(null, -1, true);
  }

  /**
   * @internal One flush operation: counted, the TLB entries `WalkTlb.invalidate` selects dropped, and the
   * paging-structure cache emptied (every flush empties it; see the class's fields).
   */
  protected flush(vpn: number | null, asid: number, globals: boolean): void {
    this.flushes++;
    this.tlb.invalidate(vpn, asid, globals);
    this.pscFlush();
  }

  /** @internal The paging-structure cache entry for last-level-table span `key` under `root` and `asid`, or -1. */
  protected pscFind(key: number, root: number, asid: number): number {
    const c = ((key ^ (asid * 97)) & (PSC_SIZE - 1)) >>> 0;
    return this.pscKey[c] === key && this.pscRoot[c] === root && this.pscAsid[c] === asid ? c : -1;
  }

  /** @internal Remembers the last-level table `table` (and the family's `bits`) of span `key`. */
  protected pscFill(key: number, root: number, asid: number, table: number, bits: number): void {
    const c = ((key ^ (asid * 97)) & (PSC_SIZE - 1)) >>> 0;
    this.pscKey[c] = key;
    this.pscRoot[c] = root;
    this.pscAsid[c] = asid;
    this.pscTable[c] = table;
    this.pscBits[c] = bits;
  }

  /** @internal Empties the paging-structure cache. */
  protected pscFlush(): void {
    this.pscKey.fill(Number.NaN);
  }

  /** The TLB's counters. */
  stats(): WalkerStats {
    return { hits: this.hits, misses: this.misses, flushes: this.flushes, faults: this.faults, entries: this.tlb.count() };
  }

  /**
   * @internal What the hit tests' integer operations cannot take: an address or access code that is not a number
   * (a BigInt throws a TypeError at the first shift) or options that are not an object. Each family's `translate`
   * sends such a call here first, before any shift, and it is refused with `EINVAL`.
   */
  protected refuse(va: unknown, access: unknown, options: unknown): never {
    this.checkVa(va, 'va');
    checkAccess(access);
    checkOptionsObject(options, 'options');
    throw new VmError('EINVAL', `translate was called with ${hex(va)}, ${hex(access)}, ${hex(options)}`);
  }

  /** @internal Throws `EINVAL` unless `va` is an address of the walker's width (see the family classes). */
  protected checkVa(va: unknown, name: string): asserts va is number {
    const ok =
      typeof va === 'number' &&
      Number.isInteger(va) &&
      (this.wide ? va >= -(2 ** 63) && va < 2 ** 63 : va >= -(2 ** 31) && va < 2 ** 32);
    if (!ok) {
      throw new VmError(
        'EINVAL',
        `${name} must be an integer ${this.wide ? 'in [-2^63, 2^63) (a 64-bit address read as signed)' : 'in [-2^31, 2^32) (a 32-bit address)'}, got ${hex(va)}`,
      );
    }
  }
}
