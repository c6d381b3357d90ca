import { VmError } from '@vmlayers/phys';
import type { BoardMemoryMap, MemoryRegion, PageAllocator, PhysicalMemory, Pmap, PmapCapabilities, PmapFactory } from '@vmlayers/phys';
import { encodeRasr } from './encoding.js';
import { Mpu } from './mpu.js';
import { MpuCtrl } from './region-mpu.js';
import { MpuPmap, MpuSystem } from './mpu-pmap.js';
import { computeRegions } from './regions.js';
import type { RegionAttributes, RegionLayout } from './regions.js';
import { ADDRESS_SPACE_END } from './internal/validate.js';

/** armv7m pages are 512 bytes (the original's `include/arch/armv7m/page.h`). */
export const ARMV7M_PAGE_SIZE = 512;

/** Options of {@link createArmv7m}. */
export interface Armv7mOptions {
  /** MPU regions implemented: 8 (default) or 16. */
  readonly regions?: 8 | 16;
  /**
   * Board maps a new user address space holds besides the kernel code map: `'ram'` (default: every `ram` map,
   * the shared data map of the original's spawn), `'none'`, or a list of map names.
   */
  readonly userMaps?: 'ram' | 'none' | readonly string[];
  /**
   * The map holding the kernel code, whose regions every address space holds (the original's `kernelCodeRegion`:
   * system-call and signal return paths run kernel code in thread mode). Default: the board's first `reserved`
   * map (flash on `stm32-512k`); `null` for none.
   */
  readonly kernelCodeMap?: string | null;
  /** MPU_CTRL.PRIVDEFENA: privileged accesses that hit no region use the default memory map. Default true. */
  readonly privDefault?: boolean;
  /** Region attributes per board map (default `defaultRegionAttributes`, by kind). */
  readonly attributes?: (region: MemoryRegion) => RegionAttributes;
}

/** The no-MMU architecture: ARMv7-M with its MPU. */
export class Armv7mFactory implements PmapFactory {
  /** `'armv7m'`: the architecture's name, as in the original's `include/arch/armv7m`. */
  readonly name = 'armv7m';
  /** Bytes per page: {@link ARMV7M_PAGE_SIZE} (512), the granule of mappings and of the page allocator it needs. */
  readonly pageSize = ARMV7M_PAGE_SIZE;
  /**
   * One flat 32-bit space, identity-mapped: user and kernel ranges are both `[0, 2^32)`. Placement is the
   * mapper's (va = pa); protection is the MPU's regions.
   */
  readonly userRange: readonly [number, number] = Object.freeze([0, ADDRESS_SPACE_END] as const);
  readonly kernelRange: readonly [number, number] = Object.freeze([0, ADDRESS_SPACE_END] as const);
  readonly defaultBoard = 'stm32-512k';
  /**
   * No MMU; XN gives execute protection; privileged code may touch user memory (regions grant privileged access
   * at least as wide as unprivileged, and PRIVDEFENA covers the rest); the kernel is the same in every address
   * space (one flat space, no per-process kernel tables), so `sharedKernelHalf` holds trivially. No accessed or
   * dirty bits (`accessedDirty` false): an MPU keeps none, so `referenced`/`dirty` throw `ENOSYS` and there is no
   * page reclaim.
   */
  readonly capabilities: Readonly<PmapCapabilities> = Object.freeze({
    hasMmu: false,
    execProtect: true,
    supervisorReadsUser: true,
    sharedKernelHalf: true,
    accessedDirty: false,
  });
  /** MPU regions implemented. */
  readonly regionCount: 8 | 16;
  private readonly options: Armv7mOptions;

  constructor(options: Armv7mOptions = {}) {
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', 'options must be an object');
    const n = options.regions ?? 8;
    if (n !== 8 && n !== 16) throw new VmError('EINVAL', `regions must be 8 or 16, got ${String(n)}`);
    const u = options.userMaps ?? 'ram';
    if (u !== 'ram' && u !== 'none' && !(Array.isArray(u) && u.every((x) => typeof x === 'string'))) {
      throw new VmError('EINVAL', `userMaps must be 'ram', 'none' or a list of map names, got ${String(u)}`);
    }
    this.regionCount = n;
    this.options = options;
  }

  /** The region table the loader computes for `board` (`EINVAL` when the board cannot be covered). */
  plan(board: BoardMemoryMap): RegionLayout {
    return computeRegions(board, { regions: this.regionCount, attributes: this.options.attributes });
  }

  /**
   * Boots the MPU as the original's `_pmap_init`: MPU off, every region of the loader's table programmed
   * disabled, PRIVDEFENA, MPU on; the kernel address space holds the kernel code map's regions and is loaded.
   * A board the MPU cannot cover, a board map named in the options that does not exist, or an allocator whose
   * page size is not 512 → `EINVAL`.
   */
  createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): MpuPmap {
    if (board === null || typeof board !== 'object' || !Array.isArray(board.regions)) {
      throw new VmError('EINVAL', 'board must be a BoardMemoryMap');
    }
    if (mem === null || typeof mem !== 'object') throw new VmError('EINVAL', 'mem must be a PhysicalMemory');
    if (alloc === null || typeof alloc !== 'object' || alloc.pageSize !== ARMV7M_PAGE_SIZE) {
      throw new VmError('EINVAL', `alloc.pageSize must be ${ARMV7M_PAGE_SIZE} for armv7m, got ${String(alloc?.pageSize)}`);
    }
    const layout = this.plan(board);
    const maskOf = (name: string, what: string): number => {
      const m = layout.maps.get(name);
      if (m === undefined) throw new VmError('EINVAL', `${what} ${name} is not a map of board ${board.name}`);
      return m;
    };
    const codeName =
      this.options.kernelCodeMap === undefined
        ? board.regions.find((r) => r.kind === 'reserved')?.name
        : (this.options.kernelCodeMap ?? undefined);
    const codeMask = codeName === undefined ? 0 : maskOf(codeName, 'kernelCodeMap');
    const u = this.options.userMaps ?? 'ram';
    let userMask = 0;
    if (u === 'ram') {
      for (const r of board.regions) if (r.kind === 'ram') userMask |= maskOf(r.name, 'ram map');
    } else if (u !== 'none') {
      for (const name of u) userMask |= maskOf(name, 'userMaps entry');
    }

    const mpu = new Mpu({ regions: this.regionCount });
    mpu.setCtrl(0);
    for (const r of layout.regions) mpu.setRegion(r.slot, r.base, encodeRasr({ ...r, enable: false }));
    mpu.setCtrl(MpuCtrl.ENABLE | (this.options.privDefault === false ? 0 : MpuCtrl.PRIVDEFENA));
    const sys = new MpuSystem(mpu, layout, board, ARMV7M_PAGE_SIZE, codeMask, userMask);
    const kernel = new MpuPmap(sys, 'kernel', codeMask);
    kernel.activate();
    return kernel;
  }

  /**
   * A new address space: the kernel code map plus the `userMaps` (default every `ram` map). Not loaded until
   * `activate()`. `kernelPmap` must be a live armv7m kernel address space (`EINVAL` otherwise).
   */
  createUser(kernelPmap: Pmap): MpuPmap {
    if (!(kernelPmap instanceof MpuPmap) || kernelPmap.kind !== 'kernel') {
      throw new VmError('EINVAL', 'kernelPmap must be the kernel address space made by an armv7m createKernel');
    }
    if (kernelPmap.isDestroyed) throw new VmError('EINVAL', 'kernelPmap was destroyed');
    const sys = kernelPmap.system;
    return new MpuPmap(sys, 'user', sys.codeMask | sys.userMask);
  }
}

/** An armv7m factory with options (16 MPU regions, other user maps, no PRIVDEFENA, region attributes). */
export function createArmv7m(options: Armv7mOptions = {}): Armv7mFactory {
  return new Armv7mFactory(options);
}

/** ARMv7-M (Cortex-M3/M4/M7) with an 8-region MPU, `stm32-512k` by default. */
export const armv7m: Armv7mFactory = createArmv7m();
