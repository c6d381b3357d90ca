import { FaultCode, PageOwner, Prot, VmError, invariant, hex } from '@vmlayers/phys';
import type { PageAllocator, PageOwnerValue } from '@vmlayers/phys';
import type { Backing, BackingPage } from './backing.js';
import { PageStore } from './internal/page-store.js';

/** Options of {@link ZeroFillBacking}. */
export interface ZeroFillOptions {
  /** Who owns the frames: `PageOwner.APP` (default) or `PageOwner.KERNEL`. */
  owner?: PageOwnerValue;
  /** Shown in the maps listing; default `[anon]`. */
  name?: string;
}

// The store `ZeroFillBacking.on` hands to the constructor.
let handOver: PageStore | null = null;

/**
 * Anonymous memory that reads as zeros until written: a frame from the allocator on the first fault of each page,
 * an eager copy of the entry's resident pages on fork (memobj supplies copy-on-write backings), frames given back on
 * `unmap`/`release`. Without an MMU, `contiguous` takes one block from the allocator for the whole mapping.
 *
 * A `ZeroFillBacking` is a handle on a store of pages keyed by offset: `split` makes another handle on the same
 * store, so the parts of an entry cut by `munmap`/`mprotect` merge back, and two adjacent anonymous entries merge
 * by moving one store's pages into the other. It never shares anything a write must not change (`shared()` is
 * false), so its entries are never needs-copy. A handle may be given to `mmap` once.
 */
export class ZeroFillBacking implements Backing {
  readonly name: string;
  readonly maxProt: number = Prot.READ | Prot.WRITE | Prot.EXEC;
  /** @internal The pages, shared with every handle split from this one. */
  store: PageStore;
  private released = false;
  private readonly result: BackingPage = { pa: 0, writable: true };

  /** A new, empty anonymous memory whose frames come from `alloc`. Bad options → `EINVAL`. */
  constructor(alloc: PageAllocator, options: ZeroFillOptions = {}) {
    if (alloc === null || typeof alloc !== 'object' || typeof alloc.allocPa !== 'function') {
      throw new VmError('EINVAL', 'alloc must be a PageAllocator');
    }
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', `options must be an object, got ${hex(options)}`);
    const owner = options.owner ?? PageOwner.APP;
    if (owner !== PageOwner.APP && owner !== PageOwner.KERNEL) {
      throw new VmError('EINVAL', `owner must be PageOwner.APP or PageOwner.KERNEL, got ${hex(owner)}`);
    }
    this.store = handOver ?? new PageStore(alloc, owner);
    handOver = null;
    this.name = options.name === undefined ? '[anon]' : String(options.name);
    this.store.handles++;
  }

  /** Frames this memory holds now (all handles together). */
  get residentPages(): number {
    return this.store.resident + (this.store.blockPa >= 0 ? Math.ceil(this.store.blockBytes / this.store.pageSize) : 0);
  }

  fault(offset: number, _access: number): BackingPage | number {
    const s = this.store;
    if (this.released) return FaultCode.NOT_MAPPED;
    if (s.blockPa >= 0) {
      if (offset < s.blockOffset || offset >= s.blockOffset + s.blockBytes) return FaultCode.BAD_ADDRESS;
      this.result.pa = s.blockPa + (offset - s.blockOffset);
      return this.result;
    }
    const pa = s.touch(Math.floor(offset / s.pageSize));
    if (pa < 0) return FaultCode.NO_MEMORY;
    this.result.pa = pa;
    return this.result;
  }

  split(_offset: number, _size: number): Backing {
    this.live('split');
    return ZeroFillBacking.on(this.store, this.name);
  }

  canMerge(other: Backing, _offsetDelta: number): boolean {
    if (!(other instanceof ZeroFillBacking) || other === this || this.released || other.released) return false;
    const a = this.store;
    const b = other.store;
    if (a === b) return true;
    // Two stores become one by moving the pages of the store that only one handle holds; a block cannot move.
    return (
      a.alloc === b.alloc && a.owner === b.owner && a.blockPa < 0 && b.blockPa < 0 && (a.handles === 1 || b.handles === 1)
    );
  }

  merge(other: Backing, _offsetDelta: number): void {
    const o = other as ZeroFillBacking;
    if (o.store === this.store) return;
    // The mapper has checked that the offsets are contiguous: the two stores' pages are at disjoint offsets.
    if (o.store.handles === 1) this.store.adopt(o.store);
    else {
      o.store.adopt(this.store);
      this.store.handles--;
      this.store = o.store;
      this.store.handles++;
    }
  }

  fork(offset: number, size: number): Backing {
    this.live('fork');
    const ps = this.store.pageSize;
    const child = this.store.copyRange(Math.floor(offset / ps), Math.ceil((offset + size) / ps));
    return ZeroFillBacking.on(child, this.name);
  }

  /** Nothing to do: the pages are this memory's own (fork copied them). */
  copy(_offset: number, _size: number): void {
    this.live('copy');
  }

  shared(): boolean {
    return false;
  }

  unmap(offset: number, size: number): void {
    this.live('unmap');
    const ps = this.store.pageSize;
    this.store.drop(Math.floor(offset / ps), Math.ceil((offset + size) / ps));
  }

  release(): void {
    this.live('release');
    this.released = true;
    if (--this.store.handles === 0) this.store.dropAll();
  }

  contiguous(offset: number, size: number): number {
    if (this.released) return FaultCode.NOT_MAPPED;
    const pa = this.store.block(offset, size);
    return pa < 0 ? FaultCode.NO_MEMORY : pa;
  }

  // Another handle on `store` (the constructor takes it from `handOver`: callers of the public constructor always
  // start an empty store).
  private static on(store: PageStore, name: string): ZeroFillBacking {
    handOver = store;
    try {
      return new ZeroFillBacking(store.alloc, { name });
    } finally {
      handOver = null;
    }
  }

  private live(op: string): void {
    if (this.released) throw new VmError('EINVAL', `${op} on backing ${this.name} after its release()`);
  }
}

/**
 * @internal Checks the zero-fill memory of one map: every frame a store holds is at an offset one of the map's
 * entries maps through a handle of that store, and is allocated to the store's owner. `spans` lists, per handle,
 * the offsets `[from, to)` its entry maps.
 */
export function checkZeroFill(spans: readonly [ZeroFillBacking, number, number][], alloc: PageAllocator): void {
  const byStore = new Map<PageStore, number[]>();
  for (const [b, from, to] of spans) {
    let list = byStore.get(b.store);
    if (list === undefined) byStore.set(b.store, (list = []));
    list.push(from, to);
  }
  for (const [store, list] of byStore) {
    let resident = 0;
    for (const [pn, pa] of store.residentPages()) {
      resident++;
      const off = pn * store.pageSize;
      let inside = false;
      for (let i = 0; i < list.length && !inside; i += 2) inside = off >= list[i] && off < list[i + 1];
      invariant(inside, `zero-fill page at offset ${hex(off)} (frame ${hex(pa)}) is held but mapped by no entry`);
      const f = alloc.get(pa);
      invariant(f !== undefined && !f.free && f.owner === store.owner, `zero-fill frame ${hex(pa)} is not allocated to owner ${store.owner}`);
    }
    invariant(resident === store.resident, `zero-fill store counts ${store.resident} pages, holds ${resident}`);
    if (store.blockPa >= 0) {
      const f = alloc.get(store.blockPa);
      invariant(f !== undefined && !f.free && f.pa === store.blockPa, `zero-fill block ${hex(store.blockPa)} is not an allocated block`);
    }
  }
}
