import { Access, FaultCode, VmError, checkBits, checkInt, checkSize, checkUint, hex, invariant } from '@vmlayers/phys';
import type { BoardMemoryMap, MemoryRegion, Pmap, PmapStats, PmapTable } from '@vmlayers/phys';
import { MIN_SUBREGION_REGION_SIZE, SUBREGIONS, coveredBytes } from './encoding.js';
import { BLOCK_SIZE } from './region-mpu.js';
import type { Mpu } from './mpu.js';
import type { RegionMpu } from './region-mpu.js';
import type { LayoutRegion, LayoutSlot, RegionLayout } from './regions.js';
import { ADDRESS_SPACE_END, isAccessCode } from './internal/validate.js';

const PAGE_ATTR_ALL = 0xff;

const BLOCK_SHIFT = 9;

/** Slots of the verdict cache (direct-mapped by 512-byte block number). */
export const VERDICT_CACHE_SLOTS = 1024;
const SLOT_INDEX = VERDICT_CACHE_SLOTS - 1;
// Allow-set bits: privileged R/W/X in 0–2 and unprivileged R/W/X in 3–5 (as the MPU's permission bits), plus one
// bit per privilege for "an access with no kind bits passes", which every access needs as well. An allow set is
// the conjunction the slow path computes, so a cached verdict answers exactly what `Mpu.permit` would.
const PRIV_ANY = 64;
const UNPRIV_ANY = 128;

/**
 * What every address space of one kernel shares: the one MPU, the loader's region table, the board, and which
 * address space is loaded. Built by the factory's `createKernel`. `M` is the MPU generation (ARMv7-M {@link Mpu}
 * by default), `L` the region table its loader computes.
 */
export class MpuSystem<M extends RegionMpu = Mpu, L extends RegionLayout<LayoutSlot> = RegionLayout> {
  /** The architecture's name (`armv7m`, `armv8m`), for messages. */
  readonly arch: string;
  /** The one MPU, shared by every address space of this kernel; {@link MpuSystem.load} switches its enable bits. */
  readonly mpu: M;
  /** The loader's region table, programmed (disabled) into the MPU at boot; slot i is MPU region i. */
  readonly layout: L;
  /**
   * The board the region table was computed from: nothing answers on the bus outside its maps
   * ({@link MpuSystem.onBoard}).
   */
  readonly board: BoardMemoryMap;
  /** Page size in bytes (512 on armv7m and armv8m): the alignment `enter`/`remove`/`protect` require. */
  readonly pageSize: number;
  /** Slots every address space holds: the kernel code map's (the original's `kernelCodeRegion`). */
  readonly codeMask: number;
  /** Slots a new user address space starts with, besides {@link MpuSystem.codeMask}. */
  readonly userMask: number;
  private loaded: RegionPmap<M, L> | null = null;
  // [base, end) of every board map, flattened, for the bus check after the MPU said yes.
  private readonly bounds: Float64Array;

  /** @internal Made by the factory's `createKernel`, after it has programmed `mpu` from `layout`. */
  constructor(arch: string, mpu: M, layout: L, board: BoardMemoryMap, pageSize: number, codeMask: number, userMask: number) {
    this.arch = arch;
    this.mpu = mpu;
    this.layout = layout;
    this.board = board;
    this.pageSize = pageSize;
    this.codeMask = codeMask;
    this.userMask = userMask;
    this.bounds = new Float64Array(board.regions.length * 2);
    board.regions.forEach((r, i) => {
      this.bounds[2 * i] = r.base;
      this.bounds[2 * i + 1] = r.base + r.size;
    });
  }

  /** The address space whose enable bits are on the MPU now, or null. */
  get active(): RegionPmap<M, L> | null {
    return this.loaded;
  }

  /** Writes `pmap`'s mask to the MPU's enable bits (null: every region off). */
  load(pmap: RegionPmap<M, L> | null, mask: number): void {
    this.mpu.setEnabledMask(mask & this.mpu.programmedMask);
    this.loaded = pmap;
  }

  /** True when `va` lies in a board map (RAM, reserved or device): something answers on the bus. */
  onBoard(va: number): boolean {
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) if (va >= b[i] && va < b[i + 1]) return true;
    return false;
  }

  /** The board map holding `va`, or undefined. */
  mapAt(va: number): MemoryRegion | undefined {
    return this.board.regionAt(va);
  }
}

/**
 * One address space of a no-MMU architecture, whatever its MPU generation: a mask of MPU region slots over the
 * one flat, identity-mapped address space (the original's `pmap_t.regions`). `enter`/`remove`/`protect` validate
 * their arguments and record nothing, as the original's stubs (the MPU regions are fixed by the loader);
 * `activate` switches the MPU's enable bits to this mask; `translate` checks an access as the MPU would with this
 * address space loaded. The generations ({@link MpuPmap} for ARMv7-M, `Armv8mPmap`) give what `tables()` lists and
 * what the loader's table looks like in the MPU.
 */
export abstract class RegionPmap<M extends RegionMpu, L extends RegionLayout<LayoutSlot>> implements Pmap {
  /** The MPU all address spaces of this kernel share. */
  readonly mpu: M;
  /** The loader's region table. */
  readonly layout: L;
  /** `kernel` for the one `createKernel` made, `user` otherwise. */
  readonly kind: 'kernel' | 'user';
  /** What the address spaces of this kernel share: MPU, region table, board, the loaded address space. */
  readonly system: MpuSystem<M, L>;
  private mask: number;
  private destroyed = false;
  // The verdict cache: per 512-byte block the allow set, valid for one (enable mask, MPU generation) pair. Hardware has no such cache; it changes no verdict, only the cost of reaching one.
  private readonly cacheTag = new Int32Array(VERDICT_CACHE_SLOTS).fill(-1);
  private readonly cacheAllow = new Uint8Array(VERDICT_CACHE_SLOTS);
  private cacheMask = -1;
  private cacheGen = -1;
  private cacheEpoch = -1;
  private hits = 0;
  private misses = 0;
  private flushes = 0;
  private walks = 0;

  /** @internal Made by the factory. */
  constructor(sys: MpuSystem<M, L>, kind: 'kernel' | 'user', mask: number) {
    this.system = sys;
    this.mpu = sys.mpu;
    this.layout = sys.layout;
    this.kind = kind;
    this.mask = mask;
  }

  /** Slots this address space may use (bit i = region i), the value `activate()` writes to the enable bits. */
  get regionMask(): number {
    return this.mask;
  }

  /** True after `destroy()`. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** True when this address space's enable bits are on the MPU. */
  get isActive(): boolean {
    return this.system.active === this;
  }

  /**
   * Identity mapping: validates and records nothing. `va` must be page-aligned and inside a board map, and `pa`
   * must equal `va` (without an MMU no other mapping can exist); `attr` takes `PageAttr` bits. Else `EINVAL`.
   */
  enter(pa: number, va: number, attr: number): number {
    this.checkLive();
    this.checkPage('va', va);
    if (pa !== va) throw new VmError('EINVAL', `pa ${hex(pa)} must equal va ${hex(va)}: ${this.system.arch} has no MMU`);
    checkBits('attr', attr, PAGE_ATTR_ALL);
    if (!this.system.onBoard(va) || !this.system.onBoard(va + this.system.pageSize - 1)) {
      throw new VmError('EINVAL', `va ${hex(va)} is not inside a board map of ${this.system.board.name}`);
    }
    return 0;
  }

  /** Validates `[vstart, vend)` (page-aligned, inside the 32-bit space); records nothing. */
  remove(vstart: number, vend: number): void {
    this.checkLive();
    this.checkRange(vstart, vend);
  }

  /** Validates `[vstart, vend)` and `attr`; records nothing (the regions are the loader's). */
  protect(vstart: number, vend: number, attr: number): void {
    this.checkLive();
    this.checkRange(vstart, vend);
    checkBits('attr', attr, PAGE_ATTR_ALL);
  }

  /** `va` itself when it lies in a board map, else -1 (and -1 after `destroy`). */
  resolve(va: number): number {
    if (this.destroyed || typeof va !== 'number' || va >>> 0 !== va) return -1;
    return this.system.onBoard(va) ? va : -1;
  }

  /**
   * `va` when the access is allowed, else a negative `FaultCode`: `BAD_ADDRESS` for junk (`va` not an integer in
   * `[0, 2^32)`, `access` not an integer of `Access` bits with at least one of READ/WRITE/EXEC), then the MPU's
   * verdict (see `Mpu.permit`: `PROTECTION` for a permission fault, `NOT_MAPPED` for a background fault), then the
   * bus's (`BAD_ADDRESS` where no board map answers). The loaded address space sees exactly the MPU's enable bits;
   * another one is checked as if `activate()` had been called on it. Never throws; allocates nothing.
   *
   * Allowed accesses are answered from a direct-mapped cache of verdicts (one typed-array tag compare and one
   * mask test); misses and faults take the region scan.
   */
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number' && this.cacheEpoch === this.mpu.epoch) {
      const tag = va >>> BLOCK_SHIFT;
      const slot = tag & SLOT_INDEX;
      const user = (access >> 3) & 1;
      const need = ((access & 7) << (user * 3)) | (PRIV_ANY << user);
      // `va >>> 9` wraps junk (fractions, negatives, 2^32 and up) onto some tag, and `access >> 3` junk access
      // codes onto a privilege: the exact checks confirm a hit.
      if (
        this.cacheTag[slot] === tag &&
        (this.cacheAllow[slot] & need) === need &&
        va >>> 0 === va &&
        access === (access & 15) &&
        (access & 7) !== 0
      ) {
        this.hits++;
        return va;
      }
    }
    return this.miss(va, access);
  }

  // Everything but a cache hit: revalidation, refill, and the faults.
  private miss(va: number, access: number): number {
    if (typeof va === 'number' && va >>> 0 === va && isAccessCode(access) && !this.destroyed) {
      if (this.cacheEpoch !== this.mpu.epoch) this.revalidate();
      const tag = va >>> BLOCK_SHIFT;
      const slot = tag & SLOT_INDEX;
      const user = (access >> 3) & 1;
      const need = ((access & 7) << (user * 3)) | (PRIV_ANY << user);
      const cached = this.cacheTag[slot] === tag;
      if (!cached) {
        this.misses++;
        this.walks++;
        this.cacheTag[slot] = tag;
        this.cacheAllow[slot] = this.allowSet(tag, this.cacheMask);
      }
      if ((this.cacheAllow[slot] & need) === need) {
        if (cached) this.hits++;
        return va;
      }
    }
    return this.fault(va, access);
  }

  // The slow path: the MPU's region scan, then the bus. Also gives every fault its code.
  private fault(va: number, access: number): number {
    if (typeof va !== 'number' || va >>> 0 !== va || !isAccessCode(access)) return FaultCode.BAD_ADDRESS;
    if (this.destroyed) return FaultCode.NOT_MAPPED;
    const sys = this.system;
    const mpu = sys.mpu;
    this.walks++;
    const r = mpu.permit(va, access, sys.active === this ? mpu.enabledMask : this.mask & mpu.programmedMask);
    if (r !== 0) return r;
    return sys.onBoard(va) ? va : FaultCode.BAD_ADDRESS;
  }

  // The allow set of 512-byte block `tag` under region mask `mask`, what a verdict-cache slot holds.
  private allowSet(tag: number, mask: number): number {
    const mpu = this.mpu;
    const va = tag * BLOCK_SIZE;
    let allow = 0;
    // Outside mixed blocks verdicts are uniform, so any address of the block stands for the whole; a mixed block
    // keeps an empty allow set and every access to it takes the scan.
    if (this.system.onBoard(va) && !mpu.isMixed(va, mask)) {
      if (mpu.permit(va, 0, mask) === 0) allow |= PRIV_ANY;
      if (mpu.permit(va, Access.USER, mask) === 0) allow |= UNPRIV_ANY;
      for (let k = 0; k < 3; k++) {
        if (mpu.permit(va, 1 << k, mask) === 0) allow |= 1 << k;
        if (mpu.permit(va, (1 << k) | Access.USER, mask) === 0) allow |= 8 << k;
      }
    }
    return allow;
  }

  // The region mask this address space is checked with now: the MPU's enable bits when it is loaded.
  private effectiveMask(): number {
    const mpu = this.mpu;
    return this.system.active === this ? mpu.enabledMask : this.mask & mpu.programmedMask;
  }

  // Something changed on the MPU (or this mask): keep the cache if the (mask, generation) it holds still stands.
  private revalidate(): void {
    const mpu = this.mpu;
    const mask = this.effectiveMask();
    if (mask !== this.cacheMask || mpu.generation !== this.cacheGen) {
      this.cacheTag.fill(-1);
      this.cacheMask = mask;
      this.cacheGen = mpu.generation;
      this.flushes++;
    }
    this.cacheEpoch = mpu.epoch;
  }

  /**
   * Not supported: the MPU has no accessed or dirty bits (`capabilities.accessedDirty` is false), so there is
   * nothing to age pages by and no page reclaim. Always throws `VmError('ENOSYS')`, whatever the arguments and even
   * after `destroy`; changes nothing.
   */
  referenced(_va: number, _clear?: boolean): boolean {
    throw new VmError('ENOSYS', `referenced: ${this.system.arch} has no MMU, and the MPU has no accessed/dirty bits`);
  }

  /** Not supported, as {@link referenced}: the MPU has no accessed/dirty bits. Always throws `VmError('ENOSYS')`. */
  dirty(_va: number, _clear?: boolean): boolean {
    throw new VmError('ENOSYS', `dirty: ${this.system.arch} has no MMU, and the MPU has no accessed/dirty bits`);
  }

  /**
   * Loads this address space: sets RASR.ENABLE of every programmed region from the mask, clears the rest. The
   * region addresses are never rewritten, as in the original's `pmap_switch`.
   */
  activate(): void {
    this.checkLive();
    this.system.load(this, this.mask);
  }

  /** Nothing to return: no table frames were taken. The address space is unusable afterwards (idempotent). */
  destroy(): void {
    if (this.destroyed) return;
    if (this.system.active === this) {
      this.system.load(null, 0);
    }
    this.destroyed = true;
    this.mask = 0;
    this.cacheTag.fill(-1);
  }

  /**
   * The regions this address space holds that are programmed, slot order, each a level-0 table at its base (see
   * the generation's `tableOf` for `entries` and `span`).
   */
  tables(): PmapTable[] {
    const out: PmapTable[] = [];
    const mpu = this.system.mpu;
    const m = this.mask & mpu.programmedMask;
    for (let n = 0; n < mpu.regionCount; n++) {
      if (((m >>> n) & 1) === 0) continue;
      const t = this.tableOf(n);
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  /**
   * No tables (`tableFrames` 0). The `tlb*` counters are the verdict cache's; `walks` counts region scans
   * (cache refills and faults).
   */
  stats(): PmapStats {
    return { tableFrames: 0, tlbHits: this.hits, tlbMisses: this.misses, tlbFlushes: this.flushes, walks: this.walks };
  }

  /**
   * Grants the regions of a board map (by name, or the `MemoryRegion` itself), the original's `pmap_addMap`.
   * Returns the mask of slots added. Unknown map → `ENOENT`. Applies at once when this address space is loaded.
   */
  addMap(map: string | MemoryRegion): number {
    const slots = this.slotsOf(map);
    const added = slots & ~this.mask;
    this.setMask(this.mask | slots);
    return added;
  }

  /** Revokes the regions of a board map. The kernel code map cannot be revoked (`EPERM`). Returns the slots removed. */
  removeMap(map: string | MemoryRegion): number {
    const slots = this.slotsOf(map);
    if ((slots & this.system.codeMask) !== 0) {
      throw new VmError('EPERM', `map ${typeof map === 'string' ? map : map.name} holds the kernel code: every address space keeps it`);
    }
    const removed = slots & this.mask;
    this.setMask(this.mask & ~slots);
    return removed;
  }

  /**
   * Grants one MPU slot, e.g. a region programmed at run time with `mpu.program(n, …)` in a slot the loader left
   * free. Slot outside the MPU → `EINVAL`.
   */
  addRegion(slot: number): void {
    checkInt('slot', slot, 0, this.system.mpu.regionCount - 1);
    this.setMask(this.mask | (1 << slot));
  }

  /** Revokes one MPU slot (a kernel code slot → `EPERM`). */
  removeRegion(slot: number): void {
    checkInt('slot', slot, 0, this.system.mpu.regionCount - 1);
    if (((this.system.codeMask >>> slot) & 1) !== 0) {
      throw new VmError('EPERM', `slot ${slot} covers the kernel code: every address space keeps it`);
    }
    this.setMask(this.mask & ~(1 << slot));
  }

  /**
   * The original's `pmap_isAllowed` (with armv8m's end check): true when `[va, va+size)` lies inside one board
   * map and this address space holds a region of that map. For deciding whether IPC can pass a buffer in place.
   */
  isAllowed(va: number, size: number): boolean {
    if (this.destroyed || typeof va !== 'number' || va >>> 0 !== va || !Number.isInteger(size) || size < 0) return false;
    const r = this.system.mapAt(va);
    if (r === undefined || va + size > r.base + r.size) return false;
    return ((this.system.layout.maps.get(r.name) ?? 0) & this.mask) !== 0;
  }

  /**
   * The `Pmap.grant` capability, the original's `pmap_addMap` by address: grants every board map holding part of
   * `[pa, pa + len)` (each whole, through {@link addMap}); a range already allowed ({@link isAllowed}) changes
   * nothing. Bad arguments, a range reaching past 4 GiB or into no board map → `EINVAL` with nothing granted; a
   * destroyed address space → `EINVAL`. Grants are never revoked here ({@link removeMap} does that explicitly).
   */
  grant(pa: number, len: number): void {
    this.checkLive();
    checkUint('pa', pa);
    checkSize('len', len);
    if (pa + len > ADDRESS_SPACE_END) {
      throw new VmError('EINVAL', `range [${hex(pa)}, ${hex(pa + len)}) reaches past the 32-bit address space`);
    }
    if (this.isAllowed(pa, len)) return;
    const names: string[] = [];
    for (let a = pa; a < pa + len; ) {
      const r = this.system.mapAt(a);
      if (r === undefined) {
        throw new VmError('EINVAL', `range [${hex(pa)}, ${hex(pa + len)}) is not inside board maps of ${this.system.board.name}: nothing at ${hex(a)}`);
      }
      names.push(r.name);
      a = r.base + r.size;
    }
    for (const name of names) this.addMap(name);
  }

  /**
   * Verifies the invariants (see `Pmap.check`): the MPU's own (`Mpu.check`); the loader's region table still
   * programmed in its slots (RBAR and RASR as the layout says, ENABLE aside); this address space's mask within the
   * MPU's slots and holding the kernel code slots; and every verdict-cache slot that would be used without a
   * flush holding the allow set a fresh region scan computes. A destroyed space holds no slots, caches nothing and
   * is not loaded. Throws on the first broken one.
   */
  check(): void {
    const sys = this.system;
    const mpu = sys.mpu;
    mpu.check();
    for (const r of this.layout.regions) {
      invariant(this.holdsLoaderRegion(r as L['regions'][number]), `MPU slot ${r.slot} no longer holds the region of map ${r.map} the loader put there`);
    }
    const all = 2 ** mpu.regionCount - 1;
    invariant((this.mask & ~all) === 0, `mask ${hex(this.mask)} names slots past the MPU's ${mpu.regionCount}`);
    if (this.destroyed) {
      invariant(this.mask === 0, `a destroyed address space holds slots ${hex(this.mask)}`);
      invariant(sys.active !== this, 'a destroyed address space is loaded');
      invariant(this.cacheTag.every((t) => t === -1), 'a destroyed address space caches verdicts');
      return;
    }
    invariant((this.mask & sys.codeMask) === sys.codeMask, 'kernel code slots missing');
    // The loaded address space's enable bits may differ from its mask: a direct `mpu.setEnabled` or an enabled
    // `mpu.program` is what the hardware sees until the next activate(), and translate sees the same.
    // The cache is used as it is once revalidate() keeps it: when its (mask, generation) still stand.
    if (this.cacheMask !== this.effectiveMask() || this.cacheGen !== mpu.generation) return;
    for (let slot = 0; slot < VERDICT_CACHE_SLOTS; slot++) {
      const tag = this.cacheTag[slot];
      if (tag === -1) continue;
      invariant((tag & SLOT_INDEX) === slot, `verdict cache slot ${slot} holds block ${hex(tag * BLOCK_SIZE)} of another slot`);
      const want = this.allowSet(tag, this.cacheMask);
      invariant(
        this.cacheAllow[slot] === want,
        `verdict cache slot ${slot} allows ${hex(this.cacheAllow[slot])} at ${hex(tag * BLOCK_SIZE)}, the MPU ${hex(want)}`,
      );
    }
  }

  /** @internal Programmed slot `n` as a `tables()` row. */
  protected abstract tableOf(n: number): PmapTable | undefined;

  /**
   * @internal True when the MPU's slot `r.slot` still holds the loader's region `r` (every field but the enable
   * bit): a run-time `program` over a loader slot breaks the map names every mask is built from.
   */
  protected abstract holdsLoaderRegion(r: L['regions'][number]): boolean;

  private setMask(mask: number): void {
    this.checkLive();
    this.mask = mask;
    this.cacheEpoch = -1;
    if (this.system.active === this) this.activate();
  }

  private slotsOf(map: string | MemoryRegion): number {
    const name = typeof map === 'string' ? map : map !== null && typeof map === 'object' ? map.name : undefined;
    const slots = name === undefined ? undefined : this.system.layout.maps.get(name);
    if (slots === undefined) {
      throw new VmError('ENOENT', `map ${String(name)} is not a map of board ${this.system.board.name}`);
    }
    return slots;
  }

  private checkLive(): void {
    if (this.destroyed) throw new VmError('EINVAL', `pmap ${this.kind} was destroyed`);
  }

  private checkPage(name: string, v: number): void {
    checkInt(name, v, 0, ADDRESS_SPACE_END - 1);
    if (v % this.system.pageSize !== 0) {
      throw new VmError('EINVAL', `${name} ${hex(v)} must be aligned to the ${this.system.pageSize}-byte page`);
    }
  }

  private checkRange(vstart: number, vend: number): void {
    checkInt('vstart', vstart, 0, ADDRESS_SPACE_END);
    checkInt('vend', vend, vstart, ADDRESS_SPACE_END);
    const ps = this.system.pageSize;
    if (vstart % ps !== 0 || vend % ps !== 0) {
      throw new VmError('EINVAL', `range [${hex(vstart)}, ${hex(vend)}) must be aligned to the ${ps}-byte page`);
    }
  }
}

/**
 * An address space of `armv7m`: a {@link RegionPmap} over the ARMv7-M {@link Mpu}, whose `tables()` rows are
 * regions of subregions.
 */
export class MpuPmap extends RegionPmap<Mpu, RegionLayout> {
  /**
   * @internal Slot `n` as `{ level: 0, pa: base, va: base, entries, span }`: `entries` = bytes covered by the
   * enabled subregions, `span` = bytes of one subregion (region size / 8) for a region of 256 B or more, the region
   * size for a smaller one (it has no subregions).
   */
  protected tableOf(n: number): PmapTable | undefined {
    const r = this.mpu.region(n);
    if (r === undefined) return undefined;
    return {
      level: 0,
      pa: r.base,
      va: r.base,
      entries: coveredBytes(r.size, r.srd),
      span: r.size >= MIN_SUBREGION_REGION_SIZE ? r.size / SUBREGIONS : r.size,
    };
  }

  /** @internal RBAR and RASR fields as the loader programmed them, ENABLE aside. */
  protected holdsLoaderRegion(r: LayoutRegion): boolean {
    const now = this.mpu.region(r.slot);
    return (
      now !== undefined &&
      now.base === r.base &&
      now.size === r.size &&
      now.srd === r.srd &&
      now.ap === r.ap &&
      now.xn === r.xn &&
      now.tex === r.tex &&
      now.s === r.s &&
      now.c === r.c &&
      now.b === r.b
    );
  }
}
