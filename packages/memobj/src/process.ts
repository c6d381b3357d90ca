import { MAP_FLAGS_ALL, MapFlags, Prot, VmError, hasOnlyBits, hex, isUint } from '@vmlayers/phys';
import type { VmMap } from '@vmlayers/mapper';
import type { MemContext } from './internal/context.js';
import { AmapBacking } from './amap-backing.js';
import { BlockBacking } from './block-backing.js';
import { ObjectMapping } from './object-mapping.js';
import { VmObject } from './vm-object.js';

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/** Arguments of `Process.mmap`. */
export interface ProcessMmapOptions {
  /** Page-aligned hint, or with `MapFlags.FIXED` the exact address. Without an MMU only a hint. */
  addr?: number;
  /** Bytes, rounded up to pages. */
  size: number;
  /** `Prot` bits R/W/X; `Prot.USER` is added, as the system call does. */
  prot: number;
  /** `MapFlags`: exactly one of `SHARED`/`PRIVATE`, optionally `FIXED`, `NOINHERIT`, `UNCACHED`, `ANONYMOUS`. */
  flags: number;
  /** What to map; anonymous memory (zero-filled) without one. */
  object?: VmObject;
  /** Page-aligned offset in the object; default 0. */
  offset?: number;
}

/** What a process needs from the `Vm` that made it (the `Vm` is the only implementation). */
export interface ProcessHost {
  readonly ctx: MemContext;
  /** Registers a process made by fork. */
  adopt(child: Process): void;
  /** Forgets an exited process. */
  forget(pid: number): void;
  /** A pid for a new process (not yet taken). */
  peekPid(): number;
  takePid(): number;
}

/**
 * A process: an address space (a mapper `VmMap`) and the system calls that change it. Every access is a user-mode
 * access: kernel addresses, unmapped pages and pages the mapping forbids fail (`EFAULT`/`EACCES`) and change
 * nothing. Using a process after `exit()` → `EINVAL`.
 */
export class Process {
  /**
   * The process id: a positive integer, given in creation order by the `Vm` (the first process is 1) and never
   * reused by it, not even after `exit()`. What `vm.maps(pid)` takes and {@link VmEvent}s carry.
   */
  readonly pid: number;
  private readonly host: ProcessHost;
  private vmmap: VmMap | null;

  /** @internal Processes are made by `vm.spawn()` and `process.fork()`, never by the caller. */
  constructor(host: ProcessHost, pid: number, map: VmMap) {
    this.host = host;
    this.pid = pid;
    this.vmmap = map;
  }

  /** True after `exit()`. */
  get exited(): boolean {
    return this.vmmap === null;
  }

  /** @internal The process's map (throws `EINVAL` after exit). */
  get map(): VmMap {
    if (this.vmmap === null) throw new VmError('EINVAL', `process ${this.pid} has exited`);
    return this.vmmap;
  }

  /**
   * Maps memory and returns its address: anonymous memory, or `object` from `offset`. `PRIVATE` mappings get a
   * private copy of a page on its first write; `SHARED` ones write the object's pages (and anonymous `SHARED`
   * memory is shared with children after fork).
   *
   * `CONTIGUOUS` (with `SHARED`, without an object) maps a new contiguous object of its own: one buddy block, for
   * DMA, never copied on fork (its address: the object's `pa`, found through `vm.maps(pid)`'s `objectId`).
   *
   * Errors (nothing changed): bad size/addr/offset/prot/flags, unknown flags, `NEEDSCOPY`, `CONTIGUOUS` private or with an object, not
   * exactly one of `SHARED`/`PRIVATE`, an object of another vm, released, or shorter than the mapping → `EINVAL`;
   * `PHYSMEM`/`DEVICE` → `EPERM` (physical memory is mapped through `vm.createPhysObject`); a device object mapped
   * `PRIVATE` → `EINVAL`; prot beyond what the mapping allows → `EACCES`; no address range, map entry, kernel
   * heap or memory → `ENOMEM`.
   */
  mmap(options: ProcessMmapOptions): number {
    const map = this.map;
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', `options must be an object, got ${hex(options)}`);
    const { flags, prot, object } = options;
    const ctx = this.host.ctx;
    const ps = ctx.pageSize;
    if (!hasOnlyBits(flags, MAP_FLAGS_ALL)) throw new VmError('EINVAL', `flags must be MapFlags bits (${hex(MAP_FLAGS_ALL)}), got ${hex(flags)}`);
    if (flags & (MapFlags.PHYSMEM | MapFlags.DEVICE)) {
      throw new VmError('EPERM', `flags ${hex(flags)}: PHYSMEM and DEVICE are privileged (use vm.createPhysObject)`);
    }
    if (flags & MapFlags.NEEDSCOPY) throw new VmError('EINVAL', `flags ${hex(flags)}: NEEDSCOPY is set by fork, never by mmap`);
    const sharing = flags & (MapFlags.SHARED | MapFlags.PRIVATE);
    if (sharing !== MapFlags.SHARED && sharing !== MapFlags.PRIVATE) {
      throw new VmError('EINVAL', `flags ${hex(flags)}: exactly one of MapFlags.SHARED and MapFlags.PRIVATE is needed`);
    }
    const shared = sharing === MapFlags.SHARED;
    const contiguous = (flags & MapFlags.CONTIGUOUS) !== 0;
    if (contiguous && (!shared || object !== undefined)) {
      throw new VmError('EINVAL', `flags ${hex(flags)}: CONTIGUOUS makes its own block, mapped SHARED (it is never copied), without an object`);
    }
    if (!hasOnlyBits(prot, 0xf)) throw new VmError('EINVAL', `prot must be Prot bits (0..0xf), got ${hex(prot)}`);
    const size = options.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || !Number.isSafeInteger(Math.ceil(size / ps) * ps)) {
      throw new VmError('EINVAL', `size must be a positive integer below 2^53, got ${hex(size)}`);
    }
    const len = Math.ceil(size / ps) * ps;
    const offset = options.offset === undefined ? 0 : options.offset;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset % ps !== 0) {
      throw new VmError('EINVAL', `offset must be a ${ps}-byte-aligned non-negative integer, got ${hex(offset)}`);
    }
    // Placement is checked before anything is made for the mapping (a shared anonymous object takes kernel heap):
    // a bad address is EINVAL whatever memory is left.
    const addr = options.addr;
    const fixed = (flags & MapFlags.FIXED) !== 0;
    if (addr !== undefined) {
      if (!isUint(addr) || addr % ps !== 0) throw new VmError('EINVAL', `addr must be a ${ps}-byte-aligned address, got ${hex(addr)}`);
      if (addr < map.start || addr + (fixed ? len : ps) > map.end) {
        throw new VmError('EINVAL', `addr ${hex(addr)} (+${hex(fixed ? len : ps)}) is outside the user range [${hex(map.start)}, ${hex(map.end)})`);
      }
    }
    if (fixed && (addr === undefined || !ctx.hasMmu)) {
      throw new VmError('EINVAL', ctx.hasMmu ? 'MapFlags.FIXED needs addr' : 'MapFlags.FIXED: without an MMU a mapping goes where its memory is');
    }
    let mapFlags = flags;
    if (object !== undefined) {
      if (flags & MapFlags.ANONYMOUS) throw new VmError('EINVAL', `flags ${hex(flags)}: ANONYMOUS with an object`);
      if (!(object instanceof VmObject) || !ctx.objects.has(object.id) || ctx.objects.get(object.id) !== object) {
        throw new VmError('EINVAL', `object must be a live VmObject of this vm, got ${hex(object)}`);
      }
      if (!object.held) throw new VmError('EINVAL', `object ${object.id} (${object.name}) was released by its creator`);
      if (offset + len > object.pageCount * ps) {
        throw new VmError('EINVAL', `offset ${hex(offset)} + size ${hex(len)} passes the end of object ${object.id} (${object.pageCount * ps} bytes)`);
      }
      if (object.kind === 'device') {
        if (!shared) throw new VmError('EINVAL', `device object ${object.id} can only be mapped SHARED`);
        mapFlags |= MapFlags.DEVICE;
      }
      if (object.kind === 'contiguous') {
        if (!shared) throw new VmError('EINVAL', `contiguous object ${object.id} can only be mapped SHARED: its block is never copied`);
        mapFlags |= MapFlags.CONTIGUOUS;
      }
    } else if (options.offset !== undefined && offset !== 0) {
      throw new VmError('EINVAL', `offset ${hex(offset)} without an object`);
    }
    return ctx.run(() => {
      // MAP_CONTIGUOUS: a contiguous object of its own, whose only reference is the mapping's.
      const own = contiguous ? VmObject.create(ctx, { kind: 'contiguous', size: len, name: '[contiguous]', user: false }) : null;
      try {
        return mapInto(ctx, map, this.pid, {
          addr: options.addr,
          size: len,
          prot: prot | Prot.USER,
          flags: mapFlags,
          object: own ?? object ?? null,
          offset: object === undefined ? 0 : offset,
          shared,
        });
      } finally {
        own?.put();
      }
    });
  }

  /**
   * Reserves `size` bytes of address space (rounded up to pages) at the lowest free range at or above `addr` (a
   * hint) and returns its address: a `[reserved]` mapping with no access that no page comes from, which other
   * `mmap`s avoid until `MapFlags.FIXED` mappings fill it or `munmap` frees it — the original's `vm_mapFind`, used
   * for IPC windows. Fork gives the child the same reservation. Bad arguments → `EINVAL`; no range or map entry →
   * `ENOMEM`; without an MMU → `ENOSYS`.
   */
  reserve(size: number, addr?: number): number {
    const map = this.map;
    return this.host.ctx.run(() => map.reserve(size, addr));
  }

  /** Unmaps `[vaddr, vaddr + size)`; unmapping nothing is not an error. Bad arguments → `EINVAL`. */
  munmap(vaddr: number, size: number): void {
    const map = this.map;
    this.host.ctx.run(() => map.munmap(vaddr, size));
  }

  /**
   * Changes the protection of `[vaddr, vaddr + size)` (`Prot.USER` is added). A hole → `ENOMEM`; more than the
   * mapping allows → `EACCES`; bad arguments → `EINVAL`.
   */
  mprotect(vaddr: number, size: number, prot: number): void {
    const map = this.map;
    if (!hasOnlyBits(prot, 0xf)) throw new VmError('EINVAL', `prot must be Prot bits (0..0xf), got ${hex(prot)}`);
    this.host.ctx.run(() => map.mprotect(vaddr, size, prot | Prot.USER));
  }

  /** `length` bytes at `vaddr`, as the process reads them. */
  read(vaddr: number, length: number): Uint8Array {
    const map = this.map;
    return this.host.ctx.run(() => map.read(vaddr, length));
  }

  /** Writes `bytes` at `vaddr` as the process would; a failure on any page writes nothing. */
  write(vaddr: number, bytes: Uint8Array): void {
    const map = this.map;
    this.host.ctx.run(() => map.write(vaddr, bytes));
  }

  /**
   * A child with a copy-on-write copy of this address space: shared mappings are shared, private ones copied a
   * page at a time on the first write of either side; nothing is copied now. No MMU → `ENOSYS`; no memory for
   * the child's map → `ENOMEM` (this process unchanged).
   */
  fork(): Process {
    const map = this.map;
    const ctx = this.host.ctx;
    if (!ctx.hasMmu) throw new VmError('ENOSYS', `fork of process ${this.pid}: no MMU`);
    return ctx.run(() => {
      const pid = this.host.peekPid();
      const childMap = map.copy(pid);
      this.host.takePid();
      for (const e of childMap.entries()) if (e.backing instanceof ObjectMapping) e.backing.pid = pid;
      const child = new Process(this.host, pid, childMap);
      this.host.adopt(child);
      ctx.emit({ type: 'fork', pid, parent: this.pid });
      return child;
    });
  }

  /** Ends the process: its map is destroyed, every frame and object reference it held is given back. */
  exit(): void {
    const map = this.map;
    const ctx = this.host.ctx;
    ctx.run(() => {
      map.destroy();
      this.vmmap = null;
      this.host.forget(this.pid);
      ctx.emit({ type: 'exit', pid: this.pid });
    });
  }
}

/** @internal What {@link mapInto} maps. */
export interface MapRequest {
  addr?: number;
  size: number;
  prot: number;
  flags: number;
  object: VmObject | null;
  offset: number;
  shared: boolean;
}

/**
 * @internal Maps a validated request into `map` with a new backing (and, for anonymous shared memory, a new
 * anonymous object). On any error everything made for it is released.
 */
export function mapInto(ctx: MemContext, map: VmMap, pid: number, req: MapRequest): number {
  let object = req.object;
  let made: VmObject | null = null;
  if (object === null && req.shared) {
    made = VmObject.create(ctx, { kind: 'anonymous', size: req.size, name: '[shared anon]', user: false });
    object = made;
  }
  const spec = { object, shared: req.shared, maxProt: RWX, pid };
  let b: AmapBacking | BlockBacking;
  if (ctx.hasMmu) b = new AmapBacking(ctx, spec);
  else {
    // Without an MMU nothing can be copied later: a private writable mapping (or one longer than its object) gets
    // its own copy now, and a private read-only one shares the object's block and may never become writable.
    const writable = (req.prot & Prot.WRITE) !== 0;
    const copyOnMap = !req.shared && (writable || (object !== null && req.offset + req.size > object.pageCount * ctx.pageSize));
    const sharesBlock = !req.shared && !copyOnMap && object !== null;
    b = new BlockBacking(ctx, { ...spec, maxProt: sharesBlock ? RWX & ~Prot.WRITE : RWX, copyOnMap });
  }
  made?.put();
  let va: number;
  try {
    va = map.mmap({ addr: req.addr, size: req.size, prot: req.prot, flags: req.flags & ~MapFlags.POPULATE, backing: b, offset: req.offset });
  } catch (e) {
    b.release();
    throw e;
  }
  if (b instanceof AmapBacking) b.vaBias = va - req.offset;
  // Populated here rather than by the map's mmap, once the backing knows its addresses (for the fault events); all
  // or nothing, as MapFlags.POPULATE at the map: a page that cannot be had takes the whole new mapping away.
  if (req.flags & MapFlags.POPULATE || ctx.populate) {
    try {
      map.populate(va, req.size);
    } catch (e) {
      map.munmap(va, req.size);
      throw e;
    }
  }
  return va;
}
