import { MapFlags, Prot, VmError } from '@vmlayers/phys';
import type { Pmap } from '@vmlayers/phys';
import type { AddressSpace } from './address-space.js';
import { NIL } from './entry-pool.js';
import { MapBase } from './map-base.js';
import type { KernelContext } from './map-context.js';
import type { MapEntry, MmapOptions } from './map-entry.js';

/** What the kernel map and process maps have in common. */
export interface MemoryMap extends AddressSpace {
  /** The hardware address space the entries are entered in. */
  readonly pmap: Pmap;
  /**
   * First address of the map's range `[start, end)`, page-aligned: the architecture's kernel range start for the
   * kernel map; for a process map its user range start, but never below one page (page 0 is never mapped).
   */
  readonly start: number;
  /** End of the map's range, exclusive: the end of the architecture's kernel range, or of its user range. */
  readonly end: number;
  /** Bytes per page, the architecture's `PmapFactory.pageSize` (4096 on sv39 and ia32, 512 on armv7m). */
  readonly pageSize: number;
  /**
   * Maps `size` bytes (rounded up to pages) and returns the address. With an MMU: the lowest free range at or
   * above `addr` (a hint; anywhere if nothing fits above it), or exactly `addr` with `MapFlags.FIXED`, replacing
   * whatever was there in one step (on failure the old mappings are intact); pages are filled on fault. Without an
   * MMU: where the backing's contiguous block is, populated at once (`addr` is only a hint, `FIXED` → `EINVAL`).
   * Adjacent entries with the same prot and flags whose backings extend each other are merged.
   *
   * Errors: bad size/addr/offset/prot/flags → `EINVAL` (a process map needs exactly one of `SHARED`/`PRIVATE` and
   * refuses `NEEDSCOPY`; `PHYSMEM`/`DEVICE` need a backing); prot beyond `backing.maxProt` → `EACCES`; no free
   * range or no map entry left → `ENOMEM`; `FIXED` over wired kernel memory → `EBUSY`.
   *
   * With `MapFlags.POPULATE` every page is faulted in before `mmap` returns (`populate`); when one
   * cannot be had the new mapping is removed and `ENOMEM` thrown (with `FIXED`, what the range held is gone, as the
   * original unmaps it first).
   */
  mmap(options: MmapOptions): number;
  /**
   * Faults in every page of `[addr, addr + size)` as its first access would — a write fault in a writable entry
   * (which makes a private entry's copies now), a read or execute fault otherwise, nothing in a `PROT_NONE` one —
   * so later accesses take no page fault (the original's `_map_force`). Pages already present stay as they are;
   * without an MMU memory is placed whole at `mmap` and this only checks its arguments. Bad arguments → `EINVAL`;
   * a page of the range not mapped → `ENOMEM` before anything is faulted; a page that cannot be had → `ENOMEM`
   * (`EFAULT` when its backing fails otherwise), the pages before it staying populated.
   */
  populate(addr: number, size: number): void;
  /**
   * Reserves `size` bytes of address space at the lowest free range at or above `addr` (a hint): an entry
   * `[reserved]` with `Prot.NONE` (a `ReservedBacking`) that keeps other mappings out until `FIXED` mappings
   * fill it or `munmap` frees it — the original's `vm_mapFind`, for IPC windows. Returns its address. Bad arguments
   * → `EINVAL`; no range or entry → `ENOMEM`; without an MMU → `ENOSYS`.
   */
  reserve(size: number, addr?: number): number;
  /**
   * Unmaps every page of `[addr, addr + size)` (size rounded up): entries trimmed, split or dropped, translations
   * removed, backings told. Unmapping nothing is not an error. A split that needs an entry when none is left →
   * `ENOMEM`, nothing changed.
   */
  munmap(addr: number, size: number): void;
  /**
   * Changes the protection of `[addr, addr + size)`, splitting entries at the ends and merging equal neighbours
   * afterwards. A hole in the range → `ENOMEM`; beyond a backing's `maxProt` → `EACCES`; nothing changed then.
   */
  mprotect(addr: number, size: number, prot: number): void;
  /** The entry containing `addr`. */
  find(addr: number): MapEntry | undefined;
  /** Every entry in address order. */
  entries(): MapEntry[];
  /**
   * Serves a page fault at `va` for an access of `Access` bits (`Access.USER` for user mode): finds the entry,
   * checks its protection, gives a needs-copy entry its private state (`Backing.copy`), asks its backing for the
   * frame and enters it. Returns 0 or a negative `FaultCode` (`NOT_MAPPED` outside any entry, `PROTECTION`,
   * `NO_MEMORY` with nothing entered, `BAD_ADDRESS` for junk arguments). Never throws a `VmError`; an exception that
   * is not one (a bug in a backing, a throwing listener) propagates unchanged.
   */
  fault(va: number, access: number): number;
  /** Verifies every invariant of the map, its tree, the entry pool and the translations; throws on a broken one. */
  check(): void;
  /** A `/proc/<pid>/maps`-style listing: `start-end perms offset name` per entry. */
  format(): string;
}

/** A process's memory map (the design's `VmMap`); its `AddressSpace` accesses are user-mode accesses. */
export interface VmMap extends MemoryMap {
  /** The process this map belongs to. */
  readonly owner: number;
  /** True after `destroy()`. */
  readonly destroyed: boolean;
  /**
   * Fork: a new map for `childOwner` with a copy of every entry but `NOINHERIT` ones, each backing forked over the
   * entry's range; a private entry whose backing then shares something with its twin is marked `NEEDSCOPY` (in
   * the parent its pages become read-only until the next write fault). `ENOMEM` anywhere → the partial child is
   * destroyed and the parent is as it was. Without an MMU → `ENOSYS`.
   */
  copy(childOwner: number): VmMap;
  /** Gives back every frame, table page and entry. Using the map afterwards → `EINVAL`. */
  destroy(): void;
}

/** The kernel-map side a process map needs: making a sibling for fork, forgetting itself on destroy. */
export interface UserMapParent {
  createUserMap(owner: number): VmMap;
}

/** A process map over a user pmap (with an MMU) or a view of the shared flat map of one owner (without). */
export class UserMap extends MapBase implements VmMap {
  private readonly parent: UserMapParent;

  constructor(ctx: KernelContext, parent: UserMapParent, pmap: Pmap, lo: number, hi: number, owner: number) {
    super(ctx, pmap, lo, hi, owner);
    this.parent = parent;
    if (ctx.rmap !== null && this.mmu) ctx.rmap.attach(this);
  }

  copy(childOwner: number): VmMap {
    this.live('copy');
    if (!this.mmu) throw new VmError('ENOSYS', `fork of owner ${this.owner}: no MMU, no copy (as the original's no-MMU targets)`);
    const child = this.parent.createUserMap(childOwner) as UserMap;
    const P = this.ctx.pool;
    const marked: number[] = [];
    try {
      for (let e = this.tree.first(); e !== NIL; e = this.tree.next(e)) {
        if (P.flags[e] & MapFlags.NOINHERIT) continue;
        child.reserveEntries(1);
        const len = P.end[e] - P.start[e];
        const bk = P.backing[e]!;
        const fb = bk.fork(P.offset[e], len);
        const c = child.takeReserved();
        // Private memory is needs-copy on each side whose backing now shares something with the other.
        const priv = (P.flags[e] & (MapFlags.SHARED | MapFlags.DEVICE)) === 0;
        P.start[c] = P.start[e];
        P.end[c] = P.end[e];
        P.prot[c] = P.prot[e];
        P.protOrig[c] = P.protOrig[e];
        P.flags[c] = (P.flags[e] & ~MapFlags.NEEDSCOPY) | (priv && fb.shared() ? MapFlags.NEEDSCOPY : 0);
        P.offset[c] = P.offset[e];
        child.attach(c, fb);
        child.tree.insert(c);
        if (priv && bk.shared()) marked.push(e);
      }
    } catch (err) {
      child.releaseReserved();
      child.destroy();
      throw err;
    }
    // Only now, with the child complete, does the parent change: its writable pages become read-only, so that
    // the next write faults and copies (decided by what the backing shares, not the current prot: a page made
    // read-only by mprotect can be made writable again, PR #608).
    for (const e of marked) {
      P.flags[e] |= MapFlags.NEEDSCOPY;
      const prot = P.prot[e];
      if (prot & Prot.WRITE) this.pmap.protect(P.start[e], P.end[e], this.attrOf((prot | Prot.READ) & ~Prot.WRITE, P.flags[e]));
    }
    return child;
  }

  destroy(): void {
    this.live('destroy');
    const P = this.ctx.pool;
    for (let e = this.tree.first(); e !== NIL; e = this.tree.first()) {
      // The reverse map forgets the pages before the backing frees their frames (a mapped frame cannot be freed).
      if (this.ctx.rmap !== null && this.mmu) this.removePages(P.start[e], P.end[e]);
      P.backing[e]!.unmap(P.offset[e], P.end[e] - P.start[e]);
      this.drop(e);
    }
    this.ctx.rmap?.detach(this);
    this.pmap.destroy();
    this.dead = true;
    this.ctx.maps.delete(this);
  }
}

export type { MmapOptions };
