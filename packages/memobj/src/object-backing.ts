import { Access, FaultCode, Prot, VmError } from '@vmlayers/phys';
import type { Backing, BackingPage } from '@vmlayers/mapper';
import { Amap, NO_ANON } from './amap.js';
import type { MemContext } from './internal/context.js';
import type { VmObject } from './vm-object.js';

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/**
 * The offset space of one anonymous mapping, shared by the handles split from it: anonymous handles extend each
 * other only within one space.
 */
export interface AnonSpace {
  /** Bytes of the space (offsets `[0, size)`). */
  readonly size: number;
}

/** A no-MMU private block shared by the handles split from one mapping; freed with the last of them. */
interface PrivateBlock {
  pa: number;
  offset: number;
  bytes: number;
  handles: number;
}

/** How a backing maps its object. */
export interface ObjectBackingSpec {
  /** The object, or null for anonymous memory (then `space` is required). */
  object: VmObject | null;
  space?: AnonSpace;
  /** `SHARED`: the object's pages themselves, writes visible to every sharer; else private copy-on-write. */
  shared: boolean;
  /** The entry's first offset and its size in bytes. */
  offset: number;
  size: number;
  /** Most the entry may allow (`Prot` R/W/X). */
  maxProt: number;
  pid: number;
  /** No MMU, private and writable: the mapping gets its own copy of the data when it is made. */
  copyOnMap?: boolean;
}

/**
 * What a map entry of a process maps (mapper's `Backing`), in the design of UVM and the original `vm/amap.c`: an
 * object (or nothing: anonymous memory) seen through an amap of private pages.
 *
 * - Private mappings read the object's own frames (one frame however many processes map it) and get a private
 *   copy of a page on its first write; anonymous memory is zero-filled on first touch.
 * - Fork shares the amap and takes one more reference on every anon (the original's `amap_ref` +
 *   `amap_getanons`), and marks both sides needs-copy. The first write of a side with a shared amap detaches its
 *   slots into an amap of its own (`amap_create`); then a page whose anon has one reference is written in place,
 *   one with more is copied and the reference dropped.
 * - `SHARED` mappings map the object's pages writable; anonymous shared memory is an anonymous object, so a
 *   forked child really shares it.
 * - Without an MMU, `contiguous` hands out one block: the object's own for shared and read-only mappings (so
 *   processes share it), a private copy for writable private ones, a zeroed block for anonymous memory.
 *
 * A handle knows the range of offsets its entry maps (`lo`/`hi`), because the anons it holds references on are
 * exactly the amap slots of that range. `split` and `unmap` keep it; merges happen only between handles with no
 * amap, where the range is not needed; `Process.fork` re-reads ranges from the map before copying.
 */
export class ObjectBacking implements Backing {
  readonly name: string;
  readonly maxProt: number;
  /** @internal */
  readonly ctx: MemContext;
  /** The mapped object; null for anonymous memory. */
  readonly object: VmObject | null;
  /** @internal */
  readonly space: AnonSpace | null;
  /** A `SHARED` mapping. */
  readonly shared: boolean;
  /** @internal The amap of private pages (null until the first private page). */
  amap: Amap | null = null;
  /** @internal Offset of the amap's slot 0. */
  amapBase = 0;
  /** @internal The entry's offsets `[lo, hi)`; trusted only while `rangeKnown`. */
  lo: number;
  /** @internal */
  hi: number;
  /** @internal */
  rangeKnown = true;
  // Offsets unmapped strictly inside the range, until the split that ends them (mapper: unmap, then split).
  private holes: number[] = [];
  // The handle below that said it can absorb this one (canMerge); it takes this range if the mapper merges.
  private absorber: ObjectBacking | null = null;
  /** @internal The amap may be shared with a fork twin: a write (or a new page) detaches it first. */
  needsCopy = false;
  /** @internal End of the offsets this mapping can ever cover (an amap made without a known range spans it). */
  spaceEnd: number;
  /** @internal The process, for events. */
  pid: number;
  /** @internal va − offset of this entry, for events; NaN until known. */
  vaBias = Number.NaN;
  private readonly copyOnMap: boolean;
  private block: PrivateBlock | null = null;
  private released = false;
  private readonly result: BackingPage = { pa: 0, writable: false };

  constructor(ctx: MemContext, spec: ObjectBackingSpec) {
    const o = spec.object;
    if (o === null && spec.space === undefined) throw new VmError('EINVAL', 'an anonymous backing needs its space');
    this.ctx = ctx;
    this.object = o;
    this.space = o === null ? spec.space! : null;
    this.shared = spec.shared || (o !== null && o.kind === 'device');
    this.lo = spec.offset;
    this.hi = spec.offset + spec.size;
    this.maxProt = spec.maxProt & RWX;
    this.pid = spec.pid;
    this.copyOnMap = spec.copyOnMap === true && !this.shared;
    this.name = o === null ? (this.shared ? '[shared anon]' : '[anon]') : o.name;
    this.spaceEnd = o === null ? this.space!.size : Math.max(o.pageCount * ctx.pageSize, this.hi);
    o?.ref();
  }

  /** @internal True once the entry holding this handle is gone. */
  get isReleased(): boolean {
    return this.released;
  }

  fault(offset: number, access: number): BackingPage | number {
    if (this.released) return FaultCode.NOT_MAPPED;
    const ctx = this.ctx;
    const ps = ctx.pageSize;
    if (!ctx.hasMmu) {
      const pa = this.blockAt(offset);
      if (pa < 0) return pa;
      this.result.pa = pa;
      this.result.writable = true;
      return this.result;
    }
    const write = (access & Access.WRITE) !== 0;
    const obj = this.object;
    const r = this.result;
    if (this.shared) {
      // The fault first, then what served it (a page-cache fill emits its alloc), as on the private path.
      this.traceFault(offset, access);
      const pa = obj!.page(offset, this.pid, this.vaOf(offset));
      if (pa < 0) return pa;
      // A read maps a pager's page read-only so that the first write is seen and the page marked dirty.
      if (write) obj!.markDirty(offset);
      r.pa = pa;
      r.writable = write || obj!.pager === null;
      return r;
    }
    this.traceFault(offset, access);
    // Private pages past the object's end (a segment's bss) are anonymous memory.
    const src0 = obj !== null && offset < obj.pageCount * ps ? obj : null;
    let amap = this.amap;
    if (amap !== null && this.needsCopy && amap.refs === 1) this.needsCopy = false;
    let slot = amap === null ? -1 : (offset - this.amapBase) / ps;
    let anon = amap === null ? NO_ANON : amap.slots[slot];
    if (anon === undefined) return FaultCode.BAD_ADDRESS;
    if (!write && (anon !== NO_ANON || src0 !== null)) {
      // Reads never copy: the anon's page, or the object's own page while no private copy exists.
      if (anon !== NO_ANON) {
        r.pa = ctx.anons.pa(anon);
        r.writable = !this.needsCopy && ctx.anons.refs(anon) === 1;
        return r;
      }
      const pa = src0!.page(offset, this.pid, this.vaOf(offset));
      if (pa < 0) return pa;
      r.pa = pa;
      r.writable = false;
      return r;
    }
    // From here a page will be written or created in the amap: it must be this handle's own.
    if (amap !== null && this.needsCopy) {
      try {
        amap = this.detach();
      } catch {
        return FaultCode.NO_MEMORY;
      }
      slot = (offset - this.amapBase) / ps;
      anon = amap.slots[slot];
      if (anon === undefined) return FaultCode.BAD_ADDRESS;
    } else if (amap === null) {
      try {
        amap = this.createAmap();
      } catch {
        return FaultCode.NO_MEMORY;
      }
      slot = (offset - this.amapBase) / ps;
      anon = NO_ANON;
      if (slot < 0 || slot >= amap.slots.length) return FaultCode.BAD_ADDRESS;
    }
    const anons = ctx.anons;
    if (anon !== NO_ANON && anons.refs(anon) === 1) {
      r.pa = anons.pa(anon);
      r.writable = true;
      return r;
    }
    // A new private page: a copy of the shared anon, of the object's page, or zeros.
    let src = -1;
    if (anon !== NO_ANON) src = anons.pa(anon);
    else if (src0 !== null) {
      src = src0.page(offset, this.pid, this.vaOf(offset));
      if (src < 0) return src;
    }
    const va = this.vaOf(offset);
    const pa = ctx.frame(ps, this.pid, va, this.name);
    if (pa < 0) return FaultCode.NO_MEMORY;
    const fresh = anons.create(pa);
    if (fresh < 0) {
      ctx.freeFrame(pa, ps, this.name);
      return FaultCode.NO_MEMORY;
    }
    if (src >= 0) ctx.mem.copy(pa, src, ps);
    amap.slots[slot] = fresh;
    // The shared anon keeps its other owners; this handle's reference is the one being replaced.
    if (anon !== NO_ANON) anons.unref(anon);
    if (ctx.listener !== null) {
      if (src >= 0) ctx.emit({ type: 'cow', pid: this.pid, va, pa, from: src });
      else ctx.emit({ type: 'zero-fill', pid: this.pid, va, pa });
    }
    r.pa = pa;
    r.writable = true;
    return r;
  }

  split(offset: number): Backing {
    this.live('split');
    const up = new ObjectBacking(this.ctx, {
      object: this.object,
      space: this.space ?? undefined,
      shared: this.shared,
      offset,
      size: Math.max(0, this.hi - offset),
      maxProt: this.maxProt,
      pid: this.pid,
      copyOnMap: this.copyOnMap,
    });
    up.vaBias = this.vaBias;
    up.spaceEnd = this.spaceEnd;
    up.needsCopy = this.needsCopy;
    up.rangeKnown = this.rangeKnown;
    if (this.amap !== null) {
      this.amap.ref();
      up.amap = this.amap;
      up.amapBase = this.amapBase;
    }
    if (this.block !== null) {
      this.block.handles++;
      up.block = this.block;
    }
    // Holes above the cut go with the upper part; the lower part ends at the cut, less a hole that reaches it.
    const low: number[] = [];
    for (let i = 0; i < this.holes.length; i += 2) {
      const a = this.holes[i];
      const b = this.holes[i + 1];
      if (b <= offset) low.push(a, b);
      else if (a >= offset) up.holes.push(a, b);
      else {
        low.push(a, offset);
        up.holes.push(offset, b);
      }
    }
    this.holes = low;
    this.hi = offset;
    this.trimHoles();
    up.trimHoles();
    return up;
  }

  canMerge(other: Backing, offsetDelta: number): boolean {
    if (!(other instanceof ObjectBacking) || other === this) return false;
    const alike =
      !this.released &&
      !other.released &&
      other.ctx === this.ctx &&
      this.block === null &&
      other.block === null &&
      this.object === other.object &&
      this.space === other.space &&
      this.shared === other.shared &&
      this.maxProt === other.maxProt &&
      this.copyOnMap === other.copyOnMap;
    if (!alike) return false;
    if (this.amap !== null || other.amap !== null) {
      // An amap's slots belong to exactly the range of the handle holding references on them, so handles with
      // private pages merge only with the other half of a cut of one amap, adjacent and whole (never an amap a
      // neighbour or fork twin uses for other pages: the original's merge bug, project#1714). The mapper merges
      // by dropping the upper entry: its range goes to this handle when it is released (see `release`).
      const ok =
        this.amap === other.amap &&
        this.amapBase === other.amapBase &&
        this.needsCopy === other.needsCopy &&
        this.rangeKnown &&
        other.rangeKnown &&
        this.holes.length === 0 &&
        other.holes.length === 0 &&
        this.hi === other.lo &&
        this.lo + offsetDelta === other.lo;
      if (ok) other.absorber = this;
      return ok;
    }
    // No private pages on either side: whichever survives maps the union, and its range is no longer what it knows
    // (re-read from the map before a fork; an amap made meanwhile spans the whole space).
    this.rangeKnown = false;
    other.rangeKnown = false;
    this.spaceEnd = other.spaceEnd = Math.max(this.spaceEnd, other.spaceEnd);
    return true;
  }

  fork(_batch?: object): Backing {
    this.live('fork');
    if (!this.ctx.hasMmu) throw new VmError('ENOSYS', 'fork needs an MMU');
    const child = new ObjectBacking(this.ctx, {
      object: this.object,
      space: this.space ?? undefined,
      shared: this.shared,
      offset: this.lo,
      size: this.hi - this.lo,
      maxProt: this.maxProt,
      pid: this.pid,
    });
    child.vaBias = this.vaBias;
    child.spaceEnd = this.spaceEnd;
    child.rangeKnown = this.rangeKnown;
    if (!this.shared) {
      if (this.amap !== null) {
        this.amap.ref();
        child.amap = this.amap;
        child.amapBase = this.amapBase;
        this.forEachOwnedSlot((from, to) => this.amap!.getAnons(from, to));
        child.holes = this.holes.slice();
      }
      // Writable private memory is copy-on-write on both sides from now on (decided by maxProt, not the current
      // prot: a page made read-only by mprotect may be made writable again, PR #608).
      if (this.maxProt & Prot.WRITE) {
        this.needsCopy = true;
        child.needsCopy = true;
      }
    }
    return child;
  }

  unmap(offset: number, size: number): void {
    if (this.released) return;
    const a = Math.max(offset, this.lo);
    const b = Math.min(offset + size, this.hi);
    const amap = this.amap;
    if (amap !== null && this.ctx.hasMmu) {
      const ps = this.ctx.pageSize;
      const lo = this.rangeKnown ? a : offset;
      const hi = this.rangeKnown ? b : offset + size;
      const from = Math.max(0, (lo - this.amapBase) / ps);
      const to = Math.min(amap.slots.length, (hi - this.amapBase) / ps);
      // The sole owner empties its slots; a shared amap keeps them for the twin that still maps them.
      if (from < to) amap.putAnons(from, to, amap.refs === 1);
    }
    if (!this.rangeKnown || a >= b) return;
    if (a <= this.lo) this.lo = b;
    else if (b >= this.hi) this.hi = a;
    else this.holes.push(a, b);
    this.trimHoles();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Released with pages still in range: the mapper merged this entry into the one below (it unmaps an entry's
    // pages before dropping it otherwise), whose handle now owns them.
    const s = this.absorber;
    if (s !== null && this.lo < this.hi && !s.released && s.amap === this.amap && s.hi === this.lo) s.hi = this.hi;
    this.absorber = null;
    // The pages went with unmap (the mapper unmaps before it drops an entry that had any).
    if (this.amap !== null) this.amap.put();
    this.amap = null;
    if (this.block !== null && --this.block.handles === 0) this.ctx.freeFrame(this.block.pa, this.block.bytes, this.name);
    this.block = null;
    this.object?.put();
  }

  contiguous(offset: number, size: number): number {
    if (this.released) return FaultCode.NOT_MAPPED;
    const ctx = this.ctx;
    const o = this.object;
    if (o !== null && !this.copyOnMap) {
      if (offset + size > o.pageCount * ctx.pageSize) return FaultCode.BAD_ADDRESS;
      const base = o.block(this.pid);
      if (base < 0) return base;
      if (this.shared && this.maxProt & Prot.WRITE) o.markDirty(offset);
      return base + offset;
    }
    if (this.block !== null) {
      const b = this.block;
      return offset >= b.offset && offset + size <= b.offset + b.bytes ? b.pa + (offset - b.offset) : FaultCode.BAD_ADDRESS;
    }
    // Frames come zeroed from the allocator: anonymous memory without an MMU reads as zeros (the original's
    // project#1742 handed out whatever the range held).
    const pa = ctx.frame(size, this.pid, undefined, this.name);
    if (pa < 0) return FaultCode.NO_MEMORY;
    const data = o === null ? 0 : Math.max(0, Math.min(size, o.pageCount * ctx.pageSize - offset));
    if (o !== null && data > 0 && !o.copyOut(offset, data, pa)) {
      ctx.freeFrame(pa, size, this.name);
      return FaultCode.BAD_ADDRESS;
    }
    this.block = { pa, offset, bytes: size, handles: 1 };
    return pa;
  }

  /**
   * @internal Calls `fn(from, to)` for the amap slot ranges whose anons this handle holds references on: its
   * range less its holes.
   */
  forEachOwnedSlot(fn: (from: number, to: number) => void, range?: { lo: number; hi: number }): void {
    const amap = this.amap;
    if (amap === null) return;
    const ps = this.ctx.pageSize;
    if (range !== undefined) {
      const from = Math.max(0, (range.lo - this.amapBase) / ps);
      const to = Math.min(amap.slots.length, (range.hi - this.amapBase) / ps);
      if (from < to) fn(from, to);
      return;
    }
    const clip = (a: number, b: number): void => {
      const from = Math.max(0, (a - this.amapBase) / ps);
      const to = Math.min(amap.slots.length, (b - this.amapBase) / ps);
      if (from < to) fn(from, to);
    };
    let at = this.lo;
    for (let i = 0; i < this.holes.length; i += 2) {
      clip(at, this.holes[i]);
      at = this.holes[i + 1];
    }
    clip(at, this.hi);
  }

  /** @internal Sets the range from the map's entry (the source of truth) when this handle lost track of it. */
  syncRange(offset: number, size: number, va: number): void {
    this.vaBias = va - offset;
    if (this.rangeKnown) return;
    this.lo = offset;
    this.hi = offset + size;
    this.holes = [];
    this.rangeKnown = true;
  }

  /** @internal The holes, for checks. */
  get holeCount(): number {
    return this.holes.length / 2;
  }

  // The original's amap_create for a needs-copy entry: its slots moved into an amap of its own.
  private detach(): Amap {
    const old = this.amap!;
    if (old.refs === 1) {
      this.needsCopy = false;
      return old;
    }
    const ps = this.ctx.pageSize;
    const from = Math.max(0, (this.lo - this.amapBase) / ps);
    const to = Math.min(old.slots.length, (this.hi - this.amapBase) / ps);
    const a = old.detach(from, to);
    // Slots of holes were not this handle's to take.
    const base = this.amapBase + from * ps;
    for (let i = 0; i < this.holes.length; i += 2) {
      a.slots.fill(NO_ANON, Math.max(0, (this.holes[i] - base) / ps), Math.min(a.slots.length, (this.holes[i + 1] - base) / ps));
    }
    this.amap = a;
    this.amapBase = base;
    this.needsCopy = false;
    return a;
  }

  // The first private page of this handle: an amap over its range, or over the whole space when the range is not
  // known (after a merge).
  private createAmap(): Amap {
    const ps = this.ctx.pageSize;
    let base: number;
    let end: number;
    if (this.rangeKnown) {
      base = this.lo;
      end = this.hi;
    } else {
      base = 0;
      end = this.spaceEnd;
    }
    const a = Amap.create(this.ctx, Math.max(1, Math.ceil((end - base) / ps)));
    this.amap = a;
    this.amapBase = base;
    this.needsCopy = false;
    return a;
  }

  // No MMU: the address of `offset` inside this mapping's block (the mapper populated the entry from it).
  private blockAt(offset: number): number {
    if (this.block !== null) return this.block.pa + (offset - this.block.offset);
    const o = this.object;
    if (o === null || this.copyOnMap) return FaultCode.NOT_MAPPED;
    const base = o.block(this.pid);
    return base < 0 ? base : base + offset;
  }

  private trimHoles(): void {
    const h = this.holes;
    let changed = true;
    while (changed && h.length > 0) {
      changed = false;
      for (let i = 0; i < h.length; i += 2) {
        if (h[i + 1] >= this.hi && h[i] < this.hi) this.hi = h[i];
        else if (h[i] <= this.lo && h[i + 1] > this.lo) this.lo = h[i + 1];
        else continue;
        h.splice(i, 2);
        changed = true;
        break;
      }
    }
    if (this.hi < this.lo) this.hi = this.lo;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] >= this.hi || h[i + 1] <= this.lo) {
        h.splice(i, 2);
        i -= 2;
      }
    }
  }

  private vaOf(offset: number): number | undefined {
    const va = offset + this.vaBias;
    return Number.isNaN(va) ? undefined : va;
  }

  private traceFault(offset: number, access: number): void {
    if (this.ctx.listener !== null) this.ctx.emit({ type: 'fault', pid: this.pid, va: this.vaOf(offset), access, object: this.name });
  }

  private live(op: string): void {
    if (this.released) throw new VmError('EINVAL', `${op} on a released ${this.name} backing`);
  }
}
