import { Access, FaultCode, MAP_FLAGS_ALL, MapFlags, PageAttr, PageOwner, Prot, VmError, invariant, hasOnlyBits, hex, isVmError } from '@vmlayers/phys';
import type { Pmap } from '@vmlayers/phys';
import type { AddressSpace } from './address-space.js';
import type { Backing } from './backing.js';
import { readBytes, readWord, writeBytes, writeWord } from './byte-access.js';
import { clipEnd, mergeFrom, place, unmapRange } from './entry-clip.js';
import { NIL } from './entry-pool.js';
import { formatMaps } from './format.js';
import { GapTree } from './gap-tree.js';
import { allows, faultError } from './internal/protection.js';
import { ReservedBacking } from './reserved.js';
import { checkAddr, checkInside, checkProt, isBacking, pageRound } from './internal/validate.js';
import { checkMap } from './map-check.js';
import type { KernelContext } from './map-context.js';
import { WIRED } from './map-context.js';
import type { MapEntry, MmapOptions } from './map-entry.js';
import { flatPageFor, mmapContiguous } from './nommu-map.js';
import { ZeroFillBacking } from './zero-fill.js';

export { WIRED };
export type { KernelContext };

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/**
 * One memory map: entries in a {@link GapTree}, the pmap they are entered in, and the system calls of DESIGN §3
 * that the kernel map and process maps share. This class orchestrates; entry editing is in `entry-clip.ts`, the
 * byte-access path in `byte-access.ts`, the invariants in `map-check.ts`, no-MMU placement in `nommu-map.ts`.
 * With an MMU entries are placed by the free-range search and filled on fault; without one they are placed where
 * the backing's contiguous block is (va = pa), populated at once, and protection is checked here in software.
 */
export class MapBase implements AddressSpace {
  readonly ctx: KernelContext;
  readonly pmap: Pmap;
  readonly tree: GapTree;
  readonly id: number;
  readonly isKernel: boolean;
  /** The process this map belongs to (-1 for the kernel map). */
  readonly owner: number;
  readonly mmu: boolean;
  /** Access bits added to every access made through this map (user mode for a process map). */
  readonly mode: number;
  protected dead = false;
  // Entries taken for the operation under way.
  private readonly reserved: number[] = [];

  constructor(ctx: KernelContext, pmap: Pmap, lo: number, hi: number, owner: number) {
    this.ctx = ctx;
    this.pmap = pmap;
    this.tree = new GapTree(ctx.pool, lo, hi);
    this.id = ctx.nextId++;
    this.owner = owner;
    this.isKernel = owner < 0;
    this.mmu = ctx.hasMmu;
    this.mode = this.isKernel ? 0 : Access.USER;
    ctx.maps.add(this);
  }

  /** First address of the map's range. */
  get start(): number {
    return this.tree.lo;
  }

  /** End (exclusive) of the map's range. */
  get end(): number {
    return this.tree.hi;
  }

  get pageSize(): number {
    return this.ctx.pageSize;
  }

  get destroyed(): boolean {
    return this.dead;
  }

  // --- mmap / munmap / mprotect -------------------------------------------------------------------------------

  mmap(options: MmapOptions): number {
    this.live('mmap');
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', `options must be an object, got ${hex(options)}`);
    const ps = this.pageSize;
    const len = pageRound('size', options.size, ps);
    checkProt(options.prot);
    const prot = options.prot;
    if (this.isKernel && prot & Prot.USER) throw new VmError('EINVAL', `prot ${hex(prot)}: kernel memory cannot be Prot.USER`);
    const flags = this.checkFlags(options.flags);
    const offset = options.offset === undefined ? 0 : options.offset;
    checkAddr('offset', offset, ps);
    if (!Number.isSafeInteger(offset + len)) throw new VmError('EINVAL', `offset ${hex(offset)} + size passes 2^53`);
    const backing = options.backing;
    if (backing !== undefined) {
      if (!isBacking(backing)) throw new VmError('EINVAL', 'backing must implement Backing');
      // Its pages belong to one mapping (that is what lets unmap free them): a handle in use would map them twice.
      if (this.ctx.held.has(backing)) throw new VmError('EINVAL', `backing ${backing.name} is already mapped: a handle maps one range`);
      if (prot & RWX & ~backing.maxProt) {
        throw new VmError('EACCES', `prot ${hex(prot)} exceeds what backing ${backing.name} allows (${hex(backing.maxProt)})`);
      }
    } else if (flags & (MapFlags.PHYSMEM | MapFlags.DEVICE)) {
      throw new VmError('EINVAL', `flags ${hex(flags)}: PHYSMEM and DEVICE mappings need a backing that serves the range`);
    }
    const fixed = (flags & MapFlags.FIXED) !== 0;
    let hint = this.tree.lo;
    if (options.addr !== undefined) {
      checkAddr('addr', options.addr, ps);
      // A hint only has to be in the range; a FIXED address must hold the whole mapping.
      checkInside(options.addr, fixed ? len : 1, this.tree.lo, this.tree.hi, 'map range');
      hint = options.addr;
    } else if (fixed) throw new VmError('EINVAL', 'MapFlags.FIXED needs addr');
    const entryFlags = flags & ~(MapFlags.FIXED | MapFlags.POPULATE);
    if (!this.mmu) return mmapContiguous(this, len, prot, entryFlags, backing, offset, fixed);
    let a: number;
    if (fixed) {
      a = hint;
      this.checkNotWired(a, a + len, 'map over');
    } else {
      a = this.tree.findFree(len, hint);
      if (a < 0) throw new VmError('ENOMEM', `no free range of ${hex(len)} bytes in [${hex(this.tree.lo)}, ${hex(this.tree.hi)})`);
    }
    // Anonymous memory's offsets are its addresses, so that a neighbouring anonymous mapping can extend it.
    const b = backing ?? this.anonymous();
    try {
      place(this, a, len, prot, entryFlags, b, backing === undefined ? a : offset, fixed);
    } catch (e) {
      if (backing === undefined) b.release();
      throw e;
    }
    if (flags & MapFlags.POPULATE) {
      // All or nothing, as the original's vm_mmap: a page that cannot be had removes the whole new mapping.
      try {
        this.populate(a, len);
      } catch (e) {
        unmapRange(this, a, a + len);
        throw e;
      }
    }
    return a;
  }

  /**
   * Faults in every page of `[addr, addr + size)` as its first access would — a write fault in a writable entry
   * (which makes a private entry's copies now), a read or execute fault otherwise, nothing in a `PROT_NONE` one —
   * so that later accesses take no page fault: what `MapFlags.POPULATE` does at `mmap`, and the original's
   * `_map_force` on every page of a new MMU mapping. Pages already present are left as they are. Without an MMU
   * memory is placed whole at `mmap` and this only checks its arguments. Bad arguments → `EINVAL`; a page of the
   * range not mapped → `ENOMEM` before anything is faulted (as `mprotect`); a page that cannot be had → `ENOMEM`
   * (`EFAULT` when its backing fails otherwise), the pages before it staying populated.
   */
  populate(addr: number, size: number): void {
    this.live('populate');
    checkAddr('addr', addr, this.pageSize);
    const len = pageRound('size', size, this.pageSize);
    checkInside(addr, len, this.tree.lo, this.tree.hi, 'map range');
    const P = this.ctx.pool;
    const end = addr + len;
    let cursor = addr;
    for (let n = this.tree.firstEndingAfter(addr); cursor < end; n = this.tree.next(n)) {
      if (n === NIL || P.start[n] > cursor) throw new VmError('ENOMEM', `va ${hex(cursor)} in [${hex(addr)}, ${hex(end)}) is not mapped`);
      cursor = P.end[n];
    }
    if (!this.mmu) return;
    for (let va = addr; va < end; ) {
      const e = this.tree.containing(va);
      const prot = P.prot[e];
      const stop = Math.min(P.end[e], end);
      const kind = prot & Prot.WRITE ? Access.WRITE : prot & Prot.READ ? Access.READ : prot & Prot.EXEC ? Access.EXEC : 0;
      const access = kind | (prot & Prot.USER ? Access.USER : 0);
      for (; kind !== 0 && va < stop; va += this.pageSize) {
        if (this.pmap.translate(va, access) >= 0) continue;
        const r = this.fault(va, access);
        if (r === FaultCode.NO_MEMORY) throw new VmError('ENOMEM', `populate: no memory for the page at ${hex(va)}`);
        if (r < 0) throw faultError(r, va);
      }
      va = stop;
    }
  }

  /**
   * Reserves `size` bytes of address space (rounded up to pages) at the lowest free range at or above `addr` (a
   * hint) and returns its address: an entry `[reserved]` with `Prot.NONE` that no page can come from, which keeps
   * other `mmap`s out until `FIXED` mappings fill it or `munmap` frees it (the original's `vm_mapFind`, for IPC
   * windows). Bad size or hint → `EINVAL`; no free range or entry → `ENOMEM`; without an MMU → `ENOSYS` (a mapping
   * goes where its memory is, so there is no address to hold).
   */
  reserve(size: number, addr?: number): number {
    this.live('reserve');
    const ps = this.pageSize;
    const len = pageRound('size', size, ps);
    let hint = this.tree.lo;
    if (addr !== undefined) {
      checkAddr('addr', addr, ps);
      checkInside(addr, 1, this.tree.lo, this.tree.hi, 'map range');
      hint = addr;
    }
    if (!this.mmu) throw new VmError('ENOSYS', 'reserve: without an MMU a mapping goes where its memory is; there is no address range to hold');
    const a = this.tree.findFree(len, hint);
    if (a < 0) throw new VmError('ENOMEM', `no free range of ${hex(len)} bytes in [${hex(this.tree.lo)}, ${hex(this.tree.hi)})`);
    place(this, a, len, Prot.NONE, this.isKernel ? 0 : MapFlags.PRIVATE, new ReservedBacking(), 0, false);
    return a;
  }

  munmap(addr: number, size: number): void {
    this.live('munmap');
    checkAddr('addr', addr, this.pageSize);
    const len = pageRound('size', size, this.pageSize);
    checkInside(addr, len, this.tree.lo, this.tree.hi, 'map range');
    this.checkNotWired(addr, addr + len, 'unmap');
    unmapRange(this, addr, addr + len);
  }

  mprotect(addr: number, size: number, prot: number): void {
    this.live('mprotect');
    checkAddr('addr', addr, this.pageSize);
    const len = pageRound('size', size, this.pageSize);
    checkInside(addr, len, this.tree.lo, this.tree.hi, 'map range');
    checkProt(prot);
    if (this.isKernel && prot & Prot.USER) throw new VmError('EINVAL', `prot ${hex(prot)}: kernel memory cannot be Prot.USER`);
    const P = this.ctx.pool;
    const a = addr;
    const b = addr + len;
    const first = this.tree.firstEndingAfter(a);
    // Validation walk, in address order as the original: a hole is ENOMEM, a backing that forbids it EACCES.
    let cursor = a;
    for (let n = first; cursor < b; n = this.tree.next(n)) {
      if (n === NIL || P.start[n] > cursor) throw new VmError('ENOMEM', `va ${hex(cursor)} in [${hex(a)}, ${hex(b)}) is not mapped`);
      const bk = P.backing[n]!;
      if (prot & RWX & ~bk.maxProt) {
        throw new VmError('EACCES', `prot ${hex(prot)} exceeds what backing ${bk.name} at ${hex(P.start[n])} allows (${hex(bk.maxProt)})`);
      }
      cursor = P.end[n];
    }
    this.checkNotWired(a, b, 'change the protection of');
    const last = this.tree.containing(b - 1);
    const headSplit = P.start[first] < a && P.prot[first] !== prot;
    const tailSplit = P.end[last] > b && P.prot[last] !== prot;
    this.reserveEntries((headSplit ? 1 : 0) + (tailSplit ? 1 : 0));
    let n = first;
    if (headSplit) n = clipEnd(this, first, a);
    if (tailSplit) clipEnd(this, last === first && headSplit ? n : last, b);
    for (let m = n; m !== NIL && P.start[m] < b; m = this.tree.next(m)) {
      if (P.prot[m] === prot) continue;
      P.prot[m] = prot;
      if (this.mmu) this.retranslate(m);
    }
    const before = this.tree.prev(n);
    mergeFrom(this, before === NIL ? n : before, b);
    this.releaseReserved();
  }

  // --- queries --------------------------------------------------------------------------------------------------

  find(addr: number): MapEntry | undefined {
    if (this.dead || typeof addr !== 'number' || !Number.isFinite(addr)) return undefined;
    const e = this.tree.containing(addr);
    return e === NIL ? undefined : this.snapshot(e);
  }

  entries(): MapEntry[] {
    const out: MapEntry[] = [];
    if (this.dead) return out;
    for (let e = this.tree.first(); e !== NIL; e = this.tree.next(e)) out.push(this.snapshot(e));
    return out;
  }

  format(): string {
    return formatMaps(this.entries(), this.tree.hi);
  }

  // --- faults ---------------------------------------------------------------------------------------------------

  /**
   * Serves a fault at `va` for an access of `Access` bits: 0 when the page is now entered (or, without an MMU,
   * the access is allowed), else a negative `FaultCode`. A needs-copy entry gets its private state first
   * (`Backing.copy`). A `VmError` from a backing or the pmap becomes a code; anything else propagates.
   */
  fault(va: number, access: number): number {
    if (this.dead) return FaultCode.NOT_MAPPED;
    if (typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0) return FaultCode.BAD_ADDRESS;
    if (typeof access !== 'number' || !Number.isInteger(access) || access <= 0 || access > 0xf || (access & RWX) === 0) {
      return FaultCode.BAD_ADDRESS;
    }
    const e = this.tree.containing(va);
    if (e === NIL) return FaultCode.NOT_MAPPED;
    const P = this.ctx.pool;
    const prot = P.prot[e];
    if (!allows(prot, access, this.ctx.execProtect)) return FaultCode.PROTECTION;
    if (!this.mmu) return 0;
    const page = va - (va % this.pageSize);
    const bk = P.backing[e]!;
    try {
      if (P.flags[e] & MapFlags.NEEDSCOPY) {
        if (bk.shared()) bk.copy(P.offset[e], P.end[e] - P.start[e]);
        P.flags[e] &= ~MapFlags.NEEDSCOPY;
      }
      const r = bk.fault(P.offset[e] + (page - P.start[e]), access);
      if (typeof r === 'number') return r < 0 ? r : FaultCode.BAD_ADDRESS;
      if (access & Access.WRITE && !r.writable) return FaultCode.PROTECTION;
      let attr = this.attrOf(prot, P.flags[e]);
      if (!r.writable) attr &= ~PageAttr.WRITE;
      const rc = this.enterPage(r.pa, page, attr);
      return rc < 0 ? rc : 0;
    } catch (err) {
      if (!isVmError(err)) throw err;
      return err.code === 'ENOMEM' ? FaultCode.NO_MEMORY : FaultCode.BAD_ADDRESS;
    }
  }

  // --- AddressSpace ---------------------------------------------------------------------------------------------

  read(va: number, len: number): Uint8Array {
    this.live('read');
    return readBytes(this, va, len);
  }

  write(va: number, bytes: Uint8Array): void {
    this.live('write');
    writeBytes(this, va, bytes);
  }

  read32(va: number): number {
    this.live('read32');
    return readWord(this, va);
  }

  write32(va: number, value: number): void {
    this.live('write32');
    writeWord(this, va, value);
  }

  /** The physical address of `va` for `access` (mode bits included), faulting and retrying once. */
  pageFor(va: number, access: number): number {
    if (!this.mmu) {
      const r = flatPageFor(this, va, access);
      if (r < 0) throw this.refuse(r, va, access);
      return r;
    }
    let pa = this.pmap.translate(va, access);
    if (pa >= 0) return pa;
    const r = this.fault(va, access);
    if (r < 0) throw this.refuse(r, va, access);
    pa = this.pmap.translate(va, access);
    if (pa < 0) throw this.refuse(pa === FaultCode.NOT_MAPPED ? FaultCode.NOT_MAPPED : FaultCode.PROTECTION, va, access);
    return pa;
  }

  /** The error for a refused access, after telling the `onAccessFault` listener (if any). */
  refuse(code: number, va: number, access: number): VmError {
    this.ctx.onAccessFault?.(this.owner, va, access, code);
    return faultError(code, va);
  }

  // --- check ----------------------------------------------------------------------------------------------------

  /** See `map-check.ts`: the tree, the entries, the pool, the pmap, the translations, the zero-fill memory. */
  check(): void {
    checkMap(this);
  }

  // --- what the entry-editing code uses -------------------------------------------------------------------------

  protected live(op: string): void {
    if (this.dead) throw new VmError('EINVAL', `${op} on a destroyed map (owner ${this.owner})`);
  }

  protected checkFlags(flags: unknown): number {
    // Not `flags & ~MAP_FLAGS_ALL` alone: bitwise operators see only the low 32 bits of a number.
    if (!hasOnlyBits(flags, MAP_FLAGS_ALL)) throw new VmError('EINVAL', `flags must be MapFlags bits (${hex(MAP_FLAGS_ALL)}), got ${hex(flags)}`);
    if (flags & MapFlags.NEEDSCOPY) throw new VmError('EINVAL', `flags ${hex(flags)}: NEEDSCOPY is the map's to set, never the caller's`);
    const sharing = flags & (MapFlags.SHARED | MapFlags.PRIVATE);
    if (this.isKernel) {
      if (sharing === (MapFlags.SHARED | MapFlags.PRIVATE)) throw new VmError('EINVAL', `flags ${hex(flags)}: both SHARED and PRIVATE`);
      return flags;
    }
    if (sharing !== MapFlags.SHARED && sharing !== MapFlags.PRIVATE) {
      throw new VmError('EINVAL', `flags ${hex(flags)}: exactly one of MapFlags.SHARED and MapFlags.PRIVATE is needed`);
    }
    return flags;
  }

  protected checkNotWired(a: number, b: number, what: string): void {
    if (!this.isKernel) return;
    const P = this.ctx.pool;
    for (let n = this.tree.firstEndingAfter(a); n !== NIL && P.start[n] < b; n = this.tree.next(n)) {
      if (P.flags[n] & WIRED) throw new VmError('EBUSY', `cannot ${what} wired kernel memory at [${hex(P.start[n])}, ${hex(P.end[n])})`);
    }
  }

  /** `PageAttr` bits for an entry of `prot`/`flags`. */
  attrOf(prot: number, flags: number): number {
    let a = 0;
    if (prot & RWX) a |= PageAttr.PRESENT;
    if (prot & Prot.READ) a |= PageAttr.READ;
    if (prot & Prot.WRITE) a |= PageAttr.WRITE | PageAttr.READ;
    if (prot & Prot.EXEC) a |= PageAttr.EXEC;
    if (prot & Prot.USER) a |= PageAttr.USER;
    if (flags & MapFlags.UNCACHED) a |= PageAttr.UNCACHED;
    if (flags & MapFlags.DEVICE) a |= PageAttr.DEVICE | PageAttr.UNCACHED;
    if (this.isKernel) a |= PageAttr.GLOBAL;
    return a;
  }

  /**
   * Makes sure `n` entries are reserved for the operation under way (counting any reserved already): `ENOMEM`
   * with nothing changed when the pool cannot.
   */
  reserveEntries(n: number): void {
    const more = n - this.reserved.length;
    if (more > 0 && !this.ctx.pool.take(more, this.reserved)) {
      throw new VmError('ENOMEM', `map entry pool exhausted (${this.ctx.pool.free} of ${this.ctx.pool.limit} free, ${n} needed)`);
    }
  }

  takeReserved(): number {
    const e = this.reserved.pop();
    invariant(e !== undefined, 'an operation used more entries than it reserved');
    return e;
  }

  /** Ends an operation: entries it reserved and did not use go back to the pool. */
  releaseReserved(): void {
    while (this.reserved.length > 0) this.ctx.pool.put(this.reserved.pop()!);
  }

  /** Attaches handle `b` to entry `e`. */
  attach(e: number, b: Backing): void {
    this.ctx.pool.backing[e] = b;
    this.ctx.held.add(b);
  }

  /** Takes the handle off entry `e` (the caller releases it or hands it on). */
  detach(e: number): void {
    const b = this.ctx.pool.backing[e];
    if (b !== undefined) this.ctx.held.delete(b);
    this.ctx.pool.backing[e] = undefined;
  }

  /** Drops entry `e`: out of the tree, its backing released, back to the pool. */
  drop(e: number): void {
    const P = this.ctx.pool;
    const b = P.backing[e]!;
    this.tree.remove(e);
    this.detach(e);
    P.put(e);
    b.release();
  }

  /** Clears needs-copy on entry `e` once its backing shares nothing any more (the fork twin went away). */
  settle(e: number): void {
    if (e === NIL) return;
    const P = this.ctx.pool;
    if (P.flags[e] & MapFlags.NEEDSCOPY && !P.backing[e]!.shared()) P.flags[e] &= ~MapFlags.NEEDSCOPY;
  }

  private snapshot(e: number): MapEntry {
    const P = this.ctx.pool;
    this.settle(e);
    return Object.freeze({
      start: P.start[e],
      end: P.end[e],
      prot: P.prot[e],
      protOrig: P.protOrig[e],
      flags: P.flags[e] & MAP_FLAGS_ALL,
      offset: P.offset[e],
      backing: P.backing[e]!,
    });
  }

  /**
   * Enters frame `pa` at page `va` (a fault's answer), keeping the reverse map when there is one: the frame's
   * mapping recorded first (no entry → `NO_MEMORY`, nothing entered), a frame it replaces (copy-on-write) forgotten
   * once the new one is in.
   */
  enterPage(pa: number, va: number, attr: number): number {
    const rmap = this.ctx.rmap;
    if (rmap === null || this.isKernel) return this.pmap.enter(pa, va, attr);
    const old = this.pmap.resolve(va);
    if (old === pa) return this.pmap.enter(pa, va, attr);
    if (!rmap.add(this, pa, va)) return FaultCode.NO_MEMORY;
    const rc = this.pmap.enter(pa, va, attr);
    if (rc < 0) {
      rmap.remove(this, pa, va);
      return rc;
    }
    if (old >= 0) rmap.remove(this, old, va);
    return rc;
  }

  /**
   * Removes the translations of `[a, b)`, and their reverse-map records when there is a reverse map (each page of
   * the range is looked up: O(pages) then, O(tables) without).
   */
  removePages(a: number, b: number): void {
    const rmap = this.ctx.rmap;
    if (rmap !== null && !this.isKernel) {
      const ps = this.pageSize;
      for (let va = a; va < b; va += ps) {
        const pa = this.pmap.resolve(va);
        if (pa >= 0) rmap.remove(this, pa, va);
      }
    }
    this.pmap.remove(a, b);
  }

  /** A new anonymous backing for this map. */
  protected anonymous(): ZeroFillBacking {
    return new ZeroFillBacking(this.ctx.alloc, { owner: this.isKernel ? PageOwner.KERNEL : PageOwner.APP });
  }

  // After entry m's prot changed: translations follow. Rights taken away are taken from the present pages; any
  // write right given is left to the next fault, since a backing may hand pages out read-only (copy-on-write).
  private retranslate(m: number): void {
    const P = this.ctx.pool;
    const prot = P.prot[m];
    if ((prot & RWX) === 0 || prot & Prot.WRITE) this.removePages(P.start[m], P.end[m]);
    else this.pmap.protect(P.start[m], P.end[m], this.attrOf(prot, P.flags[m]));
  }
}
