import { Access, FaultCode, isVmError } from '@vmlayers/phys';
import type { Backing, BackingPage } from '@vmlayers/mapper';
import { Amap, NO_ANON } from './amap.js';
import type { AmapHolder } from './amap.js';
import type { MemContext } from './internal/context.js';
import { ObjectMapping } from './object-mapping.js';
import type { MappingSpec } from './object-mapping.js';

/**
 * What a map entry of a process maps on an MMU (mapper's `Backing`), in the design of NetBSD UVM and the original
 * `vm/amap.c`: an object (or nothing: anonymous memory) seen through an amap of private pages.
 *
 * - The entry owns the range: every call that concerns one gets it, as UVM's `vm_aref`. The amap's slot 0 is at
 *   offset `amapBase`; an entry's slots are those of its offsets. A handle holds one reference on the amap, and
 *   one reference on every anon in the slots of its entry's range (so fork twins each hold one).
 * - A private mapping starts needs-copy (it shares the object's pages, or has nothing of its own yet): the mapper
 *   calls `copy` with the entry's range before the first fault, which makes an amap over exactly that range, or —
 *   after fork — moves the entry's slots out of the amap it shares with its twin (`amap_copy`).
 * - Private mappings read the object's own frames (one frame however many processes map it) and get a private copy
 *   of a page on its first write; a page with no data behind it is zero-filled on first touch. An anon with one
 *   reference is written in place; one with more is copied and the reference dropped.
 * - `SHARED` mappings map the object's pages writable; anonymous shared memory is an anonymous object, so a
 *   forked child really shares it.
 * - `split` shares the amap between the two parts; parts of one amap merge back, as do parts without one.
 */
export class AmapBacking extends ObjectMapping implements Backing {
  /** @internal The amap of private pages (null until the entry's first fault). */
  amap: Amap | null = null;
  /** @internal Offset of the amap's slot 0. */
  amapBase = 0;
  /** @internal va − offset of the entry, for events (set when the entry is placed). */
  vaBias = 0;
  // This handle's lineage: shared with the parts split from it, new for a fork twin.
  private readonly holder: AmapHolder;
  private readonly result: BackingPage = { pa: 0, writable: false };

  constructor(ctx: MemContext, spec: MappingSpec, memory?: object, holder: AmapHolder = {}) {
    super(ctx, spec, memory);
    this.holder = holder;
  }

  fault(offset: number, access: number): BackingPage | number {
    if (this.released) return FaultCode.NOT_MAPPED;
    const ctx = this.ctx;
    const ps = ctx.pageSize;
    const write = (access & Access.WRITE) !== 0;
    const obj = this.object;
    const r = this.result;
    const va = offset + this.vaBias;
    // The fault first, then what served it (a page-cache fill emits its alloc).
    if (ctx.listener !== null) ctx.emit({ type: 'fault', pid: this.pid, va, access, object: this.name });
    ctx.countFault(this.pid, false);
    if (this.isShared) {
      const pa = obj!.page(offset, this.pid, va);
      if (pa < 0) return pa;
      // A read maps a pager's page read-only so that the first write is seen and the page marked dirty.
      if (write) obj!.markDirty(offset);
      r.pa = pa;
      r.writable = write || obj!.pager === null;
      return r;
    }
    const amap = this.amap;
    // The mapper gives a private entry its amap (copy) before its first fault.
    if (amap === null) return FaultCode.BAD_ADDRESS;
    const slot = (offset - this.amapBase) / ps;
    if (!(slot >= 0 && slot < amap.length)) return FaultCode.BAD_ADDRESS;
    const anons = ctx.anons;
    const anon = amap.get(slot);
    // Private pages past the object's end (a segment's bss) are anonymous memory.
    const src0 = obj !== null && offset < obj.pageCount * ps ? obj : null;
    if (anon !== NO_ANON) {
      // A swapped-out page comes back first (a major fault).
      const held = anons.resident(anon, this.pid, va);
      if (held < 0) return held;
      if (anons.refs(anon) === 1) {
        r.pa = held;
        r.writable = true;
        return r;
      }
      if (!write) {
        r.pa = held;
        r.writable = false;
        return r;
      }
    } else if (!write && (src0 !== null || ctx.zeroPage >= 0)) {
      // Reads never copy: the object's own page while no private copy exists, or — nothing behind the page — the
      // shared zero page, read-only, as Linux's ZERO_PAGE: the first write faults again and gets a page of its own.
      const pa = src0 !== null ? src0.page(offset, this.pid, va) : ctx.zeroPage;
      if (pa < 0) return pa;
      if (src0 === null && ctx.listener !== null) ctx.emit({ type: 'zero-page', pid: this.pid, va, pa });
      r.pa = pa;
      r.writable = false;
      return r;
    }
    // A new private page: a copy of the shared anon, of the object's page, or zeros.
    let src = -1;
    if (anon !== NO_ANON) src = anons.pa(anon); // resident: brought back above
    else if (src0 !== null) {
      src = src0.page(offset, this.pid, va);
      if (src < 0) return src;
    }
    // The slot's chunk first: nothing is taken yet if the kernel heap says no.
    try {
      amap.reserve(slot);
    } catch (e) {
      if (!isVmError(e, 'ENOMEM')) throw e;
      return FaultCode.NO_MEMORY;
    }
    // The page copied from must stay while the new frame is found (which may evict).
    const reclaimer = ctx.reclaimer;
    if (reclaimer !== null && src >= 0) reclaimer.hold(src);
    const pa = ctx.frame(ps, true);
    if (reclaimer !== null && src >= 0) reclaimer.release(src);
    if (pa < 0) {
      amap.unreserve(slot);
      return FaultCode.NO_MEMORY;
    }
    const fresh = anons.create(pa);
    if (fresh < 0) {
      ctx.dropFrame(pa, ps);
      amap.unreserve(slot);
      return FaultCode.NO_MEMORY;
    }
    if (src >= 0) ctx.mem.copy(pa, src, ps);
    amap.set(slot, fresh);
    // The shared anon keeps its other owners; this entry's reference is the one being replaced.
    if (anon !== NO_ANON) anons.unref(anon);
    if (ctx.listener !== null) {
      ctx.allocated(pa, ps, this.name, this.pid, va);
      if (src >= 0) ctx.emit({ type: 'cow', pid: this.pid, va, pa, from: src });
      else ctx.emit({ type: 'zero-fill', pid: this.pid, va, pa });
    }
    r.pa = pa;
    r.writable = true;
    return r;
  }

  split(_offset: number, _size: number): Backing {
    this.live('split');
    const up = new AmapBacking(this.ctx, this.spec, this.memory, this.holder);
    up.vaBias = this.vaBias;
    if (this.amap !== null) {
      this.amap.ref(this.holder);
      up.amap = this.amap;
      up.amapBase = this.amapBase;
    }
    return up;
  }

  canMerge(other: Backing, _offsetDelta: number): boolean {
    // Parts of one amap (its slots cover both ranges), or parts with no private pages yet; never an amap a
    // neighbour or a fork twin uses for other pages (the original's merge bug, project#1714).
    return other instanceof AmapBacking && this.alike(other) && other.amap === this.amap && other.amapBase === this.amapBase;
  }

  merge(_other: Backing, _offsetDelta: number): void {
    // Same amap or none: the range's slots are already this amap's, and `other` drops its amap reference when the
    // mapper releases it. The anon references go with the range, which the merged entry now maps.
  }

  fork(offset: number, size: number): Backing {
    this.live('fork');
    const child = new AmapBacking(this.ctx, this.spec, this.memory);
    child.vaBias = this.vaBias;
    const amap = this.amap;
    if (!this.isShared && amap !== null) {
      // UVM's amap_ref: the twin shares the amap and owns the anons of its range too.
      amap.ref(child.holder);
      child.amap = amap;
      child.amapBase = this.amapBase;
      const [from, to] = this.slotRange(offset, size);
      amap.getAnons(from, to);
    }
    return child;
  }

  copy(offset: number, size: number): void {
    this.live('copy');
    if (this.isShared) return;
    const amap = this.amap;
    if (amap === null) {
      this.amap = Amap.create(this.ctx, Math.max(1, Math.ceil(size / this.ctx.pageSize)), this.holder);
      this.amapBase = offset;
    } else if (amap.twinned) {
      // Its slots move into an amap of its own; the anon references go with them.
      const [from, to] = this.slotRange(offset, size);
      this.amap = amap.detach(from, to, this.holder);
      this.amapBase = offset;
    }
  }

  shared(): boolean {
    return !this.isShared && (this.amap === null || this.amap.twinned);
  }

  unmap(offset: number, size: number): void {
    this.live('unmap');
    const amap = this.amap;
    if (amap === null) return;
    const [from, to] = this.slotRange(offset, size);
    // Slots no twin maps are emptied; a twinned amap keeps them for the twin that still owns them.
    if (from < to) amap.putAnons(from, to, !amap.twinned);
  }

  release(): void {
    this.live('release');
    this.released = true;
    // The pages went with unmap (the mapper unmaps before it drops an entry, except into a merge).
    this.amap?.put(this.holder);
    this.amap = null;
    this.dropObject();
  }

  /** There is no contiguous block with an MMU. */
  contiguous(_offset: number, _size: number): number {
    return FaultCode.BAD_ADDRESS;
  }

  /** @internal Bytes of private anonymous pages (anons) the entry `[offset, offset + size)` holds: the original's `anonsz`. */
  anonymousBytes(offset: number, size: number): number {
    const amap = this.amap;
    if (amap === null) return 0;
    const [from, to] = this.slotRange(offset, size);
    let n = 0;
    amap.forEach(from, to, () => n++);
    return n * this.ctx.pageSize;
  }

  /** @internal The amap slots `[from, to)` of the offsets `[offset, offset + size)`, clipped to the amap. */
  slotRange(offset: number, size: number): [number, number] {
    const amap = this.amap;
    if (amap === null) return [0, 0];
    const ps = this.ctx.pageSize;
    const from = Math.max(0, (offset - this.amapBase) / ps);
    const to = Math.min(amap.length, (offset + size - this.amapBase) / ps);
    return from < to ? [from, to] : [0, 0];
  }
}
