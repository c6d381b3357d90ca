import type { BoardMemoryMap } from './board.js';
import type { PageAllocator } from './buddy.js';
import type { PhysicalMemory } from './physical-memory.js';

/** One node of a pmap's table tree, for reports (`Pmap.tables()`). */
export interface PmapTable {
  /** Depth in the tree: 0 is the root (Sv39's level-2 table, ia32's page directory, the MPU region table). */
  level: number;
  /** Physical address of the table (of the region, for an MPU). */
  pa: number;
  /** First virtual address the table (region) covers. */
  va: number;
  /** Valid entries in the table (bytes covered, for an MPU region). */
  entries: number;
  /**
   * Bytes one entry of this table maps: Sv39 root 1 GiB, middle 2 MiB, leaf 4 KiB; ia32 page directory 4 MiB,
   * page table 4 KiB. For an MPU region an entry is a subregion: the region size / 8 for regions of 256 B or more,
   * the region size itself for smaller ones (which have no subregions).
   */
  span: number;
}

/** Counters a pmap keeps about itself. */
export interface PmapStats {
  /** Table frames this address space holds now (kernel-half tables are counted by the kernel pmap only). */
  tableFrames: number;
  tlbHits: number;
  tlbMisses: number;
  tlbFlushes: number;
  /** Table walks done (a TLB miss, `resolve`, or a walk that found nothing). */
  walks: number;
}

/**
 * One address space in one hardware format: the original's HAL `pmap_*` interface. Table frames come from the
 * allocator with usage `PTABLE` (fault site `ptable`). Addresses are numbers (exact integers).
 *
 * Return codes, not exceptions, on the hot and probing calls: `enter`, `resolve`, `translate`.
 */
export interface Pmap {
  /**
   * Maps page `va` to frame `pa` with `PageAttr` bits, replacing any mapping there. Returns 0, or
   * `FaultCode.NO_MEMORY` with nothing changed when a table frame cannot be had. Unaligned or out-of-range
   * arguments (a kernel va outside the boot-expanded kernel range included), values that are not numbers (BigInt,
   * strings) and `attr` bits outside `PageAttr` (at or above 2^32 too) throw `VmError('EINVAL')`, nothing changed.
   */
  enter(pa: number, va: number, attr: number): number;
  /** Removes the mappings of `[vstart, vend)`; empty user tables are freed. Bad arguments → `EINVAL`, nothing changed. */
  remove(vstart: number, vend: number): void;
  /** Changes the attributes of the mappings in `[vstart, vend)`. Bad arguments → `EINVAL`, nothing changed. */
  protect(vstart: number, vend: number, attr: number): void;
  /** The physical address `va` maps to, or -1 (for junk too). Sets no accessed bit, consults no TLB. */
  resolve(va: number): number;
  /**
   * The physical address for an access (`Access` bits) at `va`, or a negative `FaultCode`. Never throws; on a TLB
   * hit allocates nothing. Sets accessed/dirty bits in the tables as hardware does. Junk — a `va` that is not an
   * integer number (NaN, a fraction, a BigInt, a string), or an `access` that is not an integer 1–15 with one of
   * READ/WRITE/EXEC — answers `FaultCode.BAD_ADDRESS`, whatever the TLB holds.
   */
  translate(va: number, access: number): number;
  /** Makes this the current address space (the `satp`/`CR3` write, or MPU enable bits). */
  activate(): void;
  /** Returns every table frame this address space owns to the allocator. The pmap is unusable afterwards. */
  destroy(): void;
  /** The table tree, root first. Empty after `destroy`. */
  tables(): PmapTable[];
  stats(): PmapStats;
  /**
   * Verifies this address space's own invariants and throws (through `invariant`, a plain `Error`) on the first
   * broken one. With an MMU: every TLB entry and walk-cache entry agrees with a fresh table walk; the tables
   * reachable from the root are `stats().tableFrames` frames, each an allocated frame of usage `PTABLE` linked
   * once; every present leaf maps RAM or a device window, and in RAM a frame that is allocated (not free) and is
   * not a page table. Without an MMU: the region table, the address space's region mask and any verdict cache
   * agree with the hardware model. After `destroy` it verifies that nothing is held. Cost is proportional to the
   * tables: tests call it after every step, production code never.
   */
  check(): void;
  /**
   * Optional capability, no-MMU pmaps only: gives this address space access to the physical range
   * `[pa, pa + len)` — the original's `pmap_addMap`: every board map holding part of the range is granted whole.
   * A range that is not entirely inside board maps, or bad arguments → `VmError('EINVAL')` with nothing granted.
   * Idempotent; a grant is never revoked through this interface. The mapper calls `pmap.grant?.(pa, len)` when it
   * places an entry; an MMU pmap leaves it undefined (its page tables already say what is reachable).
   */
  grant?(pa: number, len: number): void;
}

/** What an architecture can do; the conformance suite branches on these, never on a name. */
export interface PmapCapabilities {
  /** Translation through page tables (false: one flat address space, identity translation). */
  hasMmu: boolean;
  /** Pages can be made non-executable (ia32 without PAE cannot). */
  execProtect: boolean;
  /** Supervisor accesses may read and write user pages (Sv39 without SUM may not). */
  supervisorReadsUser: boolean;
  /** The kernel half of every address space is the same tables, set up at boot. */
  sharedKernelHalf: boolean;
}

/** An architecture: how to make the kernel address space and user ones. */
export interface PmapFactory {
  readonly name: string;
  readonly pageSize: number;
  /** User addresses `[start, end)`. */
  readonly userRange: readonly [number, number];
  /** Kernel addresses `[start, end)`. */
  readonly kernelRange: readonly [number, number];
  /** The board preset this architecture boots on by default. */
  readonly defaultBoard: string;
  readonly capabilities: Readonly<PmapCapabilities>;
  /** Boots the kernel address space: builds and pre-expands the kernel half. */
  createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): Pmap;
  /** A new user address space sharing `kernelPmap`'s kernel half. */
  createUser(kernelPmap: Pmap): Pmap;
}
