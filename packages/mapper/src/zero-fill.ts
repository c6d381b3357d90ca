import { FaultCode, PageOwner, Prot, VmError } from '@vmlayers/phys';
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

/**
 * Anonymous memory that reads as zeros until written: a frame from the allocator on the first fault of each page,
 * an eager copy of every resident page on fork (memobj supplies copy-on-write backings), frames given back on
 * `unmap`/`release`. Without an MMU, `contiguous` takes one block from the allocator for the whole mapping.
 *
 * A `ZeroFillBacking` is a handle: `split` makes another handle on the same pages, so the parts of an entry cut by
 * `munmap`/`mprotect` merge back. A handle may be given to `mmap` once (a second time → `EINVAL`): its pages belong
 * to the one mapping, which is what lets `unmap` free them.
 */
export class ZeroFillBacking implements Backing {
  readonly name: string;
  readonly maxProt: number = Prot.READ | Prot.WRITE | Prot.EXEC;
  /** @internal The pages, shared with every handle split from this one. */
  readonly store: PageStore;
  /** @internal Set when an entry holds this handle. */
  attached = false;
  private released = false;
  private readonly result: BackingPage = { pa: 0, writable: true };

  /** A new, empty anonymous memory whose frames come from `alloc`. Bad options → `EINVAL`. */
  constructor(alloc: PageAllocator, options: ZeroFillOptions = {}) {
    // split() and fork() make further handles on an existing store through this unlisted option; a caller's
    // options never carry a PageStore (the class is not exported), so a public construction always starts empty.
    const store = (options as { store?: PageStore }).store;
    if (store !== undefined && store instanceof PageStore) {
      this.store = store;
    } else {
      if (alloc === null || typeof alloc !== 'object' || typeof alloc.allocPa !== 'function') {
        throw new VmError('EINVAL', 'alloc must be a PageAllocator');
      }
      const owner = options.owner ?? PageOwner.APP;
      if (owner !== PageOwner.APP && owner !== PageOwner.KERNEL) {
        throw new VmError('EINVAL', `owner must be PageOwner.APP or PageOwner.KERNEL, got ${String(owner)}`);
      }
      this.store = new PageStore(alloc, owner);
    }
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

  split(_offset: number): Backing {
    this.live('split');
    return this.handle(this.store);
  }

  canMerge(other: Backing, _offsetDelta: number): boolean {
    return other instanceof ZeroFillBacking && other.store === this.store && !this.released && !other.released;
  }

  fork(batch?: object): Backing {
    this.live('fork');
    const s = this.store;
    if (batch !== undefined && s.forkBatch === batch && s.forkChild !== null) return this.handle(s.forkChild);
    const child = s.copy(s.owner);
    s.forkBatch = batch ?? null;
    s.forkChild = batch === undefined ? null : child;
    return this.handle(child);
  }

  unmap(offset: number, size: number): void {
    this.live('unmap');
    const ps = this.store.pageSize;
    this.store.drop(Math.floor(offset / ps), Math.ceil((offset + size) / ps));
  }

  release(): void {
    this.live('release');
    this.released = true;
    this.attached = false;
    if (--this.store.handles === 0) {
      this.store.dropAll();
      this.store.forkChild = null;
      this.store.forkBatch = null;
    }
  }

  contiguous(offset: number, size: number): number {
    if (this.released) return FaultCode.NOT_MAPPED;
    const pa = this.store.block(offset, size);
    return pa < 0 ? FaultCode.NO_MEMORY : pa;
  }

  private handle(store: PageStore): ZeroFillBacking {
    return new ZeroFillBacking(store.alloc, { name: this.name, store } as ZeroFillOptions);
  }

  private live(op: string): void {
    if (this.released) throw new VmError('EINVAL', `${op} on backing ${this.name} after its release()`);
  }
}
