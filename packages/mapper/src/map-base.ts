import { Access, FaultCode, MAP_FLAGS_ALL, MapFlags, PageAttr, PageOwner, Prot, VmError, invariant } from '@vmlayers/phys';
import type { BoardMemoryMap, PageAllocator, PhysicalMemory, Pmap, PmapFactory } from '@vmlayers/phys';
import type { AddressSpace } from './address-space.js';
import type { Backing } from './backing.js';
import { NIL } from './entry-pool.js';
import type { EntryPool } from './entry-pool.js';
import { formatMaps } from './format.js';
import { GapTree } from './gap-tree.js';
import { checkAddr, checkInside, checkProt, hex, isBacking, pageRound } from './internal/validate.js';
import { allows, faultError } from './internal/protection.js';
import type { MapEntry, MmapOptions } from './map-entry.js';
import { flatPageFor, grantRegion } from './nommu-map.js';
import { ZeroFillBacking } from './zero-fill.js';

/** Internal entry flag (above every `MapFlags` bit): kernel memory only `freePages` (or nothing) removes. */
export const WIRED = 0x400;
const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/** What every map of one kernel shares. */
export interface KernelContext {
  readonly arch: PmapFactory;
  readonly mem: PhysicalMemory;
  readonly alloc: PageAllocator;
  readonly board: BoardMemoryMap;
  readonly pool: EntryPool;
  readonly pageSize: number;
  readonly hasMmu: boolean;
  readonly kernelPmap: Pmap;
  /** Depth of the leaf page tables in `Pmap.tables()` (-1 without an MMU). */
  readonly leafDepth: number;
  /** Bytes one leaf table maps (0 when the boot tables did not tell). */
  readonly leafSpan: number;
  /** Every live map, the kernel map included. */
  readonly maps: Set<MapBase>;
  nextId: number;
  /** See `KernelMapOptions.onAccessFault`. */
  readonly onAccessFault?: (owner: number, va: number, access: number, code: number) => void;
}

/**
 * One memory map: entries in a {@link GapTree}, the pmap they are entered in, and every operation of DESIGN §3
 * except the ones that belong to the kernel map or a process map only. With an MMU entries are placed by the
 * free-range search and filled on fault; without one (`hasMmu` false) they are placed where the backing's
 * contiguous block is (va = pa) and are populated at once, and protection is checked here in software.
 */
export class MapBase implements AddressSpace {
  readonly ctx: KernelContext;
  readonly pmap: Pmap;
  readonly tree: GapTree;
  readonly id: number;
  readonly isKernel: boolean;
  /** The process this map belongs to (-1 for the kernel map). */
  readonly owner: number;
  protected readonly ps: number;
  protected readonly mmu: boolean;
  // Access bits added to every access made through this map (user mode for a process map).
  private readonly mode: number;
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
    this.ps = ctx.pageSize;
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
    return this.ps;
  }

  get destroyed(): boolean {
    return this.dead;
  }

  // --- mmap / munmap / mprotect -------------------------------------------------------------------------------

  mmap(options: MmapOptions): number {
    this.live('mmap');
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', `options must be an object, got ${String(options)}`);
    const ps = this.ps;
    const len = pageRound('size', options.size, ps);
    checkProt(options.prot);
    const prot = options.prot;
    if (this.isKernel && prot & Prot.USER) throw new VmError('EINVAL', `prot ${hex(prot)}: kernel memory cannot be Prot.USER`);
    const flags = this.checkFlags(options.flags);
    const offset = options.offset ?? 0;
    checkAddr('offset', offset, ps);
    if (!Number.isSafeInteger(offset + len)) throw new VmError('EINVAL', `offset ${hex(offset)} + size passes 2^53`);
    const backing = options.backing;
    if (backing !== undefined) {
      if (!isBacking(backing)) throw new VmError('EINVAL', 'backing must implement Backing');
      // Its pages belong to one mapping (that is what lets unmap free them): a handle in use, or one cut from
      // memory in use, would map the same frames twice.
      if (backing instanceof ZeroFillBacking && (backing.attached || backing.store.handles > 1)) {
        throw new VmError('EINVAL', `backing ${backing.name} is already mapped: a ZeroFillBacking maps once`);
      }
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
    const entryFlags = flags & ~MapFlags.FIXED;
    if (!this.mmu) return this.mmapContiguous(len, prot, entryFlags, backing, offset, fixed);
    let a: number;
    if (fixed) {
      a = hint;
      this.checkNotWired(a, a + len, 'map over');
    } else {
      a = this.tree.findFree(len, hint);
      if (a < 0) throw new VmError('ENOMEM', `no free range of ${hex(len)} bytes in [${hex(this.tree.lo)}, ${hex(this.tree.hi)})`);
    }
    this.place(a, len, prot, entryFlags, backing, offset, fixed);
    return a;
  }

  munmap(addr: number, size: number): void {
    this.live('munmap');
    checkAddr('addr', addr, this.ps);
    const len = pageRound('size', size, this.ps);
    checkInside(addr, len, this.tree.lo, this.tree.hi, 'map range');
    this.checkNotWired(addr, addr + len, 'unmap');
    this.unmapRange(addr, addr + len);
  }

  mprotect(addr: number, size: number, prot: number): void {
    this.live('mprotect');
    checkAddr('addr', addr, this.ps);
    const len = pageRound('size', size, this.ps);
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
    this.reserve((headSplit ? 1 : 0) + (tailSplit ? 1 : 0));
    let n = first;
    if (headSplit) n = this.splitAt(first, a);
    if (tailSplit) this.splitAt(last === first && headSplit ? n : last, b);
    for (let m = n; m !== NIL && P.start[m] < b; m = this.tree.next(m)) {
      if (P.prot[m] === prot) continue;
      P.prot[m] = prot;
      if (this.mmu) this.retranslate(m);
    }
    const before = this.tree.prev(n);
    this.mergeFrom(before === NIL ? n : before, b);
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
   * the access is allowed), else a negative `FaultCode`. Never throws.
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
    if (!allows(prot, access)) return FaultCode.PROTECTION;
    if (!this.mmu) return 0;
    const page = va - (va % this.ps);
    try {
      const r = P.backing[e]!.fault(P.offset[e] + (page - P.start[e]), access);
      if (typeof r === 'number') return r < 0 ? r : FaultCode.BAD_ADDRESS;
      if (access & Access.WRITE && !r.writable) return FaultCode.PROTECTION;
      let attr = this.attrOf(prot, P.flags[e]);
      if (!r.writable) attr &= ~PageAttr.WRITE;
      const rc = this.pmap.enter(r.pa, page, attr);
      return rc < 0 ? rc : 0;
    } catch {
      // A backing that threw, or handed out a frame the pmap refuses: the page stays unmapped.
      return FaultCode.BAD_ADDRESS;
    }
  }

  // --- AddressSpace ---------------------------------------------------------------------------------------------

  read(va: number, len: number): Uint8Array {
    this.live('read');
    this.checkAccessRange(va, len);
    const out = new Uint8Array(len);
    if (len === 0) return out;
    const pas = this.pagesFor(va, len, Access.READ);
    const mem = this.ctx.mem;
    let pos = 0;
    for (let i = 0; pos < len; i++) {
      const n = Math.min(len - pos, this.ps - ((va + pos) % this.ps));
      out.set(mem.read(pas[i], n), pos);
      pos += n;
    }
    return out;
  }

  write(va: number, bytes: Uint8Array): void {
    this.live('write');
    if (!(bytes instanceof Uint8Array)) throw new VmError('EINVAL', `bytes must be a Uint8Array, got ${String(bytes)}`);
    const len = bytes.length;
    this.checkAccessRange(va, len);
    if (len === 0) return;
    const pas = this.pagesFor(va, len, Access.WRITE);
    const mem = this.ctx.mem;
    let pos = 0;
    for (let i = 0; pos < len; i++) {
      const n = Math.min(len - pos, this.ps - ((va + pos) % this.ps));
      mem.write(pas[i], bytes.subarray(pos, pos + n));
      pos += n;
    }
  }

  read32(va: number): number {
    this.live('read32');
    this.checkAccessRange(va, 4);
    if ((va % this.ps) + 4 <= this.ps) return this.ctx.mem.read32(this.pageFor(va, Access.READ | this.mode));
    const b = this.read(va, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  write32(va: number, value: number): void {
    this.live('write32');
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new VmError('EINVAL', `value must be a number, got ${String(value)}`);
    this.checkAccessRange(va, 4);
    const v = value >>> 0;
    if ((va % this.ps) + 4 <= this.ps) {
      this.ctx.mem.write32(this.pageFor(va, Access.WRITE | this.mode), v);
      return;
    }
    this.write(va, new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]));
  }

  // --- check ----------------------------------------------------------------------------------------------------

  /**
   * Verifies every invariant: the tree (order, no overlap, balance, gap augmentation at every node), each entry's
   * fields, the pool accounting over every live map, and that every translation in the pmap lies inside an entry
   * that allows access. Throws on the first broken one.
   */
  check(): void {
    const P = this.ctx.pool;
    let inMaps = 0;
    for (const m of this.ctx.maps) inMaps += m.tree.count;
    P.check(inMaps);
    if (this.dead) {
      invariant(this.tree.count === 0, 'a destroyed map still holds entries');
      return;
    }
    const ids = this.tree.check();
    const ps = this.ps;
    for (const e of ids) {
      const s = P.start[e];
      const where = `entry [${hex(s)}, ${hex(P.end[e])})`;
      invariant(s % ps === 0 && P.end[e] % ps === 0, `${where} is not page-aligned`);
      invariant(P.offset[e] % ps === 0 && Number.isSafeInteger(P.offset[e]) && P.offset[e] >= 0, `${where} has offset ${P.offset[e]}`);
      invariant(P.prot[e] <= 0xf, `${where} has prot ${P.prot[e]}`);
      invariant((P.flags[e] & ~(MAP_FLAGS_ALL | WIRED)) === 0, `${where} has unknown flags ${hex(P.flags[e])}`);
      invariant((P.flags[e] & MapFlags.FIXED) === 0, `${where} keeps MapFlags.FIXED`);
      invariant(P.backing[e] !== undefined, `${where} has no backing`);
      if (this.isKernel) invariant((P.prot[e] & Prot.USER) === 0, `${where} of the kernel map is Prot.USER`);
      if (!this.mmu) invariant(this.ctx.mem.isRam(s, P.end[e] - s) || P.flags[e] & (MapFlags.PHYSMEM | MapFlags.DEVICE), `${where} is not memory`);
    }
    if (this.mmu) this.checkTranslations(ids);
    this.checkZeroFill(ids);
  }

  // Every frame a zero-fill backing of this map holds is at an offset one of its entries maps, and allocated to
  // the right owner: nothing unmapped is kept, nothing kept is free.
  private checkZeroFill(ids: number[]): void {
    const P = this.ctx.pool;
    const spans = new Map<ZeroFillBacking['store'], number[]>();
    for (const e of ids) {
      const b = P.backing[e];
      if (!(b instanceof ZeroFillBacking)) continue;
      let list = spans.get(b.store);
      if (list === undefined) spans.set(b.store, (list = []));
      list.push(P.offset[e], P.offset[e] + (P.end[e] - P.start[e]));
    }
    for (const [store, list] of spans) {
      let resident = 0;
      for (const [pn, pa] of store.residentPages()) {
        resident++;
        const off = pn * this.ps;
        let inside = false;
        for (let i = 0; i < list.length && !inside; i += 2) inside = off >= list[i] && off < list[i + 1];
        invariant(inside, `zero-fill page at offset ${hex(off)} (frame ${hex(pa)}) is held but mapped by no entry`);
        const f = this.ctx.alloc.get(pa);
        invariant(f !== undefined && !f.free && f.owner === store.owner, `zero-fill frame ${hex(pa)} is not allocated to owner ${store.owner}`);
      }
      invariant(resident === store.resident, `zero-fill store counts ${store.resident} pages, holds ${resident}`);
      if (store.blockPa >= 0) {
        const f = this.ctx.alloc.get(store.blockPa);
        invariant(f !== undefined && !f.free && f.pa === store.blockPa, `zero-fill block ${hex(store.blockPa)} is not an allocated block`);
      }
    }
  }

  // Every resolvable page of an entry must be in one that allows access, and there must be no other translation:
  // the leaf tables hold exactly as many entries as the entries' pages resolve.
  private checkTranslations(ids: number[]): void {
    const P = this.ctx.pool;
    const span = this.ctx.leafSpan;
    let resolved = 0;
    const resolveIn = (e: number, from: number, to: number) => {
      const none = (P.prot[e] & RWX) === 0;
      for (let va = from; va < to; va += this.ps) {
        if (this.pmap.resolve(va) < 0) continue;
        invariant(!none, `page ${hex(va)} is translated inside a PROT_NONE entry`);
        resolved++;
      }
    };
    let leaves = 0;
    for (const t of this.pmap.tables()) {
      if (t.level !== this.ctx.leafDepth) continue;
      leaves += t.entries;
      // Only pages under an existing leaf table can be translated: a huge, untouched entry costs nothing here.
      if (span > 0) {
        const end = t.va + span;
        for (let e = this.tree.firstEndingAfter(t.va); e !== NIL && P.start[e] < end; e = this.tree.next(e)) {
          resolveIn(e, Math.max(P.start[e], t.va), Math.min(P.end[e], end));
        }
      }
    }
    if (span === 0) for (const e of ids) resolveIn(e, P.start[e], P.end[e]);
    invariant(leaves === resolved, `the pmap holds ${leaves} translations, the entries account for ${resolved}`);
  }

  // --- internals ------------------------------------------------------------------------------------------------

  protected live(op: string): void {
    if (this.dead) throw new VmError('EINVAL', `${op} on a destroyed map (owner ${this.owner})`);
  }

  protected checkFlags(flags: unknown): number {
    if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0) {
      throw new VmError('EINVAL', `flags must be MapFlags bits, got ${hex(flags)}`);
    }
    if (flags & ~MAP_FLAGS_ALL) throw new VmError('EINVAL', `flags ${hex(flags)} has unknown bits ${hex(flags & ~MAP_FLAGS_ALL)}`);
    const sharing = flags & (MapFlags.SHARED | MapFlags.PRIVATE);
    if (this.isKernel) {
      if (sharing === (MapFlags.SHARED | MapFlags.PRIVATE)) throw new VmError('EINVAL', `flags ${hex(flags)}: both SHARED and PRIVATE`);
      return flags;
    }
    if (flags & MapFlags.NEEDSCOPY) throw new VmError('EINVAL', `flags ${hex(flags)}: NEEDSCOPY is set by fork, never by mmap`);
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

  /** Takes `n` entries for the operation under way: `ENOMEM` with nothing changed when the pool cannot. */
  protected reserve(n: number): void {
    if (n > 0 && !this.ctx.pool.take(n, this.reserved)) {
      throw new VmError('ENOMEM', `map entry pool exhausted (${this.ctx.pool.free} of ${this.ctx.pool.limit} free, ${n} needed)`);
    }
  }

  protected takeReserved(): number {
    const e = this.reserved.pop();
    invariant(e !== undefined, 'an operation used more entries than it reserved');
    return e;
  }

  protected releaseReserved(): void {
    invariant(this.reserved.length === 0, `an operation reserved ${this.reserved.length} entries it did not use`);
  }

  private snapshot(e: number): MapEntry {
    const P = this.ctx.pool;
    return Object.freeze({
      start: P.start[e],
      end: P.end[e],
      prot: P.prot[e],
      flags: P.flags[e] & MAP_FLAGS_ALL,
      offset: P.offset[e],
      backing: P.backing[e]!,
    });
  }

  /** A new anonymous backing of this map, whose offsets are addresses so that neighbours can extend it. */
  private anonymous(): ZeroFillBacking {
    const b = new ZeroFillBacking(this.ctx.alloc, { owner: this.isKernel ? PageOwner.KERNEL : PageOwner.APP });
    b.store.mapTag = this.id;
    return b;
  }

  private isAnonymousHere(b: Backing | undefined): b is ZeroFillBacking {
    return b instanceof ZeroFillBacking && b.store.mapTag === this.id;
  }

  /** Attaches a backing to entry e. */
  protected attach(e: number, b: Backing): void {
    this.ctx.pool.backing[e] = b;
    if (b instanceof ZeroFillBacking) b.attached = true;
  }

  /** Drops entry e: out of the tree, its backing released, back to the pool. */
  protected drop(e: number): void {
    const P = this.ctx.pool;
    this.tree.remove(e);
    P.backing[e]!.release();
    P.put(e);
  }

  /**
   * Maps `[a, a+len)`, replacing what is there when `fixed`. Every entry the operation needs is taken before
   * anything changes, so `ENOMEM` leaves the map exactly as it was; the new range is merged with neighbours of the
   * same prot and flags whose backing extends over it.
   */
  protected place(a: number, len: number, prot: number, flags: number, backing: Backing | undefined, offset: number, fixed: boolean): void {
    const P = this.ctx.pool;
    const tree = this.tree;
    const b = a + len;
    let over = tree.firstEndingAfter(a);
    if (over !== NIL && P.start[over] >= b) over = NIL;
    invariant(fixed || over === NIL, `placement [${hex(a)}, ${hex(b)}) overlaps an entry`);
    const L = over !== NIL && P.start[over] < a ? over : NIL;
    const t = over === NIL ? NIL : tree.containing(b - 1);
    const R = t !== NIL && P.end[t] > b ? t : NIL;
    const inside = L !== NIL && L === R;
    let leftN = L;
    if (leftN === NIL) {
      const f = tree.firstEndingAfter(a);
      const p = f === NIL ? tree.last() : tree.prev(f);
      if (p !== NIL && P.end[p] === a) leftN = p;
    }
    let rightN = R;
    if (rightN === NIL) {
      const f = tree.firstEndingAfter(b);
      if (f !== NIL && P.start[f] === b) rightN = f;
    }
    const same = (n: number) => n !== NIL && P.prot[n] === prot && P.flags[n] === flags;
    const leftLen = leftN === NIL ? 0 : a - P.start[leftN];
    let mergeL: boolean;
    let mergeR: boolean;
    if (backing === undefined) {
      mergeL = same(leftN) && this.isAnonymousHere(P.backing[leftN]);
      mergeR =
        same(rightN) &&
        this.isAnonymousHere(P.backing[rightN]) &&
        (!mergeL || (P.backing[leftN] as ZeroFillBacking).store === (P.backing[rightN] as ZeroFillBacking).store);
    } else {
      mergeL = same(leftN) && P.offset[leftN] + leftLen === offset && P.backing[leftN]!.canMerge(backing, leftLen);
      const rightOffset = rightN === NIL ? 0 : R !== NIL ? P.offset[R] + (b - P.start[R]) : P.offset[rightN];
      mergeR =
        same(rightN) &&
        rightOffset === offset + len &&
        backing.canMerge(P.backing[rightN]!, len) &&
        (!mergeL || P.backing[leftN]!.canMerge(P.backing[rightN]!, leftLen + len));
    }
    const splitNeeded = inside && !(mergeL && mergeR);
    this.reserve((splitNeeded ? 1 : 0) + (mergeL || mergeR ? 0 : 1));

    if (over !== NIL) {
      if (this.mmu) this.pmap.remove(a, b);
      if (inside) {
        P.backing[L]!.unmap(P.offset[L] + (a - P.start[L]), len);
        if (splitNeeded) {
          rightN = this.splitAt(L, b);
          P.end[L] = a;
          tree.resized(L);
        }
      } else this.cutOut(over, a, b);
    }
    const anonOffset = backing === undefined;
    if (mergeL && mergeR) {
      if (rightN !== leftN) {
        const end = P.end[rightN];
        this.drop(rightN);
        P.end[leftN] = end;
        tree.resized(leftN);
      }
      backing?.release();
    } else if (mergeL) {
      P.end[leftN] = b;
      tree.resized(leftN);
      backing?.release();
    } else if (mergeR) {
      P.start[rightN] = a;
      P.offset[rightN] = anonOffset ? a : offset;
      tree.resized(rightN);
      backing?.release();
    } else {
      const e = this.takeReserved();
      P.start[e] = a;
      P.end[e] = b;
      P.prot[e] = prot;
      P.flags[e] = flags;
      P.offset[e] = anonOffset ? a : offset;
      this.attach(e, backing ?? this.anonymous());
      tree.insert(e);
    }
    this.releaseReserved();
  }

  /**
   * Cuts entry e at `at` (strictly inside it): e keeps `[start, at)`, a reserved entry takes `[at, end)` with the
   * backing's split handle. Returns the upper entry.
   */
  protected splitAt(e: number, at: number): number {
    const P = this.ctx.pool;
    const u = this.takeReserved();
    const off = P.offset[e] + (at - P.start[e]);
    P.start[u] = at;
    P.end[u] = P.end[e];
    P.prot[u] = P.prot[e];
    P.flags[u] = P.flags[e];
    P.offset[u] = off;
    this.attach(u, P.backing[e]!.split(off));
    P.end[e] = at;
    this.tree.resized(e);
    this.tree.insert(u);
    return u;
  }

  // Removes [a, b) from the entries from `over` on, none of which contains the whole range strictly inside it.
  private cutOut(over: number, a: number, b: number): void {
    const P = this.ctx.pool;
    let n = over;
    while (n !== NIL && P.start[n] < b) {
      const nx = this.tree.next(n);
      const s = P.start[n];
      const e = P.end[n];
      const cs = Math.max(s, a);
      const ce = Math.min(e, b);
      P.backing[n]!.unmap(P.offset[n] + (cs - s), ce - cs);
      if (s < a) {
        P.end[n] = a;
        this.tree.resized(n);
      } else if (e > b) {
        P.offset[n] += b - s;
        P.start[n] = b;
        this.tree.resized(n);
      } else this.drop(n);
      n = nx;
    }
  }

  /** Unmaps `[a, b)`: translations removed, backings told, entries trimmed, split or dropped. */
  protected unmapRange(a: number, b: number): void {
    const P = this.ctx.pool;
    const over = this.tree.firstEndingAfter(a);
    if (over === NIL || P.start[over] >= b) return;
    const inside = P.start[over] < a && P.end[over] > b;
    this.reserve(inside ? 1 : 0);
    if (this.mmu) this.pmap.remove(a, b);
    if (inside) {
      P.backing[over]!.unmap(P.offset[over] + (a - P.start[over]), b - a);
      this.splitAt(over, b);
      P.end[over] = a;
      this.tree.resized(over);
    } else this.cutOut(over, a, b);
    this.releaseReserved();
  }

  // After entry m's prot changed: translations follow. Rights taken away are taken from the present pages; any
  // write right given is left to the next fault, since a backing may hand pages out read-only (copy-on-write).
  private retranslate(m: number): void {
    const P = this.ctx.pool;
    const prot = P.prot[m];
    if ((prot & RWX) === 0 || prot & Prot.WRITE) this.pmap.remove(P.start[m], P.end[m]);
    else this.pmap.protect(P.start[m], P.end[m], this.attrOf(prot, P.flags[m]));
  }

  /** True when entry y can be folded into its predecessor x. */
  protected mergeable(x: number, y: number): boolean {
    const P = this.ctx.pool;
    const len = P.end[x] - P.start[x];
    return (
      P.end[x] === P.start[y] &&
      P.prot[x] === P.prot[y] &&
      P.flags[x] === P.flags[y] &&
      (P.flags[x] & WIRED) === 0 &&
      P.offset[x] + len === P.offset[y] &&
      P.backing[x]!.canMerge(P.backing[y]!, len)
    );
  }

  // Merges neighbours pairwise from entry x up to the first entry starting at or after `limit`.
  private mergeFrom(x: number, limit: number): void {
    const P = this.ctx.pool;
    let cur = x;
    while (cur !== NIL && P.start[cur] < limit) {
      const nx = this.tree.next(cur);
      if (nx === NIL) break;
      if (this.mergeable(cur, nx)) {
        const end = P.end[nx];
        this.drop(nx);
        P.end[cur] = end;
        this.tree.resized(cur);
      } else cur = nx;
    }
  }

  // Without an MMU: the backing's block decides where the entry goes (va = pa); it is populated from the start.
  protected mmapContiguous(len: number, prot: number, flags: number, backing: Backing | undefined, offset: number, fixed: boolean): number {
    if (fixed) throw new VmError('EINVAL', 'MapFlags.FIXED: without an MMU a mapping goes where its memory is');
    const created = backing === undefined;
    const b = backing ?? new ZeroFillBacking(this.ctx.alloc, { owner: this.isKernel ? PageOwner.KERNEL : PageOwner.APP });
    try {
      const pa = b.contiguous(offset, len);
      if (pa < 0) throw new VmError('ENOMEM', `backing ${b.name} has no block of ${hex(len)} bytes at offset ${hex(offset)} (${pa})`);
      if (!Number.isSafeInteger(pa) || pa % this.ps !== 0) throw new VmError('EINVAL', `backing ${b.name} gave an unaligned block ${hex(pa)}`);
      checkInside(pa, len, this.tree.lo, this.tree.hi, 'map range');
      const o = this.tree.firstEndingAfter(pa);
      if (o !== NIL && this.ctx.pool.start[o] < pa + len) {
        throw new VmError('EEXIST', `[${hex(pa)}, ${hex(pa + len)}) of backing ${b.name} is already mapped by this map`);
      }
      this.place(pa, len, prot, flags, b, offset, false);
      grantRegion(this.pmap, this.ctx.board, pa, len);
      return pa;
    } catch (e) {
      if (created) b.release();
      throw e;
    }
  }

  private checkAccessRange(va: number, len: number): void {
    if (typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0) {
      throw new VmError('EINVAL', `va must be a non-negative integer below 2^53, got ${hex(va)}`);
    }
    if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 0) {
      throw new VmError('EINVAL', `len must be a non-negative integer, got ${hex(len)}`);
    }
    if (!Number.isSafeInteger(va + len)) throw new VmError('EFAULT', `[${hex(va)}, +${hex(len)}) passes 2^53`);
  }

  // The frames behind every page of [va, va+len), faulting as needed, before a byte is touched.
  private pagesFor(va: number, len: number, kind: number): Float64Array {
    const ps = this.ps;
    const first = va - (va % ps);
    const n = Math.ceil((va + len - first) / ps);
    const pas = new Float64Array(n);
    const access = kind | this.mode;
    for (let i = 0; i < n; i++) {
      const page = first + i * ps;
      const at = i === 0 ? va : page;
      pas[i] = this.pageFor(at, access);
    }
    return pas;
  }

  /** The physical address of `va` for `access` (mode bits included), faulting and retrying once. */
  pageFor(va: number, access: number): number {
    if (!this.mmu) {
      const r = flatPageFor(this.tree, this.pmap, va, access);
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

  // The error for a refused access, after telling the onAccessFault listener (if any).
  private refuse(code: number, va: number, access: number): VmError {
    this.ctx.onAccessFault?.(this.owner, va, access, code);
    return faultError(code, va);
  }

}
