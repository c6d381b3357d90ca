import { VmError, hex, invariant } from '@vmlayers/phys';
import type { PageAllocator } from '@vmlayers/phys';
import type { MapBase } from './map-base.js';
import type { VmMap } from './vm-map.js';

/** Frames per chunk of the per-frame head table: chunks are made when a frame of theirs is first mapped. */
const CHUNK_SHIFT = 15;
const CHUNK = 1 << CHUNK_SHIFT;
const NONE = -1;

/** One mapping of a frame: the process map and the virtual address of the page. */
export interface FrameMapping {
  /** The process map whose page tables map the frame. */
  readonly map: VmMap;
  /** Virtual address of the page (page-aligned). */
  readonly va: number;
}

/** The reverse map's figures. */
export interface ReverseMapInfo {
  /** Mappings recorded now: one per (process map, page) that maps a frame. */
  mappings: number;
  /** Entries the pool holds (in use and free); it grows by doubling and never shrinks. */
  capacity: number;
  /** Frames mapped at least once now. */
  frames: number;
}

/**
 * The reverse map (Linux's rmap, UVM's pv lists): for each frame that user page tables map, every (process map,
 * virtual address) that maps it, kept by the mapper as it enters and removes pages, so that reclaim can find and
 * unmap every mapping of a frame at once, and read the accessed and dirty bits of all of them. A mapping costs one
 * 16-byte entry in typed arrays (next link, map id, address); a frame's list starts in a per-frame head table made
 * in chunks of 2^15 frames when a frame of the chunk is first mapped. Operations on a frame cost O(its mappings).
 *
 * Only process maps of an MMU architecture are recorded (kernel pages are wired, never reclaimed); the kernel map
 * keeps one when booted with `reverseMap: true` (`KernelMap.rmap`). Each mapping also counts in the page
 * allocator's per-frame mapping count (`PageAllocator.addMapping`), which refuses to free a frame still mapped.
 */
export class ReverseMap {
  private readonly alloc: PageAllocator;
  // False when the pmaps have no accessed or dirty bits (ARMv7-A short descriptors): see referenced and dirty.
  private readonly accessedDirty: boolean;
  private next = new Int32Array(256);
  private mapId = new Int32Array(256);
  private vaOf = new Float64Array(256);
  private used = 0;
  private free = NONE;
  private top = 0;
  private readonly heads = new Map<number, Int32Array>();
  private framesMapped = 0;
  private readonly maps = new Map<number, MapBase>();

  /** @internal Made by `createKernelMap({ reverseMap: true })`, with the architecture's `accessedDirty` capability. */
  constructor(alloc: PageAllocator, accessedDirty = true) {
    this.alloc = alloc;
    this.accessedDirty = accessedDirty;
  }

  /** @internal A process map that may record mappings. */
  attach(m: MapBase): void {
    this.maps.set(m.id, m);
  }

  /** @internal A process map going away (after its mappings were removed). */
  detach(m: MapBase): void {
    this.maps.delete(m.id);
  }

  /**
   * @internal Records that `m` maps frame `pa` at page `va`. False when no entry can be had (the fault injector at
   * `rmap`; the pool grows otherwise), nothing recorded.
   */
  add(m: MapBase, pa: number, va: number): boolean {
    if (this.alloc.faults.hit('rmap')) return false;
    const pn = pa / this.alloc.pageSize;
    const chunk = this.chunk(pn, true)!;
    let e = this.free;
    if (e !== NONE) this.free = this.next[e];
    else {
      if (this.top === this.next.length) this.grow();
      e = this.top++;
    }
    const i = pn & (CHUNK - 1);
    if (chunk[i] === NONE) this.framesMapped++;
    this.next[e] = chunk[i];
    this.mapId[e] = m.id;
    this.vaOf[e] = va;
    chunk[i] = e;
    this.used++;
    this.alloc.addMapping(pa);
    return true;
  }

  /** @internal Forgets that `m` maps frame `pa` at page `va` (which must be recorded). */
  remove(m: MapBase, pa: number, va: number): void {
    const pn = pa / this.alloc.pageSize;
    const chunk = this.chunk(pn, false);
    const i = pn & (CHUNK - 1);
    let prev = NONE;
    let e = chunk === undefined ? NONE : chunk[i];
    while (e !== NONE && !(this.mapId[e] === m.id && this.vaOf[e] === va)) {
      prev = e;
      e = this.next[e];
    }
    if (e === NONE) throw new Error(`rmap: frame ${hex(pa)} is not recorded as mapped by map ${m.id} at ${hex(va)}`);
    if (prev === NONE) chunk![i] = this.next[e];
    else this.next[prev] = this.next[e];
    if (chunk![i] === NONE) this.framesMapped--;
    this.next[e] = this.free;
    this.mapId[e] = NONE;
    this.free = e;
    this.used--;
    this.alloc.removeMapping(pa);
  }

  /** Every mapping of the frame holding `pa` (none for a frame no page table maps). Bad `pa` → `EINVAL`. */
  mappings(pa: number): FrameMapping[] {
    const out: FrameMapping[] = [];
    for (let e = this.headOf(pa); e !== NONE; e = this.next[e]) out.push({ map: this.maps.get(this.mapId[e])! as unknown as VmMap, va: this.vaOf[e] });
    return out;
  }

  /** How many page-table mappings the frame holding `pa` has (0 when none). Bad `pa` → `EINVAL`. */
  count(pa: number): number {
    let n = 0;
    for (let e = this.headOf(pa); e !== NONE; e = this.next[e]) n++;
    return n;
  }

  /**
   * True when any mapping of the frame has its accessed bit set (`Pmap.referenced`); with `clear`, clears the bit
   * in every mapping (and their TLB entries), as Linux's `folio_referenced` does before the page is aged. Bad
   * arguments → `EINVAL`. On an architecture without accessed bits (`capabilities.accessedDirty` false, e.g.
   * ARMv7-A short descriptors, whose pmaps throw `ENOSYS` for `referenced`): false, and `clear` does nothing — no
   * page is known to be young, so a clock ages them all alike (FIFO order).
   */
  referenced(pa: number, clear = false): boolean {
    if (!this.accessedDirty) return this.anyBit(pa, clear, () => false);
    return this.anyBit(pa, clear, (m, va, c) => m.pmap.referenced(va, c));
  }

  /**
   * True when any mapping of the frame has its dirty bit set (`Pmap.dirty`); with `clear`, clears it in every one.
   * Without dirty bits (`capabilities.accessedDirty` false): true for a mapped frame — nothing proves it clean, so
   * reclaim writes it back rather than drop data.
   */
  dirty(pa: number, clear = false): boolean {
    if (!this.accessedDirty) return this.anyBit(pa, clear, () => true);
    return this.anyBit(pa, clear, (m, va, c) => m.pmap.dirty(va, c));
  }

  // One page-table bit over every mapping of the frame: any set; every one read (and cleared with `clear`).
  private anyBit(pa: number, clear: unknown, bit: (m: MapBase, va: number, clear: boolean) => boolean): boolean {
    if (typeof clear !== 'boolean') throw new VmError('EINVAL', `clear must be a boolean, got ${hex(clear)}`);
    let any = false;
    for (let e = this.headOf(pa); e !== NONE; e = this.next[e]) {
      if (bit(this.maps.get(this.mapId[e])!, this.vaOf[e], clear)) any = true;
    }
    return any;
  }

  /**
   * Removes every mapping of the frame holding `pa` from the page tables (the translations go, the map entries
   * stay: the next access faults and the backing answers again), as Linux's `try_to_unmap`. Returns how many were
   * removed. The frame itself is the caller's (the backing that owns it replaces it, e.g. by a swap slot). Bad `pa`
   * → `EINVAL`.
   */
  unmap(pa: number): number {
    let n = 0;
    for (let e = this.headOf(pa); e !== NONE; e = this.headOf(pa)) {
      const m = this.maps.get(this.mapId[e])!;
      const va = this.vaOf[e];
      this.remove(m, pa, va);
      m.pmap.remove(va, va + this.alloc.pageSize);
      n++;
    }
    return n;
  }

  /** @internal Mappings recorded for map `id` (O(entries ever made)): `check` compares them with its translations. */
  recordsOf(id: number): number {
    let n = 0;
    for (let e = 0; e < this.top; e++) if (this.mapId[e] === id) n++;
    return n;
  }

  /** Mappings recorded, pool capacity, frames mapped. */
  info(): ReverseMapInfo {
    return { mappings: this.used, capacity: this.next.length, frames: this.framesMapped };
  }

  /**
   * Verifies the reverse map against the page tables: every recorded mapping resolves to its frame in its map's
   * pmap, no mapping is recorded twice, the counts agree with the pool and with the allocator's mapping counts.
   */
  check(): void {
    let seen = 0;
    let frames = 0;
    for (const [c, chunk] of this.heads) {
      for (let i = 0; i < CHUNK; i++) {
        if (chunk[i] === NONE) continue;
        frames++;
        const pa = (c * CHUNK + i) * this.alloc.pageSize;
        const keys = new Set<string>();
        let n = 0;
        for (let e = chunk[i]; e !== NONE; e = this.next[e]) {
          const m = this.maps.get(this.mapId[e]);
          invariant(m !== undefined, `rmap: frame ${hex(pa)} mapped by map ${this.mapId[e]}, which is gone`);
          const key = `${this.mapId[e]}:${this.vaOf[e]}`;
          invariant(!keys.has(key), `rmap: frame ${hex(pa)} records map ${this.mapId[e]} at ${hex(this.vaOf[e])} twice`);
          keys.add(key);
          invariant(m.pmap.resolve(this.vaOf[e]) === pa, `rmap: map ${m.id} at ${hex(this.vaOf[e])} does not map frame ${hex(pa)}`);
          n++;
        }
        invariant(this.alloc.mapCount(pa) === n, `rmap: frame ${hex(pa)} has ${n} mappings, the allocator counts ${this.alloc.mapCount(pa)}`);
        seen += n;
      }
    }
    invariant(seen === this.used, `rmap: ${seen} mappings in the lists, ${this.used} counted`);
    invariant(frames === this.framesMapped, `rmap: ${frames} frames mapped, ${this.framesMapped} counted`);
    let free = 0;
    for (let e = this.free; e !== NONE; e = this.next[e]) free++;
    invariant(free + this.used === this.top, `rmap: ${free} free + ${this.used} used entries, ${this.top} made`);
  }

  private headOf(pa: number): number {
    if (typeof pa !== 'number' || !Number.isSafeInteger(pa) || pa < 0) throw new VmError('EINVAL', `pa must be a physical address, got ${hex(pa)}`);
    const pn = Math.floor(pa / this.alloc.pageSize);
    const chunk = this.chunk(pn, false);
    return chunk === undefined ? NONE : chunk[pn & (CHUNK - 1)];
  }

  private chunk(pn: number, make: boolean): Int32Array | undefined {
    const c = Math.floor(pn / CHUNK);
    let chunk = this.heads.get(c);
    if (chunk === undefined && make) this.heads.set(c, (chunk = new Int32Array(CHUNK).fill(NONE)));
    return chunk;
  }

  private grow(): void {
    const n = this.next.length * 2;
    const next = new Int32Array(n);
    next.set(this.next);
    const id = new Int32Array(n);
    id.set(this.mapId);
    const va = new Float64Array(n);
    va.set(this.vaOf);
    this.next = next;
    this.mapId = id;
    this.vaOf = va;
  }
}
