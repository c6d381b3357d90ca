import { VmError } from '@vmlayers/phys';
import type { BoardMemoryMap, PageAllocator, PhysicalMemory, Pmap, PmapCapabilities, PmapFactory } from '@vmlayers/phys';
import { MpuSystem } from './mpu-pmap.js';
import type { RegionPmap } from './mpu-pmap.js';
import { MpuCtrl } from './region-mpu.js';
import type { RegionMpu } from './region-mpu.js';
import type { LayoutSlot, RegionLayout } from './regions.js';
import { ADDRESS_SPACE_END } from './internal/validate.js';

/** Pages of the ARM M-profile pmaps: 512 bytes (the original's `include/arch/armv7m/page.h` and `armv8m/page.h`). */
export const MPU_PAGE_SIZE = 512;

/** Options every MPU architecture takes: which board maps an address space holds, and the background map. */
export interface MpuArchOptions {
  /**
   * Board maps a new user address space holds besides the kernel code map: `'ram'` (default: every `ram` map,
   * the shared data map of the original's spawn), `'none'`, or a list of map names.
   */
  readonly userMaps?: 'ram' | 'none' | readonly string[];
  /**
   * The map holding the kernel code, whose regions every address space holds (the original's `kernelCodeRegion`:
   * system-call and signal return paths run kernel code in thread mode). Default: the board's first `reserved`
   * map (flash on the Cortex-M presets); `null` for none.
   */
  readonly kernelCodeMap?: string | null;
  /** MPU_CTRL.PRIVDEFENA: privileged accesses that hit no region use the default memory map. Default true. */
  readonly privDefault?: boolean;
}

/**
 * What the no-MMU architectures share: one flat, identity-mapped 32-bit space of 512-byte pages, a loader that
 * cuts the board into MPU regions once, and address spaces that are masks of region slots (the original's
 * region-per-map model). A generation gives its region table ({@link MpuFactory.plan}), how the MPU is programmed
 * at boot and its address-space class.
 */
export abstract class MpuFactory<M extends RegionMpu, L extends RegionLayout<LayoutSlot>, P extends RegionPmap<M, L>>
  implements PmapFactory
{
  /** The architecture's name, as in the original's `include/arch/<name>`. */
  abstract readonly name: string;
  /** The board preset the architecture boots by default. */
  abstract readonly defaultBoard: string;
  /** Bytes per page: {@link MPU_PAGE_SIZE} (512), the granule of mappings and of the page allocator it needs. */
  readonly pageSize = MPU_PAGE_SIZE;
  /**
   * One flat 32-bit space, identity-mapped: user and kernel ranges are both `[0, 2^32)`. Placement is the
   * mapper's (va = pa); protection is the MPU's regions.
   */
  readonly userRange: readonly [number, number] = Object.freeze([0, ADDRESS_SPACE_END] as const);
  /** The same flat space as {@link MpuFactory.userRange}: the kernel has no half of its own without an MMU. */
  readonly kernelRange: readonly [number, number] = Object.freeze([0, ADDRESS_SPACE_END] as const);
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
  /** MPU regions implemented (MPU_TYPE.DREGION). */
  readonly regionCount: 8 | 16;
  private readonly archOptions: MpuArchOptions;

  /** @internal Validates the shared options; `regions` is the generation's default when left out. */
  protected constructor(options: MpuArchOptions & { readonly regions?: 8 | 16 }, defaultRegions: 8 | 16) {
    if (options === null || typeof options !== 'object') throw new VmError('EINVAL', 'options must be an object');
    const n = options.regions ?? defaultRegions;
    if (n !== 8 && n !== 16) throw new VmError('EINVAL', `regions must be 8 or 16, got ${String(n)}`);
    const u = options.userMaps ?? 'ram';
    if (u !== 'ram' && u !== 'none' && !(Array.isArray(u) && u.every((x) => typeof x === 'string'))) {
      throw new VmError('EINVAL', `userMaps must be 'ram', 'none' or a list of map names, got ${String(u)}`);
    }
    this.regionCount = n;
    this.archOptions = options;
  }

  /** The region table the loader computes for `board` (`EINVAL` when the board cannot be covered). */
  abstract plan(board: BoardMemoryMap): L;

  /**
   * Boots the MPU as the original's `_pmap_init`: MPU off, every region of the loader's table programmed
   * disabled, PRIVDEFENA, MPU on; the kernel address space holds the kernel code map's regions and is loaded.
   * A board the MPU cannot cover, a board map named in the options that does not exist, or an allocator whose
   * page size is not 512 → `EINVAL`.
   */
  createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): P {
    if (board === null || typeof board !== 'object' || !Array.isArray(board.regions)) {
      throw new VmError('EINVAL', 'board must be a BoardMemoryMap');
    }
    if (mem === null || typeof mem !== 'object') throw new VmError('EINVAL', 'mem must be a PhysicalMemory');
    if (alloc === null || typeof alloc !== 'object' || alloc.pageSize !== MPU_PAGE_SIZE) {
      throw new VmError('EINVAL', `alloc.pageSize must be ${MPU_PAGE_SIZE} for ${this.name}, got ${String(alloc?.pageSize)}`);
    }
    const layout = this.plan(board);
    const maskOf = (name: string, what: string): number => {
      const m = layout.maps.get(name);
      if (m === undefined) throw new VmError('EINVAL', `${what} ${name} is not a map of board ${board.name}`);
      return m;
    };
    const o = this.archOptions;
    const codeName = o.kernelCodeMap === undefined ? board.regions.find((r) => r.kind === 'reserved')?.name : (o.kernelCodeMap ?? undefined);
    const codeMask = codeName === undefined ? 0 : maskOf(codeName, 'kernelCodeMap');
    const u = o.userMaps ?? 'ram';
    let userMask = 0;
    if (u === 'ram') {
      for (const r of board.regions) if (r.kind === 'ram') userMask |= maskOf(r.name, 'ram map');
    } else if (u !== 'none') {
      for (const name of u) userMask |= maskOf(name, 'userMaps entry');
    }
    // As the original's _pmap_init: MPU off, the loader's regions programmed disabled, then on with PRIVDEFENA.
    const mpu = this.newMpu();
    mpu.setCtrl(0);
    this.program(mpu, layout);
    mpu.setCtrl(MpuCtrl.ENABLE | (o.privDefault === false ? 0 : MpuCtrl.PRIVDEFENA));
    const sys = new MpuSystem<M, L>(this.name, mpu, layout, board, MPU_PAGE_SIZE, codeMask, userMask);
    const kernel = new this.Space(sys, 'kernel', codeMask);
    kernel.activate();
    return kernel;
  }

  /**
   * A new address space: the kernel code map plus the `userMaps` (default every `ram` map). Not loaded until
   * `activate()`. `kernelPmap` must be a live kernel address space made by this architecture (`EINVAL` otherwise).
   */
  createUser(kernelPmap: Pmap): P {
    if (!(kernelPmap instanceof this.Space) || kernelPmap.kind !== 'kernel') {
      throw new VmError('EINVAL', `kernelPmap must be the kernel address space made by an ${this.name} createKernel`);
    }
    if (kernelPmap.isDestroyed) throw new VmError('EINVAL', 'kernelPmap was destroyed');
    const sys = kernelPmap.system;
    return new this.Space(sys, 'user', sys.codeMask | sys.userMask);
  }

  /** @internal The address-space class of this generation. */
  protected abstract readonly Space: new (sys: MpuSystem<M, L>, kind: 'kernel' | 'user', mask: number) => P;

  /** @internal A new MPU of this generation with `regionCount` regions, nothing programmed. */
  protected abstract newMpu(): M;

  /** @internal Programs the loader's table into `mpu` (the MPU off), every region disabled. */
  protected abstract program(mpu: M, layout: L): void;
}
