import { PageOwner, PageUsage, VmError } from '@vmlayers/phys';
import type { FaultSite, PageAllocator, PhysicalMemory } from '@vmlayers/phys';
import type { Amap } from '../amap.js';
import { AnonTable } from '../anon.js';
import type { VmEvent, VmEventListener } from '../events.js';
import type { VmObject } from '../vm-object.js';

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
  /** Bytes requested from the heap by live objects, amaps and anons (before kmalloc rounds them). */
  charged = 0;
  private nextId = 1;

  constructor(alloc: PageAllocator, heap: KernelHeap, hasMmu: boolean, listener: VmEventListener | null = null) {
    this.alloc = alloc;
    this.mem = alloc.mem;
    this.pageSize = alloc.pageSize;
    this.hasMmu = hasMmu;
    this.heap = heap;
    this.listener = listener;
    this.anons = new AnonTable(this);
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
    const va = this.heap.kmalloc(bytes);
    this.charged += bytes;
    return va;
  }

  /** Gives back a block from {@link charge}. */
  uncharge(va: number, bytes: number): void {
    this.heap.kfree(va);
    this.charged -= bytes;
  }

  /** A zeroed user frame of `size` bytes (a page, or a no-MMU block), or -1. */
  frame(size: number, pid: number | undefined, va: number | undefined, object: string): number {
    const pa = this.alloc.allocPa(size, { owner: PageOwner.APP, usage: PageUsage.NONE });
    if (pa >= 0 && this.listener !== null) this.emit({ type: 'alloc', pid, va, pa, size, object });
    return pa;
  }

  /** Gives back a frame from {@link frame}. */
  freeFrame(pa: number, size: number, object: string): void {
    this.alloc.freePa(pa);
    if (this.listener !== null) this.emit({ type: 'free', pa, size, object });
  }

  emit(e: VmEvent): void {
    if (this.listener !== null) {
      // Undefined fields are noise in a trace.
      for (const k of Object.keys(e) as (keyof VmEvent)[]) if (e[k] === undefined) delete e[k];
      this.listener(e);
    }
  }
}
