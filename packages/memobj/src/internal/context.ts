import { PageOwner, PageUsage, VmError } from '@vmlayers/phys';
import type { FaultSite, PageAllocator, PhysicalMemory } from '@vmlayers/phys';
import type { Amap } from '../amap.js';
import { AnonTable } from '../anon.js';
import type { VmEvent, VmEventListener } from '../events.js';
import type { VmObject } from '../vm-object.js';
import type { Reclaimer } from '../reclaim/reclaimer.js';

const APP_FRAME = { owner: PageOwner.APP, usage: PageUsage.NONE } as const;

/** What memobj needs of kmalloc: fixed-size kernel blocks that objects, amaps and anons are charged to. */
export interface KernelHeap {
  /** Throws `VmError('ENOMEM')` with nothing changed. */
  kmalloc(size: number): number;
  kfree(vaddr: number): void;
}

/**
 * The state every memory object, amap, anon and backing of one subsystem shares: the frame allocator, the kernel
 * heap they are charged to, the anon table, the registries `check()` walks, and the event listener. One per `Vm`.
 */
export class MemContext {
  readonly alloc: PageAllocator;
  readonly mem: PhysicalMemory;
  readonly pageSize: number;
  readonly hasMmu: boolean;
  readonly heap: KernelHeap;
  readonly anons: AnonTable;
  /** Live objects by id. The registry holds no reference: an object leaves it when it dies. */
  readonly objects = new Map<number, VmObject>();
  /** Live amaps, for `check()`. */
  readonly amaps = new Set<Amap>();
  listener: VmEventListener | null;
  /**
   * The shared zero page (with an MMU, allocated at boot): what a read of never-written anonymous memory maps,
   * read-only, so that reading untouched memory takes no frame; -1 when there is none.
   */
  zeroPage = -1;
  /** `createVm({ populate })`: every user mapping is populated at `mmap`, as the original does on MMU targets. */
  populate = false;
  /** Page faults that reached a memory object, by pid, and those of them that read a page back from swap. */
  readonly faultCounts = new Map<number, { all: number; major: number }>();
  /** Reclaim (`createVm({ swap, reclaim })`), or null: nothing is ever evicted. */
  reclaimer: Reclaimer | null = null;
  /** Bytes requested from the heap by live objects, amaps and anons (before kmalloc rounds them). */
  charged = 0;
  private nextId = 1;
  // Events of the operation under way, and how deep operations are nested.
  private queue: VmEvent[] = [];
  private depth = 0;
  private deferred: { error: unknown } | null = null;

  constructor(alloc: PageAllocator, heap: KernelHeap, hasMmu: boolean, listener: VmEventListener | null = null) {
    this.alloc = alloc;
    this.mem = alloc.mem;
    this.pageSize = alloc.pageSize;
    this.hasMmu = hasMmu;
    this.heap = heap;
    this.listener = listener;
    this.anons = new AnonTable(this);
  }

  /** Counts a fault of process `pid` (a major one when `major`). */
  countFault(pid: number, major: boolean): void {
    let c = this.faultCounts.get(pid);
    if (c === undefined) this.faultCounts.set(pid, (c = { all: 0, major: 0 }));
    if (major) c.major++;
    else c.all++;
  }

  /** A fresh object id. */
  objectId(): number {
    return this.nextId++;
  }

  /**
   * Charges `bytes` of kernel heap to a structure allocated at fault-injection `site`: the site is asked first
   * (an injected failure is exhaustion), then kmalloc. Returns the block's kernel address; throws `ENOMEM`.
   */
  charge(site: FaultSite, bytes: number): number {
    if (this.alloc.faults.hit(site)) throw new VmError('ENOMEM', `${site} allocation of ${bytes} bytes failed (injected)`);
    let va: number;
    for (;;) {
      try {
        va = this.heap.kmalloc(bytes);
        break;
      } catch (e) {
        // Out of kernel heap with reclaim configured: evict a user page (its frame goes back) and try again.
        if (!(e instanceof VmError) || e.code !== 'ENOMEM' || this.reclaimer === null || !this.reclaimer.evictOne()) throw e;
      }
    }
    this.charged += bytes;
    return va;
  }

  /** Gives back a block from {@link charge}. */
  uncharge(va: number, bytes: number): void {
    this.heap.kfree(va);
    this.charged -= bytes;
  }

  /**
   * A zeroed user frame of `size` bytes (a page), or a physically contiguous run of exactly `ceil(size / page)`
   * pages (a no-MMU block, a contiguous object: `allocExact`, so nothing is lost to power-of-two rounding); or -1.
   * Tell {@link allocated} once it is used; give it back with {@link freeFrame} or {@link dropFrame} and the same size.
   * With reclaim, an `anon` page first makes room under the resident limit, and a failed allocation evicts a page
   * and tries again (direct reclaim).
   */
  frame(size: number, anon = false): number {
    const r = this.reclaimer;
    if (r === null) return size <= this.pageSize ? this.alloc.allocPa(size, APP_FRAME) : this.alloc.allocExact(size, APP_FRAME);
    // An anonymous page counts against the resident limit; any user frame may take direct reclaim when memory is
    // short.
    if (anon && !r.makeRoom()) return -1;
    for (;;) {
      const pa = size <= this.pageSize ? this.alloc.allocPa(size, APP_FRAME) : this.alloc.allocExact(size, APP_FRAME);
      if (pa >= 0 || !r.evictOne()) return pa;
    }
  }

  /** The event for a frame from {@link frame}, once the structure holding it is complete. */
  allocated(pa: number, size: number, object: string, pid?: number, va?: number): void {
    if (this.listener !== null) this.emit({ type: 'alloc', pid, va, pa, size, object });
  }

  /** Gives back a frame from {@link frame}. */
  freeFrame(pa: number, size: number, object: string): void {
    this.dropFrame(pa, size);
    if (this.listener !== null) this.emit({ type: 'free', pa, size, object });
  }
  /** Gives back a frame from {@link frame} that no event announced (an undo path). */
  dropFrame(pa: number, size: number): void {
    if (size <= this.pageSize) this.alloc.freePa(pa);
    else this.alloc.freeExact(pa, size);
  }


  /**
   * Runs one public operation: the events it emits are delivered when it has finished (returned or thrown), so a
   * throwing listener never interrupts a change half-way. Nested operations deliver with the outermost.
   */
  run<T>(op: () => T): T {
    this.depth++;
    let result: T;
    try {
      result = op();
    } finally {
      if (--this.depth === 0) {
        if (this.queue.length > 0) this.flush();
        this.throwDeferred();
      }
    }
    return result;
  }

  /**
   * An error that must not stop the change under way (a pager failing to write back while its object dies): thrown
   * when the outermost operation has finished, or at once outside any. Only the first of an operation is kept.
   */
  fail(e: unknown): void {
    if (this.deferred === null) this.deferred = { error: e };
    if (this.depth === 0) this.throwDeferred();
  }

  private throwDeferred(): void {
    const d = this.deferred;
    if (d === null) return;
    this.deferred = null;
    throw d.error;
  }

  /** Queues an event for the listener (delivered at once outside any operation). */
  emit(e: VmEvent): void {
    if (this.listener === null) return;
    // Undefined fields are noise in a trace.
    const rec = e as unknown as Record<string, unknown>;
    for (const k of Object.keys(rec)) if (rec[k] === undefined) delete rec[k];
    this.queue.push(e);
    if (this.depth === 0) this.flush();
  }

  private flush(): void {
    const events = this.queue;
    this.queue = [];
    for (const e of events) this.listener!(e);
  }
}
