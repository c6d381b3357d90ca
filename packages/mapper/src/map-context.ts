import type { BoardMemoryMap, PageAllocator, PhysicalMemory, PmapFactory } from '@vmlayers/phys';
import type { Backing } from './backing.js';
import type { EntryPool } from './entry-pool.js';
import type { MapBase } from './map-base.js';
import type { ReverseMap } from './rmap.js';

/** Internal entry flag (above every `MapFlags` bit): kernel memory only `freePages` (or nothing) removes. */
export const WIRED = 0x8000;

/** What every map of one kernel shares. */
export interface KernelContext {
  readonly arch: PmapFactory;
  readonly mem: PhysicalMemory;
  readonly alloc: PageAllocator;
  readonly board: BoardMemoryMap;
  readonly pool: EntryPool;
  readonly pageSize: number;
  readonly hasMmu: boolean;
  /**
   * An execute-only entry stays unreadable (`capabilities.execProtect` without `execImpliesRead`); false where the
   * hardware reads every page it may execute (ia32: no NX; ARMv7-A: a fetch needs read permission).
   */
  readonly execProtect: boolean;
  /** Every live map, the kernel map included. */
  readonly maps: Set<MapBase>;
  /** Backing handles an entry holds now: a handle maps one range of one map at a time. */
  readonly held: WeakSet<Backing>;
  nextId: number;
  /** The reverse map of process pages (`KernelMapOptions.reverseMap`), or null. */
  readonly rmap: ReverseMap | null;
  /** See `KernelMapOptions.onAccessFault`. */
  readonly onAccessFault?: (owner: number, va: number, access: number, code: number) => void;
}
