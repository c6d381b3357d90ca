import { VmError, hex } from '@vmlayers/phys';
import type { ReverseMap } from '@vmlayers/mapper';
import type { MemContext } from '../internal/context.js';
import type { SwapDevice } from '../swap.js';
import type { ReclaimPolicy } from './policy.js';
import { EVICT_KEPT } from '../vm-object.js';
import type { VmObject } from '../vm-object.js';

/** What reclaim has done since the vm booted. */
export interface ReclaimStats {
  /** The policy's name. */
  policy: string;
  /** Resident user pages the policy tracks now (anonymous pages). */
  resident: number;
  /** The cap on them (`createVm({ reclaim: { limit } })`), or null. */
  limit: number | null;
  /** Pages evicted (taken out of every page table and freed). */
  evictions: number;
  /** Pages written to swap. */
  swapOuts: number;
  /** Pages read back from swap (major faults). */
  swapIns: number;
}

/**
 * Reclaim of anonymous memory: the resident user pages a policy tracks, evicted one at a time to the swap device
 * when an allocation would pass the resident limit (a memory cgroup's limit), when an application allocation
 * fails (direct reclaim), or on `vm.reclaim()` (kswapd). Eviction takes the frame out of every page table at once
 * through the mapper's reverse map, writes it to a swap slot, and frees it; the anon keeps the slot, and the next
 * fault reads it back (`AnonTable.resident`). A page a fault is copying from is held (`hold`) and never chosen.
 */
export class Reclaimer {
  readonly swap: SwapDevice | null;
  readonly policy: ReclaimPolicy;
  readonly limit: number | null;
  private readonly ctx: MemContext;
  private readonly rmap: ReverseMap;
  // Frame → anon index of every tracked anonymous page; for an object's page, its object and page index.
  private readonly owners = new Map<number, number>();
  private readonly pageObject = new Map<number, VmObject>();
  private readonly pageIndex = new Map<number, number>();
  private readonly held = new Set<number>();
  private readonly view: { referenced(pa: number, clear?: boolean): boolean };
  private readonly isBusy: (pa: number) => boolean;
  private evicting = false;
  // No swap slot could be had in this evictOne (none free, or the fault injector): anonymous victims stay.
  private noSlot = false;
  evictions = 0;
  swapOuts = 0;
  swapIns = 0;

  constructor(ctx: MemContext, rmap: ReverseMap, swap: SwapDevice | null, policy: ReclaimPolicy, limit: number | null) {
    this.ctx = ctx;
    this.rmap = rmap;
    this.swap = swap;
    this.policy = policy;
    this.limit = limit;
    this.view = { referenced: (pa, clear = false) => rmap.referenced(pa, clear) };
    this.isBusy = (pa) => this.held.has(pa);
  }

  /** Resident pages tracked (anonymous and pagers' pages). */
  get resident(): number {
    return this.owners.size + this.pageObject.size;
  }

  /** Page `index` of `object` (a pager's) is now cached in frame `pa`. */
  addedObjectPage(pa: number, object: VmObject, index: number): void {
    this.pageObject.set(pa, object);
    this.pageIndex.set(pa, index);
    this.tell('added', pa);
  }

  /** Anon `anon` now has frame `pa` resident (a fresh page or a swap-in). */
  added(pa: number, anon: number): void {
    this.owners.set(pa, anon);
    this.tell('added', pa);
  }

  /** Frame `pa` is no longer an anon's (freed). */
  removed(pa: number): void {
    if (this.owners.delete(pa) || (this.pageObject.delete(pa) && this.pageIndex.delete(pa))) this.tell('removed', pa);
  }

  // Tells the policy; a policy that throws (a custom one) does not stop the change under way: its error reaches
  // the caller once the operation is over (MemContext.fail), and vm.check() then finds the policy out of step.
  private tell(what: 'added' | 'removed', pa: number): void {
    try {
      if (what === 'added') this.policy.added(pa);
      else this.policy.removed(pa);
    } catch (e) {
      this.ctx.fail(e);
    }
  }

  /** Keeps frame `pa` from being chosen until {@link release}: a fault copies from it. */
  hold(pa: number): void {
    this.held.add(pa);
  }

  release(pa: number): void {
    this.held.delete(pa);
  }

  /**
   * Room for one more resident page under the limit: evicts while the limit is reached. False when the limit is
   * reached and nothing can be evicted.
   */
  makeRoom(): boolean {
    if (this.limit === null) return true;
    while (this.resident >= this.limit) if (!this.evictOne()) return false;
    return true;
  }

  /**
   * Evicts one page the policy chooses: false when there is none it may evict (no swap, swap full, every page
   * held). Never re-entered: an allocation made while evicting does not evict.
   */
  evictOne(): boolean {
    if (this.evicting) return false;
    // Nothing could go: no anonymous page has a slot to go to, and no pager's page is tracked.
    if ((this.swap === null || this.swap.free === 0) && this.pageObject.size === 0) return false;
    this.evicting = true;
    try {
      // Pages the policy offers that cannot go now (a dirty page of a pager that cannot write, an anonymous page
      // with no swap slot to go to) go back to it, and the next is asked for, once round at most.
      const kept: number[] = [];
      let done = false;
      this.noSlot = this.swap === null;
      for (let tries = this.policy.size(); tries > 0 && !done; tries--) {
        let pa: number;
        try {
          pa = this.policy.victim(this.view, this.isBusy);
        } catch (e) {
          this.ctx.fail(e);
          break;
        }
        if (pa === -1) break;
        if (!this.owners.has(pa) && !this.pageObject.has(pa)) {
          // A custom policy's mistake: nothing is evicted, and the caller hears of it once the operation is over.
          this.ctx.fail(new VmError('EINVAL', `reclaim policy ${this.policy.name} chose ${hex(pa)}, which is not a page it was given`));
          break;
        }
        // The victim leaves the policy (fifo and clock took it off their queue already; lru and opt have not).
        this.tell('removed', pa);
        if (this.evictFrame(pa)) done = true;
        else kept.push(pa);
      }
      for (const pa of kept) this.tell('added', pa);
      return done;
    } finally {
      this.evicting = false;
    }
  }

  // Evicts the tracked page in frame pa (the policy's victim, which it no longer tracks); false when it must stay.
  private evictFrame(pa: number): boolean {
    const object = this.pageObject.get(pa);
    if (object !== undefined) {
      const index = this.pageIndex.get(pa)!;
      // Dirty through any mapping (the D bit), or written through a SHARED one (the page cache's dirty byte).
      const dirty = this.rmap.dirty(pa);
      // An anonymous object needs a slot: none to be had, its page stays mapped where it is.
      if (object.kind === 'anonymous' && this.noSlot) return false;
      this.rmap.unmap(pa);
      const how = object.evictPage(index, pa, dirty);
      if (how === EVICT_KEPT) {
        if (object.kind === 'anonymous') this.noSlot = true;
        return false;
      }
      this.pageObject.delete(pa);
      this.pageIndex.delete(pa);
      this.evictions++;
      if (how >= 0) this.swapOuts++;
      if (this.ctx.listener !== null) {
        this.ctx.emit({ type: 'evict', pa, object: object.name });
        if (how >= 0) this.ctx.emit({ type: 'swap-out', pa, slot: how });
      }
      return true;
    }
    const anon = this.owners.get(pa);
    if (anon === undefined) throw new Error(`reclaim: the policy chose frame ${hex(pa)}, which it was never given or was told removed`);
    const swap = this.swap;
    if (this.noSlot) return false;
    const slot = swap!.alloc();
    if (slot < 0) {
      this.noSlot = true;
      return false;
    }
    this.rmap.unmap(pa);
    swap!.write(slot, this.ctx.mem.read(pa, this.ctx.pageSize));
    this.owners.delete(pa);
    this.ctx.anons.swappedOut(anon, slot);
    this.evictions++;
    this.swapOuts++;
    if (this.ctx.listener !== null) {
      this.ctx.emit({ type: 'evict', pa, object: '[anon]' });
      this.ctx.emit({ type: 'swap-out', pa, slot });
    }
    return true;
  }

  /** Evicts until `freePages() ≥ target` or nothing more can go; the pages evicted. */
  reclaim(target: number): number {
    let n = 0;
    while (this.ctx.alloc.freePages() < target && this.evictOne()) n++;
    return n;
  }

  /** Figures for meminfo. */
  stats(): ReclaimStats {
    return { policy: this.policy.name, resident: this.resident, limit: this.limit, evictions: this.evictions, swapOuts: this.swapOuts, swapIns: this.swapIns };
  }

  /** Every tracked frame is an anon's resident frame, the policy tracks exactly them, nothing is held between calls. */
  check(frameOf: (anon: number) => number): void {
    for (const [pa, anon] of this.owners) {
      if (frameOf(anon) !== pa) throw new Error(`reclaim: frame ${hex(pa)} is tracked for anon ${anon}, whose frame is ${hex(frameOf(anon))}`);
    }
    for (const [pa, o] of this.pageObject) {
      if (o.cachedFrame(this.pageIndex.get(pa)!) !== pa) throw new Error(`reclaim: frame ${hex(pa)} is tracked as page ${this.pageIndex.get(pa)} of object ${o.id}, which is not cached there`);
    }
    if (this.policy.size() !== this.resident) throw new Error(`reclaim: the policy tracks ${this.policy.size()} pages, the reclaimer ${this.resident}`);
    if (this.held.size !== 0) throw new Error(`reclaim: ${this.held.size} frames still held after an operation`);
  }
}
