import { Access, BoardMemoryMap, PageOwner, Prot, VmError, isVmError, hex } from '@vmlayers/phys';
import type { PageAllocator, PhysicalMemory, Pmap, PmapFactory } from '@vmlayers/phys';
import { EntryPool, NIL } from './entry-pool.js';
import { FixedBacking } from './internal/fixed-backing.js';
import { place, unmapRange } from './entry-clip.js';
import { MapBase } from './map-base.js';
import { WIRED } from './map-context.js';
import type { KernelContext } from './map-context.js';
import { mmapContiguous } from './nommu-map.js';
import type { EntryPoolInfo } from './map-entry.js';
import { UserMap } from './vm-map.js';
import type { MemoryMap, VmMap } from './vm-map.js';
import { ZeroFillBacking } from './zero-fill.js';
import { ReverseMap } from './rmap.js';

/** Arguments of {@link createKernelMap}. */
export interface KernelMapOptions {
  /** The architecture (a `PmapFactory`: `sv39`, `ia32`, `armv7m`, …). */
  arch: PmapFactory;
  /**
   * The board's physical memory, which the kernel pmap's tables and every mapped frame live in; `alloc` must
   * allocate from it (`EINVAL` otherwise).
   */
  mem: PhysicalMemory;
  /** The page allocator over `mem`; its page size must be the architecture's (`EINVAL` otherwise). */
  alloc: PageAllocator;
  /** The board memory map; default `mem.board`. */
  board?: BoardMemoryMap;
  /** Map entries in the pool, fixed for the kernel's life; default one per 3 free pages, as the original. */
  entries?: number;
  /**
   * Told of every access through an `AddressSpace` that is refused (`code`: `FaultCode.NOT_MAPPED`, `PROTECTION`,
   * `NO_MEMORY`…), just before the `VmError` is thrown: `owner` is the process map's owner (-1 for the kernel map),
   * `va` the address that faulted, `access` the `Access` bits. For tracing; it must not throw.
   */
  onAccessFault?: (owner: number, va: number, access: number, code: number) => void;
  /**
   * Keep a reverse map of process pages (`KernelMap.rmap`): every (process map, address) that maps each frame, as
   * reclaim needs to unmap a frame everywhere and read its accessed and dirty bits. Costs a 16-byte entry per page
   * mapping and a lookup per page on unmap; default false. Without an MMU there is nothing to reclaim: `ENOSYS`.
   */
  reverseMap?: boolean;
}

/**
 * The kernel's memory map (supervisor-mode `AddressSpace` over the kernel range), the owner of the entry pool and
 * the factory of process maps. Wired kernel memory for the allocators above comes from `allocPages`.
 */
export interface KernelMap extends MemoryMap {
  /** The architecture the map was created for ({@link KernelMapOptions.arch}); it makes every process map's pmap. */
  readonly arch: PmapFactory;
  /** The physical memory the map's frames are in ({@link KernelMapOptions.mem}). */
  readonly mem: PhysicalMemory;
  /** The page allocator every frame, table page and kernel page comes from ({@link KernelMapOptions.alloc}). */
  readonly alloc: PageAllocator;
  /** The board memory map the kernel pmap was booted on: {@link KernelMapOptions.board}, or `mem.board`. */
  readonly board: BoardMemoryMap;
  /**
   * A new process map for `owner` (a pid, a non-negative integer). With an MMU: a fresh user pmap over the
   * architecture's user range, page 0 excluded. Without one: a view of the one shared flat map that sees and may
   * change only `owner`'s entries (one live view per owner, else `EEXIST`).
   */
  createUserMap(owner: number): VmMap;
  /**
   * `n` pages of wired kernel memory, read/write, supervisor only, zeroed and physically contiguous: one run of
   * exactly `n` frames (`PageAllocator.allocExact`: a power-of-two block less its unused tail), entered at once, as
   * the original's zones take one `vm_pageAlloc` block. Returns the address ({@link physical} gives the frames').
   * `ENOMEM` with nothing changed when no run of `n` frames is free, or tables or entries run out.
   */
  allocPages(n: number): number;
  /** Gives back memory from `allocPages`; any other address → `EINVAL`. */
  freePages(vaddr: number): void;
  /**
   * The physical address of kernel address `va` in memory from `allocPages` or the kernel image (wired, with fixed
   * frames): what a driver hands a DMA engine, as `_vm_zalloc`'s `paddr`. Without an MMU `va` itself. Not such
   * memory → `EFAULT`; not an address → `EINVAL`.
   */
  physical(va: number): number;
  /** The entry pool: entries in use and free. */
  info(): EntryPoolInfo;
  /** The live process maps. */
  userMaps(): VmMap[];
  /** The reverse map of process pages, when booted with `reverseMap: true`; else null. */
  readonly rmap: ReverseMap | null;
}

class KernelMapImpl extends MapBase implements KernelMap {
  constructor(ctx: KernelContext, pmap: Pmap) {
    super(ctx, pmap, ctx.arch.kernelRange[0], ctx.arch.kernelRange[1], -1);
  }

  get arch(): PmapFactory {
    return this.ctx.arch;
  }

  get mem(): PhysicalMemory {
    return this.ctx.mem;
  }

  get alloc(): PageAllocator {
    return this.ctx.alloc;
  }

  get board(): BoardMemoryMap {
    return this.ctx.board;
  }

  get rmap(): ReverseMap | null {
    return this.ctx.rmap;
  }

  createUserMap(owner: number): VmMap {
    this.live('createUserMap');
    if (typeof owner !== 'number' || !Number.isSafeInteger(owner) || owner < 0) {
      throw new VmError('EINVAL', `owner must be a non-negative integer, got ${hex(owner)}`);
    }
    if (!this.mmu) {
      for (const m of this.ctx.maps) {
        if (m !== this && m.owner === owner) throw new VmError('EEXIST', `owner ${owner} already has a view of the shared map`);
      }
    }
    const [lo, hi] = this.ctx.arch.userRange;
    const pmap = this.ctx.arch.createUser(this.pmap);
    // Page 0 is never mapped, as the original's process maps start at VADDR_MIN + SIZE_PAGE.
    return new UserMap(this.ctx, this, pmap, Math.max(lo, this.pageSize), hi, owner);
  }

  allocPages(n: number): number {
    this.live('allocPages');
    const ps = this.pageSize;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0 || !Number.isSafeInteger(n * ps)) {
      throw new VmError('EINVAL', `n must be a positive number of pages, got ${hex(n)}`);
    }
    const len = n * ps;
    const prot = Prot.READ | Prot.WRITE;
    if (!this.mmu) return mmapContiguous(this, len, prot, WIRED, new ZeroFillBacking(this.ctx.alloc, { owner: PageOwner.KERNEL, name: '[kmem]' }), 0, false);
    const a = this.tree.findFree(len, this.tree.lo);
    if (a < 0) throw new VmError('ENOMEM', `no free kernel range of ${n} pages`);
    const backing = new ZeroFillBacking(this.ctx.alloc, { owner: PageOwner.KERNEL, name: '[kmem]' });
    try {
      place(this, a, len, prot, WIRED, backing, 0, false);
    } catch (e) {
      backing.release();
      throw e;
    }
    // Wired and physically contiguous (one run of exactly n frames, as the original's zones take one vm_pageAlloc
    // block): every page is entered before the caller sees the address. Whatever stops that (no run, no table, a
    // frame the pmap refuses, or a bug) takes back all of it before it propagates.
    const attr = this.attrOf(prot, 0);
    let failure: unknown = null;
    const pa = backing.contiguous(0, len);
    if (pa < 0) failure = new VmError('ENOMEM', `no physically contiguous run of ${n} free pages`);
    for (let off = 0; off < len && failure === null; off += ps) {
      try {
        if (this.pmap.enter(pa + off, a + off, attr) < 0) failure = new VmError('ENOMEM', `no page table for kernel page ${hex(a + off)} of ${n}`);
      } catch (e) {
        failure = e;
      }
    }
    if (failure !== null) {
      unmapRange(this, a, a + len);
      throw isVmError(failure) && failure.code !== 'ENOMEM' ? new VmError('ENOMEM', `kernel page of ${n} refused: ${failure.message}`) : failure;
    }
    return a;
  }

  physical(va: number): number {
    this.live('physical');
    if (typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0) throw new VmError('EINVAL', `va must be an address, got ${hex(va)}`);
    const P = this.ctx.pool;
    const e = this.tree.containing(va);
    if (e === NIL) throw new VmError('EFAULT', `${hex(va)} is not mapped in the kernel map`);
    const b = P.backing[e];
    if (!this.mmu) return va;
    const off = P.offset[e] + (va - P.start[e]);
    if (b instanceof ZeroFillBacking && b.store.blockPa >= 0) return b.store.blockPa + (off - b.store.blockOffset);
    if (b instanceof FixedBacking) return b.contiguous(off);
    throw new VmError('EFAULT', `${hex(va)} is not wired kernel memory with a fixed frame`);
  }

  freePages(vaddr: number): void {
    this.live('freePages');
    const P = this.ctx.pool;
    const e = typeof vaddr === 'number' && Number.isSafeInteger(vaddr) ? this.tree.containing(vaddr) : NIL;
    if (e === NIL || P.start[e] !== vaddr || (P.flags[e] & WIRED) === 0 || !(P.backing[e] instanceof ZeroFillBacking)) {
      throw new VmError('EINVAL', `vaddr ${hex(vaddr)} is not memory from allocPages`);
    }
    unmapRange(this, P.start[e], P.end[e]);
  }

  info(): EntryPoolInfo {
    const p = this.ctx.pool;
    return { total: p.limit, entries: p.used, free: p.free };
  }

  userMaps(): VmMap[] {
    const out: VmMap[] = [];
    for (const m of this.ctx.maps) if (m !== this) out.push(m as UserMap);
    return out;
  }

  /**
   * The kernel segments, wired: with an MMU the kernel image (the board's `reserved` region named `kernel`) at the
   * bottom of the kernel range; without one every `reserved` region at its own address, so that nothing else is
   * ever placed there (the original's syspage entries).
   */
  wireSegments(): void {
    const rx = Prot.READ | Prot.EXEC;
    const ps = this.pageSize;
    if (!this.mmu) {
      for (const r of this.ctx.board.regions) {
        if (r.kind !== 'reserved') continue;
        const a = r.base - (r.base % ps);
        const len = Math.ceil((r.base + r.size - a) / ps) * ps;
        place(this, a, len, rx, WIRED, new FixedBacking(a, r.name), 0, false);
      }
      return;
    }
    const image = this.ctx.board.regions.find((r) => r.kind === 'reserved' && r.name === 'kernel');
    if (image === undefined) return;
    const len = Math.ceil(image.size / ps) * ps;
    const a = this.tree.lo;
    place(this, a, len, rx | Prot.WRITE, WIRED, new FixedBacking(image.base, '[kernel]'), 0, false);
    const attr = this.attrOf(rx | Prot.WRITE, 0);
    for (let off = 0; off < len; off += ps) {
      if (this.pmap.enter(image.base + off, a + off, attr) < 0) {
        throw new VmError('ENOMEM', `no page table for the kernel image at ${hex(a + off)}`);
      }
    }
  }
}

/**
 * Boots the kernel's memory map: the kernel pmap (`arch.createKernel`), the entry pool (default one entry per 3
 * free pages, as the original), the wired kernel segments. Bad arguments → `EINVAL`; no memory → `ENOMEM`.
 */
export function createKernelMap(options: KernelMapOptions): KernelMap {
  if (options === null || typeof options !== 'object') throw new VmError('EINVAL', 'options must be { arch, mem, alloc, board?, entries? }');
  const { arch, mem, alloc } = options;
  if (arch === null || typeof arch !== 'object' || typeof arch.createKernel !== 'function' || typeof arch.createUser !== 'function') {
    throw new VmError('EINVAL', 'arch must be a PmapFactory');
  }
  if (mem === null || typeof mem !== 'object' || typeof mem.read !== 'function') throw new VmError('EINVAL', 'mem must be a PhysicalMemory');
  if (alloc === null || typeof alloc !== 'object' || typeof alloc.allocPa !== 'function') throw new VmError('EINVAL', 'alloc must be a PageAllocator');
  if (alloc.mem !== mem) throw new VmError('EINVAL', 'alloc must allocate from mem');
  if (alloc.pageSize !== arch.pageSize) {
    throw new VmError('EINVAL', `alloc.pageSize ${alloc.pageSize} differs from ${arch.name}'s page size ${arch.pageSize}`);
  }
  const board = options.board === undefined ? mem.board : options.board;
  if (!(board instanceof BoardMemoryMap)) throw new VmError('EINVAL', `board must be a BoardMemoryMap, got ${hex(board)}`);
  const ps = arch.pageSize;
  if (options.entries !== undefined) {
    const n = options.entries;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0 || n >= 2 ** 31 - 1) {
      throw new VmError('EINVAL', `entries must be a positive integer below 2^31, got ${hex(n)}`);
    }
  }
  if (options.reverseMap !== undefined && typeof options.reverseMap !== 'boolean') {
    throw new VmError('EINVAL', `reverseMap must be a boolean, got ${hex(options.reverseMap)}`);
  }
  if (options.reverseMap === true && !arch.capabilities.hasMmu) {
    throw new VmError('ENOSYS', `reverseMap: ${arch.name} has no MMU, so no page tables to unmap and nothing to reclaim`);
  }
  const kpmap = arch.createKernel(mem, alloc, board);
  const limit = options.entries ?? Math.min(2 ** 31 - 2, Math.max(1, Math.floor(alloc.info().free / (3 * ps))));
  const ctx: KernelContext = {
    arch,
    mem,
    alloc,
    board,
    pool: new EntryPool(limit, alloc.faults),
    pageSize: ps,
    hasMmu: arch.capabilities.hasMmu,
    // Whether an execute-only entry stays unreadable: not where the hardware reads whatever it executes.
    execProtect: arch.capabilities.execProtect && arch.capabilities.execImpliesRead !== true,
    maps: new Set(),
    held: new WeakSet(),
    nextId: 1,
    onAccessFault: options.onAccessFault,
    rmap: options.reverseMap === true ? new ReverseMap(alloc, arch.capabilities.accessedDirty) : null,
  };
  const kmap = new KernelMapImpl(ctx, kpmap);
  try {
    kmap.wireSegments();
  } catch (e) {
    kpmap.destroy();
    throw e;
  }
  return kmap;
}
