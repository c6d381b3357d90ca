import { FaultCode, PageOwner, VmError, invariant, hex } from '@vmlayers/phys';
import type { MemContext } from './internal/context.js';
import { NOT_CACHED, PageCache } from './page-cache.js';
import type { Pager } from './pager.js';

/** What a memory object is made of. */
export type ObjectKind = 'pager' | 'anonymous' | 'physical' | 'device' | 'contiguous';

/** Bytes of kernel heap charged per object: a header (id, refs, size, pager) … */
export const OBJECT_HEADER_SIZE = 64;
/** … plus, for objects with a page cache (pager and anonymous ones on an MMU), one frame address per page. */
export const OBJECT_PAGE_SLOT_SIZE = 8;

interface ObjectSpec {
  kind: ObjectKind;
  size: number;
  name: string;
  pager?: Pager;
  /** Physical base of a physical or device range. */
  base?: number;
  /** The caller's reference is a user's (`createObject`), released with `release()`. */
  user: boolean;
}

/**
 * A memory object (the original's `vm_object_t`): something that can be mapped — data from a {@link Pager} (a
 * program image, a file), anonymous memory shared by `SHARED` mappings, a physical RAM range or a device range.
 *
 * Reference counted. Whoever creates an object holds one reference and drops it with {@link VmObject.release};
 * every mapping holds one more. The registry that finds objects by id holds none: the object, its page cache and
 * its frames go when the last reference does. Pages of an object are one frame however many processes map them
 * (privately mapped pages are copied only when written).
 *
 * Without an MMU the object is one contiguous block instead of a page cache, so processes mapping it share it.
 */
export class VmObject {
  /**
   * Positive integer, unique within its `Vm` and never reused, in creation order from 1 (objects the `Vm` makes
   * for images and shared anonymous memory take ids too). Shown in error messages.
   */
  readonly id: number;
  /**
   * What the object is made of: `pager` (data from a {@link Pager}: `vm.createObject`, program images),
   * `anonymous` (zero-filled memory behind a `SHARED` anonymous mapping), `physical` (a RAM range, its frames
   * pinned) or `device` (a device range, always mapped shared and uncached), these two from `vm.createPhysObject`;
   * or `contiguous` (one zeroed buddy block it owns, for DMA: `vm.createContiguousObject`, `MapFlags.CONTIGUOUS`;
   * always mapped shared, never copied on fork).
   */
  readonly kind: ObjectKind;
  /** Bytes of data (a physical or device range: its length). */
  readonly size: number;
  /** Shown in maps listings. */
  readonly name: string;
  /** Physical address of a physical or device range; -1 otherwise. */
  readonly base: number;
  /**
   * Where the object's memory physically is, when it is one fixed range: a physical or device range's address, a
   * contiguous object's block (what a driver programs a DMA engine with); -1 otherwise (pages come and go).
   */
  get pa(): number {
    return this.base >= 0 ? this.base : this.kind === 'contiguous' ? this.blockPa : -1;
  }
  /** @internal */
  readonly pager: Pager | null;
  private readonly ctx: MemContext;
  private readonly cache: PageCache | null;
  private readonly pages: number;
  private refCount = 1;
  private userRefs: number;
  private readonly kva: number;
  private readonly charge: number;
  // No-MMU block holding the whole object, and whether a SHARED mapping may have written it.
  private blockPa = -1;
  private blockDirty = false;

  private constructor(ctx: MemContext, spec: ObjectSpec, kva: number, charge: number) {
    this.ctx = ctx;
    this.id = ctx.objectId();
    this.kind = spec.kind;
    this.size = spec.size;
    this.name = spec.name;
    this.base = spec.base ?? -1;
    this.pager = spec.pager ?? null;
    this.pages = Math.ceil(spec.size / ctx.pageSize);
    this.cache = hasCache(ctx, spec.kind) ? new PageCache(this.pages) : null;
    this.userRefs = spec.user ? 1 : 0;
    this.kva = kva;
    this.charge = charge;
  }

  /**
   * @internal A new object with one reference (the caller's), charged to kmalloc at fault site `object`. Throws
   * `ENOMEM` with nothing allocated.
   */
  static create(ctx: MemContext, spec: ObjectSpec): VmObject {
    const pages = Math.ceil(spec.size / ctx.pageSize);
    const charge = OBJECT_HEADER_SIZE + (hasCache(ctx, spec.kind) ? OBJECT_PAGE_SLOT_SIZE * pages : 0);
    // A contiguous object's block first: no block of that order → ENOMEM before anything else is taken.
    const bytes = pages * ctx.pageSize;
    const block = spec.kind === 'contiguous' ? ctx.frame(bytes) : -1;
    if (spec.kind === 'contiguous' && block < 0) {
      throw new VmError('ENOMEM', `no physically contiguous block of ${hex(bytes)} bytes is free`);
    }
    let kva: number;
    try {
      kva = ctx.charge('object', charge);
    } catch (e) {
      if (block >= 0) ctx.dropFrame(block, bytes);
      throw e;
    }
    const o = new VmObject(ctx, spec, kva, charge);
    if (block >= 0) {
      o.blockPa = block;
      ctx.allocated(block, bytes, o.name);
    }
    // RAM under a physical object stays allocated while the object lives: its frames cannot be freed (and handed
    // to someone else, perhaps as a page table) while a process maps them. checkPhysRange refused free frames.
    if (spec.kind === 'physical') for (const p of o.ramPages()) ctx.alloc.pin(p, ctx.pageSize);
    ctx.objects.set(o.id, o);
    return o;
  }

  /** References held: the creator's (until released) and one per mapping. 0 once the object is gone. */
  get refs(): number {
    return this.refCount;
  }

  /** True while the object exists (some reference is held). */
  get alive(): boolean {
    return this.refCount > 0;
  }

  /** @internal True while the creator's reference is held. */
  get held(): boolean {
    return this.userRefs > 0;
  }

  /** Frames the object holds now (cached pages, or its no-MMU block in pages). */
  get residentPages(): number {
    if (this.blockPa >= 0) return this.pages;
    return this.cache === null ? 0 : this.cache.resident;
  }

  /** Pages the object spans (`size` rounded up). */
  get pageCount(): number {
    return this.pages;
  }

  /**
   * Drops the creator's reference. Mappings keep the object alive; when none is left its pages are written back
   * (a pager with `write`) and freed. Releasing more than was taken → `EINVAL`, nothing changed.
   */
  release(): void {
    if (this.userRefs <= 0) {
      throw new VmError('EINVAL', `object ${this.id} (${this.name}) holds no creator reference to release${this.alive ? '' : ': it is gone'}`);
    }
    this.userRefs--;
    this.ctx.run(() => this.put());
  }

  /**
   * Writes the pages changed through `SHARED` mappings back to the pager (`pager.write`; every page ever
   * written, since a writable translation may still be there); without `write`, does nothing. The object dies →
   * the same happens once more. A released object → `EINVAL`.
   */
  sync(): void {
    if (!this.alive) throw new VmError('EINVAL', `object ${this.id} (${this.name}) is gone`);
    this.ctx.run(() => this.writeBack());
  }

  /** @internal One more reference (a mapping). */
  ref(): void {
    invariant(this.refCount > 0, `object ${this.id} referenced after it died`);
    this.refCount++;
  }

  /** @internal One reference fewer; the last one writes back and frees everything. */
  put(): void {
    invariant(this.refCount > 0, `object ${this.id} put with no reference`);
    if (--this.refCount > 0) return;
    try {
      this.writeBack();
    } catch (e) {
      // The pager failed writing back: the object still dies whole, and the error reaches the caller of the
      // operation once it has finished (an exit or munmap is not left half-done).
      this.ctx.fail(e);
    } finally {
      const ctx = this.ctx;
      if (this.cache !== null) {
        for (const [i, slot] of this.cache.swapped()) {
          this.cache.setSlot(i, -1);
          ctx.reclaimer!.swap!.unref(slot);
        }
        this.cache.drain((pa) => {
          ctx.reclaimer?.removed(pa);
          ctx.freeFrame(pa, ctx.pageSize, this.name);
        });
      }
      if (this.blockPa >= 0) ctx.freeFrame(this.blockPa, this.pages * ctx.pageSize, this.name);
      this.blockPa = -1;
      if (this.kind === 'physical') for (const p of this.ramPages()) ctx.alloc.unpin(p, ctx.pageSize);
      ctx.uncharge(this.kva, this.charge);
      ctx.objects.delete(this.id);
    }
  }

  /**
   * @internal The frame of the page at byte `offset` (page-aligned, inside the object), read from the pager on
   * first use; or a negative `FaultCode` (`NO_MEMORY`; `BAD_ADDRESS` when the pager throws or the offset is past
   * the end).
   */
  page(offset: number, pid?: number, va?: number): number {
    if (offset < 0 || offset >= this.pages * this.ctx.pageSize) return FaultCode.BAD_ADDRESS;
    if (this.base >= 0) return this.base + offset;
    if (this.blockPa >= 0) return this.blockPa + offset;
    const c = this.cache!;
    const ps = this.ctx.pageSize;
    const i = offset / ps;
    const cached = c.get(i);
    if (cached !== NOT_CACHED) return cached;
    const reclaimable = (this.kind === 'pager' || this.kind === 'anonymous') && this.ctx.reclaimer !== null;
    const pa = this.ctx.frame(ps, reclaimable);
    if (pa < 0) return FaultCode.NO_MEMORY;
    if (!this.fill(pa, offset, ps)) {
      // The pager failed (an I/O error): the frame was never part of anything, it goes back unannounced.
      this.ctx.dropFrame(pa, ps);
      return FaultCode.BAD_ADDRESS;
    }
    const slot = c.slotOf(i);
    if (slot >= 0) {
      // Read back from swap by fill (a major fault): the slot goes.
      c.setSlot(i, -1);
      this.ctx.reclaimer!.swap!.unref(slot);
      this.ctx.reclaimer!.swapIns++;
      if (pid !== undefined) this.ctx.countFault(pid, true);
      if (this.ctx.listener !== null) this.ctx.emit({ type: 'swap-in', pid, va, pa, slot });
    }
    c.set(i, pa);
    // A pager's page can be dropped under pressure (written back first when dirty) and read again on next use.
    if (reclaimable) this.ctx.reclaimer!.addedObjectPage(pa, this, i);
    this.ctx.allocated(pa, ps, this.name, pid, va);
    return pa;
  }

  /**
   * @internal Reclaim: drops cached page `i` (frame `pa`, already out of every page table), written back through
   * the pager first when `dirty`; an anonymous object's page goes to a swap slot instead. Returns the slot, or
   * {@link EVICT_DROPPED}, or {@link EVICT_KEPT} — the page stays — when it is dirty and the pager cannot write, or
   * no slot can be had.
   */
  evictPage(i: number, pa: number, dirty: boolean): number {
    const c = this.cache!;
    if (this.kind === 'anonymous') {
      // No pager to read it again from: the page goes to a swap slot, as Linux's shmem pages do.
      const swap = this.ctx.reclaimer?.swap ?? null;
      const slot = swap === null ? -1 : swap.alloc();
      if (slot < 0) return EVICT_KEPT;
      swap!.write(slot, this.ctx.mem.read(pa, this.ctx.pageSize));
      c.drop(i);
      c.setSlot(i, slot);
      this.ctx.freeFrame(pa, this.ctx.pageSize, this.name);
      return slot;
    }
    if (dirty || c.dirty[i] !== 0) {
      const pager = this.pager;
      if (pager === null || pager.write === undefined) return EVICT_KEPT;
      const off = i * this.ctx.pageSize;
      pager.write(off, this.ctx.mem.read(pa, Math.min(this.ctx.pageSize, this.size - off)));
    }
    c.drop(i);
    this.ctx.freeFrame(pa, this.ctx.pageSize, this.name);
    return EVICT_DROPPED;
  }

  /** @internal Swap slots this object's pages are in (anonymous objects under reclaim). */
  swapSlots(): number[] {
    return this.cache === null ? [] : this.cache.swapped().map(([, s]) => s);
  }

  /** @internal The frame caching page `i`, or -1. */
  cachedFrame(i: number): number {
    return this.cache === null ? -1 : this.cache.get(i);
  }

  /** @internal A page at `offset` was handed out writable through a `SHARED` mapping. */
  markDirty(offset: number): void {
    if (this.cache !== null) this.cache.dirty[offset / this.ctx.pageSize] = 1;
    else if (this.blockPa >= 0) this.blockDirty = true;
  }

  /**
   * @internal No MMU: the physical address of the one block holding the whole object (made and filled on first
   * use), or a negative `FaultCode`.
   */
  block(pid?: number): number {
    if (this.base >= 0) return this.base;
    if (this.blockPa >= 0) return this.blockPa;
    const bytes = this.pages * this.ctx.pageSize;
    const pa = this.ctx.frame(bytes);
    if (pa < 0) return FaultCode.NO_MEMORY;
    if (!this.fill(pa, 0, bytes)) {
      this.ctx.dropFrame(pa, bytes);
      return FaultCode.BAD_ADDRESS;
    }
    this.blockPa = pa;
    this.ctx.allocated(pa, bytes, this.name, pid);
    return pa;
  }

  /**
   * @internal Copies the object's bytes `[offset, offset + len)` (pages; zero past the end) into `dst`, from the
   * cache or block when there, else straight from the pager. False when the pager throws.
   */
  copyOut(offset: number, len: number, dst: number): boolean {
    const mem = this.ctx.mem;
    if (this.base >= 0) {
      mem.copy(dst, this.base + offset, len);
      return true;
    }
    if (this.blockPa >= 0) {
      mem.copy(dst, this.blockPa + offset, len);
      return true;
    }
    const ps = this.ctx.pageSize;
    for (let off = 0; off < len; off += ps) {
      const cached = this.cache === null ? NOT_CACHED : this.cache.get((offset + off) / ps);
      if (cached !== NOT_CACHED) mem.copy(dst + off, cached, ps);
      else if (!this.fill(dst + off, offset + off, ps)) return false;
    }
    return true;
  }

  /** @internal Verifies the object's own state (page-cache frames allocated to applications). */
  check(): void {
    invariant(this.refCount > 0, `object ${this.id} is registered but dead`);
    invariant(this.userRefs >= 0 && this.userRefs <= this.refCount, `object ${this.id}: ${this.userRefs} creator references of ${this.refCount}`);
    const owner = (pa: number): number | undefined => {
      const f = this.ctx.alloc.get(pa);
      return f === undefined || f.free ? undefined : f.owner;
    };
    this.cache?.check(`object ${this.id} (${this.name})`, owner);
    if (this.blockPa >= 0) invariant(owner(this.blockPa) === PageOwner.APP, `object ${this.id}: block is not an allocated application frame`);
  }

  /** @internal The creator's references (for cross-checks). */
  get creatorRefs(): number {
    return this.userRefs;
  }

  /** @internal Frames held (cached pages; the block as its first address), for cross-checks. */
  frames(): number[] {
    const out: number[] = [];
    if (this.blockPa >= 0) out.push(this.blockPa);
    if (this.cache !== null) for (const pa of this.cache.frames) if (pa !== NOT_CACHED) out.push(pa);
    return out;
  }

  // The RAM pages of a physical object's range (a range may also cover reserved regions, which are not frames).
  private ramPages(): number[] {
    const out: number[] = [];
    const ps = this.ctx.pageSize;
    for (let p = this.base; p < this.base + this.pages * ps; p += ps) if (this.ctx.alloc.get(p) !== undefined) out.push(p);
    return out;
  }

  // Reads the pager's bytes [offset, offset+len) into the zeroed frame(s) at pa; anonymous objects stay zero.
  private fill(pa: number, offset: number, len: number): boolean {
    if (this.pager === null) {
      // An anonymous object's page evicted to swap reads back from its slot (fills are page by page here).
      const slot = this.cache === null ? -1 : this.cache.slotOf(offset / this.ctx.pageSize);
      if (slot >= 0) this.ctx.mem.write(pa, this.ctx.reclaimer!.swap!.read(slot));
      return true;
    }
    const n = Math.max(0, Math.min(len, this.size - offset));
    if (n === 0) return true;
    const buf = new Uint8Array(n);
    try {
      this.pager.read(offset, buf);
    } catch {
      return false;
    }
    this.ctx.mem.write(pa, buf);
    return true;
  }

  // A page stays dirty once written through a SHARED mapping: its translation may still be writable (the object
  // cannot reach the page tables to write-protect it again), so every later sync writes it back too.
  private writeBack(): void {
    const pager = this.pager;
    if (pager === null || pager.write === undefined) return;
    const ps = this.ctx.pageSize;
    const mem = this.ctx.mem;
    if (this.blockPa >= 0) {
      if (this.blockDirty) pager.write(0, mem.read(this.blockPa, this.size));
      return;
    }
    const c = this.cache;
    if (c === null) return;
    for (let i = 0; i < this.pages; i++) {
      if (c.dirty[i] === 0) continue;
      const off = i * ps;
      pager.write(off, mem.read(c.get(i), Math.min(ps, this.size - off)));
    }
  }
}

/** @internal `evictPage`: the page was dropped (its pager has it). */
export const EVICT_DROPPED = -2;
/** @internal `evictPage`: the page could not go and stays. */
export const EVICT_KEPT = -1;

function hasCache(ctx: MemContext, kind: ObjectKind): boolean {
  return ctx.hasMmu && (kind === 'pager' || kind === 'anonymous');
}

/** Validates a physical range for `createPhysObject`: page-aligned, in the board, RAM only if not free. */
export function checkPhysRange(ctx: MemContext, pa: unknown, size: unknown, device: boolean): void {
  const ps = ctx.pageSize;
  if (typeof pa !== 'number' || !Number.isSafeInteger(pa) || pa < 0 || pa % ps !== 0) {
    throw new VmError('EINVAL', `pa must be a ${ps}-byte-aligned physical address, got ${hex(pa)}`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || !Number.isSafeInteger(pa + size)) {
    throw new VmError('EINVAL', `size must be a positive integer, got ${hex(size)}`);
  }
  const board = ctx.mem.board;
  const end = pa + Math.ceil(size / ps) * ps;
  for (let p = pa; p < end; p += ps) {
    const r = board.regionAt(p);
    if (r === undefined) throw new VmError('EINVAL', `pa 0x${p.toString(16)} (in range at ${hex(pa)}) is not in the board's memory map`);
    if (device && r.kind !== 'device') {
      throw new VmError('EINVAL', `a device range must lie in a device region; 0x${p.toString(16)} is ${r.kind} (${r.name})`);
    }
    if (!device && r.kind === 'device') {
      throw new VmError('EINVAL', `0x${p.toString(16)} is a device region (${r.name}): pass { device: true }`);
    }
    if (r.kind === 'ram') {
      const f = ctx.alloc.get(p);
      // A free frame could be handed to someone else while mapped here.
      if (f !== undefined && f.free) throw new VmError('EINVAL', `pa 0x${p.toString(16)} is a free frame: allocate or reserve it first`);
    }
  }
}
