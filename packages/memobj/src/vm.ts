import { BoardMemoryMap, PageOwner, PageUsage, MapFlags, PageAllocator, PhysicalMemory, Prot, VmError, boards, invariant, faultErrno, hex } from '@vmlayers/phys';
import type { FaultInjector, PageMapRun, Pmap, PmapFactory, PmapTable } from '@vmlayers/phys';
import { Kmalloc } from '@vmlayers/kmalloc';
import { ReservedBacking, createKernelMap } from '@vmlayers/mapper';
import type { KernelMap } from '@vmlayers/mapper';
import type { Amap } from './amap.js';
import type { VmEventListener } from './events.js';
import { checkImage } from './image.js';
import type { Image } from './image.js';
import { MemContext } from './internal/context.js';
import type { FrameMapping, MapInfo, MemInfo, ProcessStatus } from './meminfo.js';
import { AmapBacking } from './amap-backing.js';
import { BlockBacking } from './block-backing.js';
import { ObjectMapping } from './object-mapping.js';
import { BytesPager, isPager } from './pager.js';
import type { Pager } from './pager.js';
import { Process, mapInto } from './process.js';
import type { ProcessHost } from './process.js';
import { VmObject, checkPhysRange } from './vm-object.js';
import { SwapDevice } from './swap.js';
import { Reclaimer } from './reclaim/reclaimer.js';
import { resolvePolicy } from './reclaim/policy.js';
import type { ReclaimPolicy } from './reclaim/policy.js';

/** Arguments of {@link createVm}. */
export interface VmOptions {
  /** The architecture: a `PmapFactory` (`sv39`, `ia32` from `@vmlayers/pmap-mmu`, `armv7m` from `@vmlayers/pmap-nommu`). */
  arch: PmapFactory;
  /** A board preset name or a `BoardMemoryMap`; default the architecture's `defaultBoard`. */
  board?: string | BoardMemoryMap;
  /**
   * Instead of `board`: one RAM bank of this many bytes, at the address where the architecture's default board has
   * its RAM.
   */
  ramSize?: number;
  /** Receives every {@link VmEvent}. */
  onEvent?: VmEventListener;
  /** Map entries in the pool (default as the original: one per 3 free pages). */
  entries?: number;
  /**
   * Populate every user mapping at `mmap` and `spawn` (as if `MapFlags.POPULATE` were always given), as the original
   * does on MMU targets, so that accesses take no page fault and real-time code sees predictable access times.
   * Default false: pages come on first touch. Fork stays copy-on-write either way.
   */
  populate?: boolean;
  /**
   * A swap device of `pages` page slots (`SwapDevice`): anonymous pages are written there when reclaim evicts them
   * and read back on their next fault. MMU architectures only (`ENOSYS` without one: no page tables to unmap).
   */
  swap?: {
    /** Page slots of the device: an integer from 1 to 2^24. */
    pages: number;
  };
  /**
   * Page reclaim: `policy` (`'fifo'`, `'clock'` — the default —, `'lru'`, or a `ReclaimPolicy` object) chooses which
   * resident anonymous page to evict; `limit` caps resident anonymous pages (a memory cgroup's limit: a reference
   * string "with 3 frames" is `limit: 3`). Eviction needs `swap`. MMU architectures only (`ENOSYS`).
   */
  reclaim?: {
    /** `'fifo'`, `'clock'` (default), `'lru'`, or a {@link ReclaimPolicy} object. */
    policy?: string | ReclaimPolicy;
    /** Most resident anonymous pages at once (a positive integer); default no cap. */
    limit?: number;
  };
}

/**
 * The whole memory-management subsystem, booted: physical memory and the page allocator, the kernel map over the
 * architecture's pmap, kmalloc, and memory objects; processes on top. Bad options, or a board the architecture
 * cannot use → `EINVAL`; an unknown preset → `ENOENT`.
 */
export function createVm(options: VmOptions): Vm {
  return new Vm(options);
}

/** See {@link createVm}. */
export class Vm {
  /** The architecture ({@link VmOptions.arch}): its page size, address ranges and whether it has an MMU. */
  readonly arch: PmapFactory;
  /** The board booted: the `board` option, a one-bank board of `ramSize` bytes, or `arch.defaultBoard`. */
  readonly board: BoardMemoryMap;
  /** The board's physical memory: the bytes every frame of every process and of the kernel lives in. */
  readonly mem: PhysicalMemory;
  /** The page allocator over `mem`, with the architecture's page size; `faults` is its fault injector. */
  readonly alloc: PageAllocator;
  /** The kernel's memory map: owner of the map-entry pool and maker of every process's map. */
  readonly kmap: KernelMap;
  /** The kernel heap, on `kmap`'s wired pages: memory objects, amaps and anons are charged to it. */
  readonly kmalloc: Kmalloc;
  private readonly ctx: MemContext;
  private readonly procs = new Map<number, Process>();
  private nextPid = 1;
  // Objects made by spawn for image data, by array: processes spawned from one image share its pages. Holds no
  // reference (an entry whose object died is dropped when met).
  private readonly images = new WeakMap<Uint8Array, VmObject>();
  private readonly host: ProcessHost;

  constructor(options: VmOptions) {
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', `options must be an object, got ${hex(options)}`);
    const arch = options.arch;
    if (arch === null || typeof arch !== 'object' || typeof arch.createKernel !== 'function' || typeof arch.pageSize !== 'number') {
      throw new VmError('EINVAL', `arch must be a PmapFactory, got ${hex(arch)}`);
    }
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
      throw new VmError('EINVAL', `onEvent must be a function, got ${hex(options.onEvent)}`);
    }
    if (options.populate !== undefined && typeof options.populate !== 'boolean') {
      throw new VmError('EINVAL', `populate must be a boolean, got ${hex(options.populate)}`);
    }
    const wantsReclaim = options.swap !== undefined || options.reclaim !== undefined;
    if (wantsReclaim && !arch.capabilities.hasMmu) {
      throw new VmError('ENOSYS', `swap and reclaim need an MMU; ${arch.name} has none (no page tables to take a page out of)`);
    }
    const swapPages = checkSwap(options.swap);
    const reclaimOpts = checkReclaim(options.reclaim);
    this.arch = arch;
    this.board = resolveBoard(arch, options);
    this.mem = new PhysicalMemory(this.board);
    // Whatever stops the kernel from booting on this board (RAM not in whole pages, out of the architecture's
    // reach, too small for the kernel's tables and heap) means the architecture cannot use the board.
    try {
      // Without an MMU every mapping is one exact run of frames: placed first fit, as the original's _map_find.
      this.alloc = new PageAllocator(this.mem, { pageSize: arch.pageSize, exactPlacement: arch.capabilities.hasMmu ? 'buddy' : 'first-fit' });
      this.kmap = createKernelMap({
        arch,
        mem: this.mem,
        alloc: this.alloc,
        board: this.board,
        entries: options.entries,
        reverseMap: wantsReclaim,
        // A refused access never reaches a memory object: the map says so, and it becomes a `fault` event.
        onAccessFault: (owner, va, access, code) => {
          if (owner >= 0) this.ctx.emit({ type: 'fault', pid: owner, va, access, result: faultErrno(code) });
        },
      });
      this.kmalloc = new Kmalloc(this.kmap);
    } catch (e) {
      // The cause keeps its own errno in the text (ENOMEM: too small; EINVAL: RAM out of reach), without repeating it.
      if (e instanceof VmError) throw new VmError('EINVAL', `board ${this.board.name} cannot be used by ${arch.name}: ${e.message.replace(/^EINVAL: /, '')}`);
      throw e;
    }
    this.ctx = new MemContext(this.alloc, this.kmalloc, arch.capabilities.hasMmu, options.onEvent ?? null);
    this.ctx.populate = options.populate === true;
    if (wantsReclaim) {
      const swap = swapPages === null ? null : new SwapDevice(swapPages, arch.pageSize, this.alloc.faults);
      // A reserve of free frames only the kernel may take (page tables, the heap that anons and amaps are charged
      // to), so that an application filling memory leaves room to run reclaim: 1/128 of RAM, at least 8 pages.
      const reserve = Math.max(8, Math.floor(this.alloc.freePages() / 128));
      this.alloc.setWatermarks({ min: reserve, low: reserve, high: 2 * reserve });
      this.ctx.reclaimer = new Reclaimer(this.ctx, this.kmap.rmap!, swap, reclaimOpts.policy, reclaimOpts.limit);
    }
    if (arch.capabilities.hasMmu) {
      const zero = this.alloc.allocPa(arch.pageSize, { owner: PageOwner.KERNEL, usage: PageUsage.NONE });
      if (zero < 0) throw new VmError('EINVAL', `board ${this.board.name} has no frame left for the zero page after boot`);
      this.ctx.zeroPage = zero;
    }
    const self = this;
    this.host = {
      ctx: this.ctx,
      adopt: (p) => void self.procs.set(p.pid, p),
      forget: (pid) => {
        self.procs.delete(pid);
        self.ctx.faultCounts.delete(pid);
      },
      peekPid: () => self.nextPid,
      takePid: () => self.nextPid++,
    };
  }

  /** The allocator's fault injector: `failAt(site, n)`, `failAfter(n)`, `reset()`, `counts()`. */
  get faults(): FaultInjector {
    return this.alloc.faults;
  }

  /**
   * A new process, with `image` mapped when given: each segment at its `vaddr` (without an MMU where memory is),
   * data from a read-only object shared by every process spawned from the same array, the rest zero-filled. A
   * segment with `flash` is mapped from the board's flash: read-only, where it lies (execute in place; without an
   * MMU at its flash address, taking no RAM), writable, as a private copy in RAM of its flash bytes.
   * Bad image → `EINVAL`; no memory → `ENOMEM`; nothing is left behind on error.
   */
  spawn(image?: Image): Process {
    return this.ctx.run(() => this.load(image));
  }

  // spawn, inside one operation.
  private load(image: Image | undefined): Process {
    const ps = this.arch.pageSize;
    const hasMmu = this.ctx.hasMmu;
    const segs = image === undefined ? [] : checkImage(image, ps, hasMmu, this.mem.board);
    const pid = this.nextPid;
    const map = this.kmap.createUserMap(pid);
    try {
      for (const s of segs) {
        const len = Math.ceil(s.size / ps) * ps;
        const data = s.data !== undefined && s.data.length > 0 ? s.data : undefined;
        const flags = MapFlags.PRIVATE | (hasMmu ? MapFlags.FIXED : 0);
        // A segment in flash is an object over that range: read-only, it is mapped where it lies (execute in place:
        // without an MMU at the flash address itself); writable, its bytes are copied to RAM (a private copy).
        const object =
          s.flash !== undefined
            ? VmObject.create(this.ctx, { kind: 'physical', size: len, base: s.flash, name: `[flash 0x${s.flash.toString(16)}]`, user: false })
            : data === undefined
              ? null
              : this.imageObject(data);
        try {
          // Without an MMU the segment goes where its block is: the address is not even a hint.
          mapInto(this.ctx, map, pid, { addr: hasMmu ? s.vaddr : undefined, size: len, prot: s.prot | Prot.USER, flags, object, offset: 0, shared: false });
        } finally {
          object?.put();
        }
      }
    } catch (e) {
      map.destroy();
      throw e;
    }
    this.nextPid++;
    const p = new Process(this.host, pid, map);
    this.procs.set(pid, p);
    this.ctx.emit({ type: 'spawn', pid });
    return p;
  }

  /**
   * A memory object over `source`: a {@link Pager}, or a `Uint8Array` (wrapped in the built-in {@link BytesPager}).
   * The caller holds one reference (`object.release()`). Bad source or size → `EINVAL`; no kernel heap → `ENOMEM`.
   */
  createObject(source: Pager | Uint8Array): VmObject {
    const pager = source instanceof Uint8Array ? new BytesPager(source) : source;
    if (!isPager(pager)) throw new VmError('EINVAL', `source must be a Pager or a Uint8Array, got ${hex(source)}`);
    const size = pager.size();
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw new VmError('EINVAL', `pager.size() must be a positive integer, got ${hex(size)}`);
    }
    return VmObject.create(this.ctx, { kind: 'pager', size, pager, name: source instanceof Uint8Array ? '[bytes]' : '[pager]', user: true });
  }

  /**
   * Privileged: an object over physical memory `[pa, pa + size)` — a RAM range that is reserved or allocated (a
   * frame buffer), or with `device: true` a device range (mapped uncached, always shared, never copied on fork).
   * Its RAM frames are pinned while the object lives (`PageAllocator.pin`: freeing them is `EBUSY`), so they are
   * never handed to anyone else while mapped. The caller holds one reference. Unaligned, outside the board, the
   * wrong kind of region, or free frames → `EINVAL`.
   */
  createPhysObject(pa: number, size: number, options: { device?: boolean } = {}): VmObject {
    const device = options?.device === true;
    checkPhysRange(this.ctx, pa, size, device);
    return VmObject.create(this.ctx, {
      kind: device ? 'device' : 'physical',
      size,
      base: pa,
      name: `[${device ? 'device' : 'phys'} 0x${pa.toString(16)}]`,
      user: true,
    });
  }

  /**
   * A physically contiguous object of `size` bytes (the original's `vm_objectContiguous`, for drivers and DMA): one
   * zeroed run of exactly its pages that it owns (`PageAllocator.allocExact`), its address in `object.pa`. Always
   * mapped `SHARED` (a private mapping → `EINVAL`), never copied on fork; the run goes back when the last reference
   * does. Bad size → `EINVAL`; no free run that long → `ENOMEM` (not `EINVAL`: it is memory that is missing),
   * nothing taken.
   */
  createContiguousObject(size: number): VmObject {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw new VmError('EINVAL', `size must be a positive integer, got ${hex(size)}`);
    }
    return this.ctx.run(() => VmObject.create(this.ctx, { kind: 'contiguous', size, name: '[contiguous]', user: true }));
  }

  /** Page, map-entry and kernel-heap figures, as the original's `meminfo`; swap and reclaim when configured. */
  meminfo(): MemInfo {
    const p = this.alloc.info();
    const m = this.kmap.info();
    const k = this.kmalloc.stats();
    const info: MemInfo = {
      page: { total: p.total, free: p.free, alloc: p.alloc, boot: p.boot },
      map: { entries: m.entries, free: m.free },
      kmalloc: { used: k.used, free: k.free },
    };
    const r = this.ctx.reclaimer;
    if (r !== null) {
      const ps = this.arch.pageSize;
      if (r.swap !== null) info.swap = { total: r.swap.pages * ps, free: r.swap.free * ps };
      info.reclaim = r.stats();
    }
    return info;
  }

  /**
   * Background reclaim (kswapd): evicts pages the policy chooses until `target` pages are free (default: the page
   * allocator's `high` watermark) or nothing more can be evicted; returns the pages evicted. Without reclaim
   * configured → `ENOSYS`; a bad target → `EINVAL`.
   */
  reclaim(target?: number): number {
    const r = this.ctx.reclaimer;
    if (r === null) throw new VmError('ENOSYS', 'reclaim is not configured: createVm({ swap, reclaim })');
    const t = target === undefined ? this.alloc.watermarks().high : target;
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) throw new VmError('EINVAL', `target must be a page count, got ${hex(t)}`);
    return this.ctx.run(() => r.reclaim(t));
  }

  /** The mappings of process `pid` in address order. Unknown pid → `ENOENT`. */
  maps(pid: number): MapInfo[] {
    const p = this.process(pid);
    return p.map.entries().map((e) => ({
      start: e.start,
      end: e.end,
      prot: e.prot,
      flags: e.flags,
      offset: e.offset,
      object: e.backing.name,
      objectId: e.backing instanceof ObjectMapping ? (e.backing.object?.id ?? 0) : 0,
      protOrig: e.protOrig,
      anonymous: e.backing instanceof AmapBacking || e.backing instanceof BlockBacking ? e.backing.anonymousBytes(e.offset, e.end - e.start) : 0,
    }));
  }

  /**
   * Every (process, page) whose translation reaches the frame holding physical address `pa`, by pid then address:
   * who maps a frame, the reverse of a page-table walk. With reclaim on it reads the reverse map (O(mappings of the
   * frame)); otherwise it asks each process's pmap to resolve every page of its mappings (O(pages mapped), an
   * inspection call, not a hot path). Without an MMU a frame is mapped at its own address by the mappings that
   * cover it. A frame nothing maps → `[]`; `pa` not a non-negative integer → `EINVAL`.
   */
  mappingsOf(pa: number): FrameMapping[] {
    if (typeof pa !== 'number' || !Number.isSafeInteger(pa) || pa < 0) throw new VmError('EINVAL', `pa must be a physical address, got ${hex(pa)}`);
    const ps = this.arch.pageSize;
    const frame = pa - (pa % ps);
    const out: FrameMapping[] = [];
    const entryAt = (p: Process, va: number) => p.map.entries().find((e) => e.start <= va && va < e.end);
    const add = (p: Process, va: number, e: { prot: number; flags: number; backing: { name: string } }) =>
      out.push({ pid: p.pid, va, prot: e.prot, flags: e.flags, object: e.backing.name });
    const rmap = this.kmap.rmap;
    if (rmap !== null && this.ctx.hasMmu) {
      const byMap = new Map<unknown, Process>();
      for (const p of this.procs.values()) byMap.set(p.map, p);
      for (const m of rmap.mappings(frame)) {
        const p = byMap.get(m.map);
        const e = p === undefined ? undefined : entryAt(p, m.va);
        if (p !== undefined && e !== undefined) add(p, m.va, e);
      }
    } else {
      for (const p of this.processes()) {
        const pmap = p.map.pmap;
        for (const e of p.map.entries()) {
          if (e.backing instanceof ReservedBacking) continue;
          if (!this.ctx.hasMmu) {
            if (e.start <= frame && frame < e.end) add(p, frame, e);
            continue;
          }
          for (let va = e.start; va < e.end; va += ps) if (pmap.resolve(va) === frame) add(p, va, e);
        }
      }
    }
    return out.sort((x, y) => x.pid - y.pid || x.va - y.va);
  }

  /**
   * What `/proc/<pid>/status` says of process `pid`'s memory: `rss`, bytes of pages its page tables map now (Linux's
   * VmRSS; a page of the shared zero page included); `swap`, bytes of its private pages in swap (VmSwap; a page a
   * fork twin shares counts for both); `minorFaults` / `majorFaults`, faults that reached a memory object, major
   * when a page had to be read back from swap (min_flt / maj_flt). Kept as a method beside `meminfo()`, which stays
   * the system-wide figures of the original's syscall. Unknown pid → `ENOENT`.
   */
  status(pid: number): ProcessStatus {
    const p = this.process(pid);
    const ps = this.arch.pageSize;
    let rss = 0;
    const tables = p.map.pmap.tables();
    let leaf = -1;
    for (const t of tables) if (t.span === ps) leaf = Math.max(leaf, t.level);
    for (const t of tables) if (t.level === leaf && t.span === ps) rss += t.entries;
    if (!this.ctx.hasMmu) {
      rss = 0;
      for (const e of p.map.entries()) rss += (e.end - e.start) / ps;
    }
    let swapped = 0;
    const anons = this.ctx.anons;
    for (const e of p.map.entries()) {
      const b = e.backing;
      if (!(b instanceof AmapBacking) || b.amap === null) continue;
      const [from, to] = b.slotRange(e.offset, e.end - e.start);
      b.amap.forEach(from, to, (_i, a) => void (anons.slot(a) >= 0 && swapped++));
    }
    const f = this.ctx.faultCounts.get(pid) ?? { all: 0, major: 0 };
    return { rss: rss * ps, swap: swapped * ps, minorFaults: f.all - f.major, majorFaults: f.major };
  }

  /**
   * The page-table tree of process `pid`, root first (`Pmap.tables()`: level, physical address, first virtual
   * address, valid entries; the MPU regions it holds without an MMU). Unknown pid → `ENOENT`.
   */
  tables(pid: number): PmapTable[] {
    const p = this.process(pid);
    return p.map.pmap.tables();
  }

  /**
   * The address space of process `pid` as its architecture's `Pmap`, for inspection: `dumpTables(vm.pmap(pid))` and
   * `leaves()` from `@vmlayers/pmap-mmu` on an MMU, the MPU regions of `@vmlayers/pmap-nommu` without one. Mappings
   * changed through it bypass the map (its entries, objects and counts) and break `check()`: read it, do not
   * write it. Unknown pid → `ENOENT`.
   */
  pmap(pid: number): Pmap {
    return this.process(pid).map.pmap;
  }

  /** The physical page map, run-length encoded with the original's markers (`formatPageMap` prints it). */
  pageMap(): PageMapRun[] {
    return this.alloc.pageMap();
  }

  /**
   * The physical address of the shared zero page, the one read-only frame that reads of never-written anonymous
   * memory map (copy-on-write on the first write); -1 without an MMU, where no page can be shared that way.
   */
  get zeroPage(): number {
    return this.ctx.zeroPage;
  }

  /** The live processes, by pid. */
  processes(): Process[] {
    return [...this.procs.values()].sort((a, b) => a.pid - b.pid);
  }

  /** The live memory objects, by id. */
  objects(): VmObject[] {
    return [...this.ctx.objects.values()];
  }

  /**
   * Verifies every layer: the page allocator, the kernel map, every process map, kmalloc, and the memory objects
   * cross-checked against the maps — object, amap and anon reference counts equal the references that exist,
   * every anon and cached page is an allocated application frame, no frame is both. Throws on a broken invariant.
   */
  check(): void {
    this.alloc.check();
    this.kmap.check();
    for (const p of this.procs.values()) p.map.check();
    this.kmalloc.check();
    const ctx = this.ctx;
    const objRefs = new Map<VmObject, number>();
    const amapRefs = new Map<Amap, number>();
    const anonRefs = new Map<number, number>();
    for (const p of this.procs.values()) {
      for (const e of p.map.entries()) {
        const b = e.backing;
        const at = `process ${p.pid}: entry [0x${e.start.toString(16)}, 0x${e.end.toString(16)})`;
        if (b instanceof ReservedBacking) continue; // Process.reserve: address space only, nothing to count
        invariant(b instanceof ObjectMapping && b.ctx === ctx, `${at} has a foreign backing ${b.name}`);
        invariant(!b.isReleased, `${at} holds a released backing`);
        if (b.object !== null) objRefs.set(b.object, (objRefs.get(b.object) ?? 0) + 1);
        if (!(b instanceof AmapBacking) || b.amap === null) continue;
        const amap = b.amap;
        amapRefs.set(amap, (amapRefs.get(amap) ?? 0) + 1);
        // The entry's range, not the backing, says which slots it owns.
        const size = e.end - e.start;
        const [from, to] = b.slotRange(e.offset, size);
        invariant(
          e.offset >= b.amapBase && e.offset + size <= b.amapBase + amap.length * ctx.pageSize,
          `${at} maps offsets [0x${e.offset.toString(16)}, 0x${(e.offset + size).toString(16)}) outside its amap`,
        );
        amap.forEach(from, to, (_i, a) => anonRefs.set(a, (anonRefs.get(a) ?? 0) + 1));
      }
    }
    const objectFrames = new Set<number>();
    for (const o of ctx.objects.values()) {
      o.check();
      const want = o.creatorRefs + (objRefs.get(o) ?? 0);
      invariant(o.refs === want, `object ${o.id} (${o.name}) has ${o.refs} references, ${want} exist`);
      for (const pa of o.frames()) objectFrames.add(pa);
    }
    for (const o of objRefs.keys()) invariant(ctx.objects.get(o.id) === o, `a mapping holds dead object ${o.id}`);
    for (const a of ctx.amaps) a.check();
    for (const a of ctx.amaps) invariant(a.refs === (amapRefs.get(a) ?? 0), `an amap has ${a.refs} references, ${amapRefs.get(a) ?? 0} backings hold it`);
    for (const a of amapRefs.keys()) invariant(ctx.amaps.has(a), 'a backing holds a freed amap');
    ctx.anons.check(anonRefs);
    if (ctx.reclaimer !== null) {
      ctx.reclaimer.check((a) => ctx.anons.pa(a));
      const swap = ctx.reclaimer.swap;
      if (swap !== null) {
        swap.check();
        // Every slot in use is held by exactly one anon or one anonymous object's page.
        let held = 0;
        for (const a of ctx.anons.indices()) if (ctx.anons.slot(a) >= 0) held++;
        for (const o of ctx.objects.values()) held += o.swapSlots().length;
        invariant(held === swap.used, `swap: ${swap.used} slots in use, anons and objects hold ${held}`);
      }
    }
    const anonFrames = ctx.anons.frames();
    for (const pa of anonFrames) invariant(!objectFrames.has(pa), `frame 0x${pa.toString(16)} is both an anon's and an object's`);
    if (ctx.zeroPage >= 0) {
      const z = this.alloc.get(ctx.zeroPage);
      invariant(z !== undefined && !z.free && z.owner === PageOwner.KERNEL, `the zero page 0x${ctx.zeroPage.toString(16)} is not an allocated kernel frame`);
      invariant(
        this.mem.read(ctx.zeroPage, this.arch.pageSize).every((b) => b === 0),
        `the zero page 0x${ctx.zeroPage.toString(16)} holds data`,
      );
      invariant(!anonFrames.has(ctx.zeroPage) && !objectFrames.has(ctx.zeroPage), 'the zero page is an anon\'s or an object\'s');
    }
    invariant(ctx.charged <= this.kmalloc.stats().used, `objects, amaps and anons hold ${ctx.charged} heap bytes, kmalloc has ${this.kmalloc.stats().used} in use`);
  }

  // The live process `pid`: a pid that is no pid → EINVAL, one with no process → ENOENT.
  private process(pid: unknown): Process {
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid < 0) throw new VmError('EINVAL', `pid must be a non-negative integer, got ${hex(pid)}`);
    const p = this.procs.get(pid);
    if (p === undefined) throw new VmError('ENOENT', `no process with pid ${hex(pid)}`);
    return p;
  }

  // The shared read-only object for an image segment's data, made on first use.
  private imageObject(data: Uint8Array): VmObject {
    const known = this.images.get(data);
    if (known !== undefined && known.alive) {
      known.ref();
      return known;
    }
    const o = VmObject.create(this.ctx, { kind: 'pager', size: data.length, pager: new BytesPager(data), name: '[image]', user: false });
    this.images.set(data, o);
    return o;
  }
}

function resolveBoard(arch: PmapFactory, options: VmOptions): BoardMemoryMap {
  const { board, ramSize } = options;
  if (ramSize !== undefined) {
    if (board !== undefined) throw new VmError('EINVAL', 'give board or ramSize, not both');
    if (typeof ramSize !== 'number' || !Number.isSafeInteger(ramSize) || ramSize <= 0) {
      throw new VmError('EINVAL', `ramSize must be a positive integer, got ${hex(ramSize)}`);
    }
    const def = boards.get(arch.defaultBoard);
    const ram = def.regions.filter((r) => r.kind === 'ram').sort((a, b) => a.base - b.base)[0];
    const base = ram === undefined ? 0 : ram.base;
    return boards.ram(ramSize, base);
  }
  if (board === undefined) return boards.get(arch.defaultBoard);
  if (typeof board === 'string') return boards.get(board);
  if (board instanceof BoardMemoryMap) return board;
  throw new VmError('EINVAL', `board must be a preset name or a BoardMemoryMap, got ${hex(board)}`);
}

function checkSwap(swap: unknown): number | null {
  if (swap === undefined) return null;
  const pages = (swap as { pages?: unknown } | null)?.pages;
  if (swap === null || typeof swap !== 'object' || typeof pages !== 'number' || !Number.isSafeInteger(pages) || pages < 1 || pages > 2 ** 24) {
    throw new VmError('EINVAL', `swap must be { pages } with pages an integer from 1 to 2^24, got ${hex(swap)}`);
  }
  return pages;
}

function checkReclaim(reclaim: unknown): { policy: ReclaimPolicy; limit: number | null } {
  if (reclaim === undefined) return { policy: resolvePolicy(undefined), limit: null };
  if (reclaim === null || typeof reclaim !== 'object') throw new VmError('EINVAL', `reclaim must be { policy?, limit? }, got ${hex(reclaim)}`);
  const { policy, limit } = reclaim as { policy?: string | ReclaimPolicy; limit?: unknown };
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)) {
    throw new VmError('EINVAL', `reclaim.limit must be a positive integer (resident pages), got ${hex(limit)}`);
  }
  return { policy: resolvePolicy(policy), limit: (limit as number | undefined) ?? null };
}
