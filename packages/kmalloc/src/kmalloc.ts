import { VmError, checkSize, hex, invariant, isUint, log2Ceil, log2Floor } from '@vmlayers/phys';
import { checkKernelMemory } from './kernel-memory.js';
import type { KernelMemory } from './kernel-memory.js';
import { Zone } from './zone.js';

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

const HDR = log2Floor(ZONE_HEADER_SIZE);
const MAX_SIZE = 2 ** KMALLOC_MAX_SHIFT;

/** Figures of one size class. */
export interface KmallocClassStats {
  /** Block size of the class in bytes. */
  size: number;
  zones: number;
  /** Blocks handed out. */
  used: number;
  /** Free blocks in the class's zones. */
  free: number;
  /** Bytes of kernel pages the class's zones hold. */
  bytes: number;
  /** Bytes of those pages no block covers (a zone's blocks rounded up to whole pages). */
  waste: number;
}

export interface KmallocStats {
  /** Per class, only classes that have zones. */
  classes: KmallocClassStats[];
  /** Bytes handed out (block sizes, i.e. requests rounded up to their class). */
  used: number;
  /** Bytes of free blocks in existing zones. */
  free: number;
  zones: number;
  /** Bytes of kernel pages held by all zones. */
  bytes: number;
  /** Free zone descriptors (the original's `hdrblocks`); never below 1 between calls. */
  headerBlocks: number;
}

// A zone as kmalloc keeps it: its class, its descriptor block, its place on the class's partial list.
interface ZoneRec {
  readonly zone: Zone;
  readonly cls: number;
  /** Kernel address of the descriptor block (-1 for the first zone, which describes itself). */
  readonly header: number;
  prev: ZoneRec | null;
  next: ZoneRec | null;
  onList: boolean;
}

/**
 * The fine-grained kernel allocator of the original `vm/kmalloc.c`: power-of-two classes from 16 B to 8 MiB on
 * zones, zones made on demand and released as soon as they are empty, zone descriptors kept in zones of their own
 * class with the original's rule that one descriptor is always spare — so a new descriptor zone can always be
 * described. A zone is one page for classes up to a page, one block for larger classes.
 *
 * `kmalloc` returns a kernel virtual address whose bytes are real: read and write them through the kernel map.
 * Exhaustion anywhere (no frame, no map entry, the fault injector) → `VmError('ENOMEM')`, every structure as it was.
 */
export class Kmalloc {
  readonly kmap: KernelMemory;
  // Zones with a free block, per class (doubly linked through ZoneRec).
  private readonly partial: (ZoneRec | null)[] = new Array(KMALLOC_SLOTS).fill(null);
  // Every zone, sorted by address, to find a block's zone on kfree.
  private readonly byAddr: ZoneRec[] = [];
  private readonly first: ZoneRec;
  private allocated = 0;
  private headerFree = 0;
  // Addresses of the descriptor blocks in use: kmalloc's own blocks of the descriptor class, which kfree refuses.
  private readonly descriptors = new Set<number>();

  /** Creates the first descriptor zone (never released). `kmap` no `KernelMemory` → `EINVAL`; no memory → `ENOMEM`. */
  constructor(kmap: KernelMemory) {
    checkKernelMemory('kmap', kmap);
    this.kmap = kmap;
    const zone = new Zone(kmap, ZONE_HEADER_SIZE, Math.max(ZONE_HEADERS, kmap.pageSize / ZONE_HEADER_SIZE));
    this.first = { zone, cls: HDR, header: -1, prev: null, next: null, onList: false };
    this.link(this.first);
    this.byAddr.push(this.first);
    this.headerFree = zone.blocks;
  }

  /**
   * `size` bytes (rounded up to a power of two ≥ 16) of kernel memory. `size` not a positive integer below 2^53
   * (0, negative, NaN, ±Infinity, a fraction, a BigInt, a string…) → `EINVAL`; a valid size larger than 8 MiB, no
   * memory, or the fault injector at `kmalloc` → `ENOMEM`. Nothing changes on error.
   */
  kmalloc(size: number): number {
    const cls = classOf(size);
    if (this.kmap.alloc.faults.hit('kmalloc')) throw new VmError('ENOMEM', `kmalloc(${hex(size)}) failed (injected)`);
    let spare: ZoneRec | null = null;
    // The last free descriptor may only describe a new descriptor zone: make that zone now, when this call is about
    // to take a descriptor-sized block (a new zone's descriptor, or a block of the descriptors' own class). Made in
    // any other case it would stay empty, a zone never released (a page and a descriptor lost).
    if (this.headerFree === 1 && (cls === HDR || this.partial[cls] === null)) spare = this.addZone(HDR);
    if (this.partial[cls] === null) {
      try {
        this.addZone(cls);
      } catch (e) {
        if (spare) this.dropZone(spare);
        throw e;
      }
    }
    return this.take(cls);
  }

  /**
   * Frees a block from `kmalloc`. Not one — no address at all (NaN, a BigInt, a string…), inside a block, a zone
   * descriptor's block, or already free — → `EINVAL`, nothing changed.
   */
  kfree(vaddr: number): void {
    const rec = isUint(vaddr) ? this.find(vaddr) : undefined;
    const i = rec ? rec.zone.indexOf(vaddr) : -1;
    if (!rec || i < 0 || !rec.zone.isUsed(i) || (rec.cls === HDR && this.descriptors.has(vaddr))) {
      const why = rec && i >= 0 ? (rec.zone.isUsed(i) ? 'a zone descriptor' : 'already free (double free)') : 'not a kmalloc block';
      throw new VmError('EINVAL', `vaddr ${hex(vaddr)} is ${why}`);
    }
    this.put(rec, i);
  }

  /** The class size `kmalloc(size)` hands out, without allocating; the errors of `kmalloc` for sizes it refuses. */
  static sizeOf(size: number): number {
    return 2 ** classOf(size);
  }

  stats(): KmallocStats {
    const classes = new Map<number, KmallocClassStats>();
    let free = 0;
    let bytes = 0;
    for (const r of this.byAddr) {
      const z = r.zone;
      let c = classes.get(r.cls);
      if (!c) classes.set(r.cls, (c = { size: z.blockSize, zones: 0, used: 0, free: 0, bytes: 0, waste: 0 }));
      const zb = z.pages * this.kmap.pageSize;
      c.zones++;
      c.used += z.used;
      c.free += z.blocks - z.used;
      c.bytes += zb;
      c.waste += zb - z.blocks * z.blockSize;
      free += (z.blocks - z.used) * z.blockSize;
      bytes += zb;
    }
    return {
      classes: [...classes.values()].sort((a, b) => a.size - b.size),
      used: this.allocated,
      free,
      zones: this.byAddr.length,
      bytes,
      headerBlocks: this.headerFree,
    };
  }

  /**
   * Verifies every invariant: zones sorted without overlap, each zone's own state, partial lists hold exactly the
   * zones with free blocks, byte and descriptor accounting, every zone but the first described by a live
   * descriptor block, and the spare-descriptor rule.
   */
  check(): void {
    let used = 0;
    let hdrFree = 0;
    const headers = new Set<number>();
    for (let k = 0; k < this.byAddr.length; k++) {
      const r = this.byAddr[k];
      r.zone.check();
      if (k > 0) {
        const p = this.byAddr[k - 1].zone;
        invariant(p.vaddr + p.blocks * p.blockSize <= r.zone.vaddr, `zones at ${hex(p.vaddr)} and ${hex(r.zone.vaddr)} overlap or are unsorted`);
      }
      invariant(r.zone.blockSize === 2 ** r.cls, `zone of class ${r.cls} has ${r.zone.blockSize}-byte blocks`);
      invariant(r.onList === !r.zone.full, `zone at ${hex(r.zone.vaddr)}: on partial list ${r.onList}, full ${r.zone.full}`);
      invariant(r === this.first || r.zone.used > 0, `empty zone at ${hex(r.zone.vaddr)} was not released`);
      used += r.zone.used * r.zone.blockSize;
      if (r.cls === HDR) hdrFree += r.zone.blocks - r.zone.used;
      if (r !== this.first) {
        const owner = this.find(r.header);
        const i = owner ? owner.zone.indexOf(r.header) : -1;
        invariant(owner?.cls === HDR && i >= 0 && owner.zone.isUsed(i), `zone at ${hex(r.zone.vaddr)} has no live descriptor`);
        invariant(!headers.has(r.header), `two zones share descriptor ${hex(r.header)}`);
        headers.add(r.header);
      }
    }
    for (let cls = 0; cls < KMALLOC_SLOTS; cls++) {
      let prev: ZoneRec | null = null;
      for (let r = this.partial[cls]; r; r = r.next) {
        invariant(r.cls === cls && r.onList && r.prev === prev, `partial list ${cls} is inconsistent`);
        invariant(this.byAddr.includes(r), `partial list ${cls} holds a released zone`);
        prev = r;
      }
    }
    invariant(used === this.allocated, `kmalloc counts ${this.allocated} bytes in use, zones say ${used}`);
    invariant(headers.size === this.descriptors.size && [...headers].every((h) => this.descriptors.has(h)), 'the descriptor set differs from the zones\' descriptors');
    invariant(hdrFree === this.headerFree, `kmalloc counts ${this.headerFree} free descriptors, zones say ${hdrFree}`);
    invariant(this.headerFree >= 1, 'no spare zone descriptor left');
  }

  // A new zone for class cls, described by a descriptor block; on failure nothing is left behind.
  private addZone(cls: number): ZoneRec {
    const header = this.take(HDR);
    let zone: Zone;
    try {
      const size = 2 ** cls;
      zone = new Zone(this.kmap, size, Math.max(cls === HDR ? ZONE_HEADERS : 1, Math.floor(this.kmap.pageSize / size)));
    } catch (e) {
      this.giveBack(header);
      throw e;
    }
    // The descriptor's bytes say what it describes, as the original's vm_zone_t would in a memory dump.
    this.kmap.write(header, describe(zone));
    const rec: ZoneRec = { zone, cls, header, prev: null, next: null, onList: false };
    this.link(rec);
    this.byAddr.splice(this.lowerBound(zone.vaddr), 0, rec);
    this.descriptors.add(header);
    if (cls === HDR) this.headerFree += zone.blocks;
    return rec;
  }

  // Releases an empty zone and returns its descriptor (used to undo addZone).
  private dropZone(rec: ZoneRec): void {
    this.unlink(rec);
    this.byAddr.splice(this.byAddr.indexOf(rec), 1);
    if (rec.cls === HDR) this.headerFree -= rec.zone.blocks;
    rec.zone.release();
    this.descriptors.delete(rec.header);
    this.giveBack(rec.header);
  }

  // Returns a descriptor block that addZone took, without releasing its zone when it empties (undo path only).
  private giveBack(header: number): void {
    const owner = this.find(header)!;
    const wasFull = owner.zone.full;
    owner.zone.put(owner.zone.indexOf(header));
    this.allocated -= ZONE_HEADER_SIZE;
    this.headerFree++;
    if (wasFull) this.link(owner);
  }

  private take(cls: number): number {
    const rec = this.partial[cls]!;
    const va = rec.zone.take();
    this.allocated += rec.zone.blockSize;
    if (cls === HDR) this.headerFree--;
    if (rec.zone.full) this.unlink(rec);
    return va;
  }

  // Frees block i of rec's zone; an emptied zone is released and its descriptor freed in turn.
  private put(rec: ZoneRec, i: number): void {
    for (;;) {
      const zone = rec.zone;
      const wasFull = zone.full;
      zone.put(i);
      this.allocated -= zone.blockSize;
      if (rec.cls === HDR) this.headerFree++;
      if (wasFull) this.link(rec);
      if (zone.used !== 0 || rec === this.first) return;
      this.unlink(rec);
      this.byAddr.splice(this.byAddr.indexOf(rec), 1);
      if (rec.cls === HDR) this.headerFree -= zone.blocks;
      zone.release();
      this.descriptors.delete(rec.header);
      const owner = this.find(rec.header)!;
      i = owner.zone.indexOf(rec.header);
      rec = owner;
    }
  }

  private find(va: number): ZoneRec | undefined {
    const k = this.lowerBound(va + 1) - 1;
    const r = this.byAddr[k];
    return r && r.zone.contains(va) ? r : undefined;
  }

  // First index whose zone starts at or after va.
  private lowerBound(va: number): number {
    let lo = 0;
    let hi = this.byAddr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.byAddr[mid].zone.vaddr < va) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private link(rec: ZoneRec): void {
    const head = this.partial[rec.cls];
    rec.prev = null;
    rec.next = head;
    if (head) head.prev = rec;
    this.partial[rec.cls] = rec;
    rec.onList = true;
  }

  private unlink(rec: ZoneRec): void {
    if (rec.prev) rec.prev.next = rec.next;
    else this.partial[rec.cls] = rec.next;
    if (rec.next) rec.next.prev = rec.prev;
    rec.prev = rec.next = null;
    rec.onList = false;
  }
}

// The class (log2 of the block size) serving `size` bytes; the errors of kmalloc for a size it refuses.
function classOf(size: number): number {
  checkSize('size', size);
  if (size > MAX_SIZE) throw new VmError('ENOMEM', `size ${hex(size)} is larger than the largest class (8 MiB)`);
  return size <= 16 ? KMALLOC_MIN_SHIFT : log2Ceil(size);
}

// Little-endian { magic 'ZONE', vaddr low, vaddr high, blockSize, blocks, pages } — 24 of the descriptor's 64 bytes.
function describe(zone: Zone): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x454e4f5a, true);
  dv.setUint32(4, zone.vaddr >>> 0, true);
  dv.setUint32(8, Math.floor(zone.vaddr / 2 ** 32), true);
  dv.setUint32(12, zone.blockSize, true);
  dv.setUint32(16, zone.blocks, true);
  dv.setUint32(20, zone.pages, true);
  return b;
}
