import { FaultCode, VmError, invariant } from '@vmlayers/phys';
import type { BoardMemoryMap, MemoryRegion, Pmap, PmapStats, PmapTable } from '@vmlayers/phys';
import { coveredBytes } from './encoding.js';
import type { Mpu } from './mpu.js';
import type { RegionLayout } from './regions.js';
import { ADDRESS_SPACE_END, checkInt, hex } from './internal/validate.js';

const PAGE_ATTR_ALL = 0xff;

/**
 * What every address space of one kernel shares: the one MPU, the loader's region table, the board, and which
 * address space is loaded. Built by the factory's `createKernel`.
 */
export class MpuSystem {
  readonly mpu: Mpu;
  readonly layout: RegionLayout;
  readonly board: BoardMemoryMap;
  readonly pageSize: number;
  /** Slots every address space holds: the kernel code map's (the original's `kernelCodeRegion`). */
  readonly codeMask: number;
  /** Slots a new user address space starts with, besides {@link MpuSystem.codeMask}. */
  readonly userMask: number;
  private loaded: MpuPmap | null = null;
  // [base, end) of every board map, flattened, for the bus check after the MPU said yes.
  private readonly bounds: Float64Array;

  constructor(mpu: Mpu, layout: RegionLayout, board: BoardMemoryMap, pageSize: number, codeMask: number, userMask: number) {
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
  get active(): MpuPmap | null {
    return this.loaded;
  }

  /** Writes `pmap`'s mask to the MPU's enable bits (null: every region off). */
  load(pmap: MpuPmap | null, mask: number): void {
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
 * One address space of the no-MMU architecture: a mask of MPU region slots over the one flat, identity-mapped
 * address space (the original's `pmap_t.regions`). `enter`/`remove`/`protect` validate their arguments and
 * record nothing, as the original's stubs (the MPU regions are fixed by the loader); `activate` switches the
 * MPU's enable bits to this mask; `translate` checks an access as the MPU would with this address space loaded.
 */
export class MpuPmap implements Pmap {
  /** The MPU all address spaces of this kernel share. */
  readonly mpu: Mpu;
  /** The loader's region table. */
  readonly layout: RegionLayout;
  /** `kernel` for the one `createKernel` made, `user` otherwise. */
  readonly kind: 'kernel' | 'user';
  /** What the address spaces of this kernel share: MPU, region table, board, the loaded address space. */
  readonly system: MpuSystem;
  private mask: number;
  private destroyed = false;
  private walks = 0;

  /** @internal Made by the `armv7m` factory. */
  constructor(sys: MpuSystem, kind: 'kernel' | 'user', mask: number) {
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
    if (pa !== va) throw new VmError('EINVAL', `pa ${hex(pa)} must equal va ${hex(va)}: armv7m has no MMU`);
    checkInt('attr', attr, 0, PAGE_ATTR_ALL);
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
    checkInt('attr', attr, 0, PAGE_ATTR_ALL);
  }

  /** `va` itself when it lies in a board map, else -1 (and -1 after `destroy`). */
  resolve(va: number): number {
    if (this.destroyed || va >>> 0 !== va) return -1;
    return this.system.onBoard(va) ? va : -1;
  }

  /**
   * `va` when the access is allowed, else a negative `FaultCode`: the MPU's verdict (see `Mpu.permit`:
   * `PROTECTION` for a permission fault, `NOT_MAPPED` for a background fault), then the bus's (`BAD_ADDRESS`
   * where no board map answers). The loaded address space sees exactly the MPU's enable bits; another one is
   * checked as if `activate()` had been called on it. Never throws, allocates nothing.
   */
  translate(va: number, access: number): number {
    if (this.destroyed) return FaultCode.NOT_MAPPED;
    const sys = this.system;
    const mpu = sys.mpu;
    this.walks++;
    const r = mpu.permit(va, access, sys.active === this ? mpu.enabledMask : this.mask & mpu.programmedMask);
    if (r !== 0) return r;
    return sys.onBoard(va) ? va : FaultCode.BAD_ADDRESS;
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
  }

  /**
   * The regions this address space holds that are programmed, slot order: level 0, `pa` = `va` = region base,
   * `entries` = bytes covered by the enabled subregions.
   */
  tables(): PmapTable[] {
    const out: PmapTable[] = [];
    const mpu = this.system.mpu;
    const m = this.mask & mpu.programmedMask;
    for (let n = 0; n < mpu.regionCount; n++) {
      if (((m >>> n) & 1) === 0) continue;
      const r = mpu.region(n);
      if (r === undefined) continue;
      out.push({ level: 0, pa: r.base, va: r.base, entries: coveredBytes(r.size, r.srd) });
    }
    return out;
  }

  /** No tables and no TLB: `walks` counts MPU lookups (`translate` calls). */
  stats(): PmapStats {
    return { tableFrames: 0, tlbHits: 0, tlbMisses: 0, tlbFlushes: 0, walks: this.walks };
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
    if (this.destroyed || va >>> 0 !== va || !Number.isInteger(size) || size < 0) return false;
    const r = this.system.mapAt(va);
    if (r === undefined || va + size > r.base + r.size) return false;
    return ((this.system.layout.maps.get(r.name) ?? 0) & this.mask) !== 0;
  }

  /** Verifies the MPU and this address space's mask. Throws on a broken invariant. */
  check(): void {
    this.system.mpu.check();
    const all = 2 ** this.system.mpu.regionCount - 1;
    invariant((this.mask & ~all) === 0, `mask ${hex(this.mask)} names slots past the MPU's ${this.system.mpu.regionCount}`);
    if (!this.destroyed) invariant((this.mask & this.system.codeMask) === this.system.codeMask, 'kernel code slots missing');
    if (this.system.active === this) {
      invariant(this.system.mpu.enabledMask === (this.mask & this.system.mpu.programmedMask), 'MPU enable bits differ from the active mask');
    }
  }

  private setMask(mask: number): void {
    this.checkLive();
    this.mask = mask;
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
