import type { BoardMemoryMap } from './board.js';
import type { PageAllocator } from './buddy.js';
import type { PhysicalMemory } from './physical-memory.js';

/** One node of a pmap's table tree, for reports (`Pmap.tables()`). Addresses and sizes are in bytes. */
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

/**
 * Counters a pmap keeps about itself, each a non-negative integer counted since the address space was made (none is
 * ever reset). For an MPU the "TLB" is its cache of access verdicts.
 */
export interface PmapStats {
  /**
   * Table frames this address space holds now (kernel-half tables are counted by the kernel pmap only; always 0 for
   * an MPU).
   */
  tableFrames: number;
  /**
   * `translate` calls answered from the TLB without a table walk (hits served by a pmap package's exported inline
   * fast path are not counted).
   */
  tlbHits: number;
  /** `translate` calls the TLB could not answer, each followed by a table walk. */
  tlbMisses: number;
  /**
   * TLB invalidations: each `enter`, `remove` or `protect` that changed a valid translation counts one (the
   * `sfence.vma`/`invlpg` batch ending it; a kernel-half change counts in every user address space too, and in the
   * kernel's), and so does each `referenced(va, true)`/`dirty(va, true)` that cleared a set bit of a valid leaf,
   * and each whole flush. For an MPU: each time its verdict cache is dropped.
   */
  tlbFlushes: number;
  /** Table walks done (a TLB miss, `resolve`, `referenced`, `dirty`, or a walk that found nothing). */
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
   * Maps page `va` to frame `pa` (both page-aligned byte addresses; without an MMU `pa` must equal `va`) with
   * `PageAttr` bits, replacing any mapping there: the original's `pmap_enter`, except that missing table frames are
   * allocated here rather than passed in. Returns 0, or `FaultCode.NO_MEMORY` with nothing changed when a table
   * frame cannot be had. Unaligned or out-of-range arguments (a kernel va outside the boot-expanded kernel range
   * included), values that are not numbers (BigInt, strings) and `attr` bits outside `PageAttr` (at or above 2^32
   * too) throw `VmError('EINVAL')`, nothing changed.
   */
  enter(pa: number, va: number, attr: number): number;
  /**
   * Removes the mappings of `[vstart, vend)` (page-aligned, `vstart ≤ vend`; unmapped pages in it are skipped), the
   * original's `pmap_remove`; empty user tables are freed and the TLBs invalidated. Without an MMU it only
   * validates (the MPU regions are the loader's). Bad arguments → `VmError('EINVAL')`, nothing changed.
   */
  remove(vstart: number, vend: number): void;
  /**
   * Changes the attributes of the mappings in `[vstart, vend)` to `attr` (`PageAttr` bits, replacing the old ones);
   * pages with no mapping stay unmapped. Without an MMU it only validates. Bad arguments → `VmError('EINVAL')`,
   * nothing changed.
   */
  protect(vstart: number, vend: number, attr: number): void;
  /**
   * The physical address `va` maps to (the page's frame plus `va`'s offset in it; without an MMU `va` itself), or
   * -1 when nothing present is mapped there (without an MMU: `va` is on no board map), the pmap is destroyed, or
   * `va` is junk (not an integer address the format can translate) — the original's `pmap_resolve`, which answered
   * 0. Never throws; sets no accessed bit, consults no TLB.
   */
  resolve(va: number): number;
  /**
   * The physical address for an access (`Access` bits) at `va`, or a negative `FaultCode`. Never throws; on a TLB
   * hit allocates nothing. Sets accessed/dirty bits in the tables as hardware does. Junk — a `va` that is not an
   * integer number (NaN, a fraction, a BigInt, a string), or an `access` that is not an integer 1–15 with one of
   * READ/WRITE/EXEC — answers `FaultCode.BAD_ADDRESS`, whatever the TLB holds.
   */
  translate(va: number, access: number): number;
  /**
   * Makes this the current address space (the original's `pmap_switch`: the `satp`/`CR3` write, or MPU enable bits).
   * A destroyed pmap → `VmError('EINVAL')`.
   */
  activate(): void;
  /**
   * Returns every table frame this address space owns to the allocator (the original's `pmap_destroy`; shared
   * kernel-half tables stay with the kernel pmap). Idempotent. The pmap is unusable afterwards: `resolve` answers -1,
   * `translate` a negative `FaultCode`, and `enter`, `remove`, `protect`, `activate`, `referenced`, `dirty` throw
   * `VmError('EINVAL')` (`ENOSYS` for the last two without the `accessedDirty` capability). A
   * kernel pmap whose user address spaces are not all destroyed may refuse with `VmError('EBUSY')`, nothing freed.
   */
  destroy(): void;
  /**
   * The table tree, root first, then its subtables depth-first (an MPU: the regions this address space may use,
   * by slot, all level 0); a new array each call. Empty after `destroy`.
   */
  tables(): PmapTable[];
  /** A snapshot of this address space's counters (a new object each call). */
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
   * The accessed bit (Sv39 A, PTE bit 6; ia32 A, PTE bit 5) of the leaf PTE that maps the page of `va`: true when
   * the page was read, written or executed since the bit was last cleared (or since `enter`, which writes A = 0).
   * For a page reclaim's aging (the clock hand: clear, wait, look again). `va` need not be page-aligned; a
   * superpage leaf (written by hand) answers for every page it maps. False when nothing is entered at `va` (no
   * table, an empty PTE, a page `remove`d). An entry `enter`ed without `PageAttr.PRESENT` (PROT_NONE) keeps its bits
   * — `protect` keeps A and D — and answers them: a page that was written before it was made inaccessible is still
   * dirty.
   *
   * With `clear === true` the bit is read, then cleared in the PTE; if it was set in a valid leaf, the TLB entries of
   * the page are invalidated, as hardware requires an `sfence.vma`/`invlpg` after clearing A, so the next access
   * walks the tables again and sets A again (a TLB that hid the cleared bit would make every page look unused, or
   * always used). Walk caches hold no leaf and need nothing. Only that bit changes: the frame, the rights and the
   * other bits stay; nothing is allocated.
   *
   * Kernel addresses: as `resolve`, a user address space reads the shared kernel half (the kernel pmap's tables),
   * and the kernel pmap reads only its own tables (no user page). Clearing the bit of a kernel-half page — through
   * the kernel pmap or any user one — invalidates that page in the kernel's TLB and in every user address space's
   * (the shootdown `enter`/`remove`/`protect` on the kernel pmap do).
   *
   * `va` that is not an integer in `[0, kernelRange[1])` — the address space's whole range, the format's canonical
   * one (Sv39 `[0, 2^38)`, ia32 `[0, 2^32)`): NaN, ±Infinity, a fraction, a negative number, a BigInt, a string —
   * or `clear` neither `undefined` nor a boolean, or a destroyed pmap → `VmError('EINVAL')`, nothing changed. Without
   * the `accessedDirty` capability (no MMU: an MPU has no accessed or dirty bits) → `VmError('ENOSYS')` whatever the
   * arguments: there is nothing to reclaim by.
   */
  referenced(va: number, clear?: boolean): boolean;
  /**
   * The dirty bit (Sv39 D, PTE bit 7; ia32 D, PTE bit 6) of the leaf PTE that maps the page of `va`: true when the
   * page was written since the bit was last cleared (or since `enter`). Everything else as {@link Pmap.referenced}:
   * `clear === true` clears only D (A and the rights stay: the page stays writable) and invalidates the page's TLB
   * entries when D was set in a valid leaf, because a TLB lets a write hit only on a page whose D is set — the next
   * write must walk and set D again. Same arguments, errors, kernel-half rule and shootdown.
   */
  dirty(va: number, clear?: boolean): boolean;
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
  /**
   * The format has hardware accessed/dirty bits that `Pmap.referenced`/`Pmap.dirty` read and clear (Sv39, ia32,
   * AArch64). False without an MMU (armv7m: an MPU has no such bits): both methods throw `VmError('ENOSYS')`, and
   * the layers above refuse page reclaim the same way. False with an MMU whose tables have none (ARMv7-A short
   * descriptors): the methods throw `ENOSYS` too, and reclaim still runs, knowing no page young and none clean.
   */
  accessedDirty: boolean;
  /**
   * Optional: an executable page is readable too, whatever `PageAttr.READ` says, because the format has no
   * execute-only memory (ARMv7-A: an instruction fetch needs read permission). Implied where `execProtect` is
   * false (ia32: every present page reads and executes). Absent means false: a page entered `EXEC` alone executes
   * but does not read (Sv39, AArch64).
   */
  execImpliesRead?: boolean;
}

/** An architecture: how to make the kernel address space and user ones. */
export interface PmapFactory {
  /** The architecture's name, for reports and error messages (`sv39`, `ia32`, `armv7m`). Never branched on. */
  readonly name: string;
  /**
   * Bytes per page, a power of two: the original's `SIZE_PAGE` (4096 with an MMU, 512 on armv7m). The
   * `PageAllocator` given to {@link createKernel} must use the same.
   */
  readonly pageSize: number;
  /**
   * User addresses `[start, end)`, page-aligned. With an MMU page 0 is left out, as in the original, so a null
   * pointer faults (Sv39 `[0x1000, 0x3F_C000_0000)`, ia32 `[0x1000, 0xC000_0000)`); without one, user and kernel
   * share the one flat address space (armv7m: the whole 32-bit space).
   */
  readonly userRange: readonly [number, number];
  /** Kernel addresses `[start, end)`, page-aligned: from the original's `VADDR_KERNEL` to the top of the space. */
  readonly kernelRange: readonly [number, number];
  /** The board preset (a `boards.get` name) this architecture boots on by default. */
  readonly defaultBoard: string;
  /** What the hardware can do; upper layers and the conformance suite branch on these. */
  readonly capabilities: Readonly<PmapCapabilities>;
  /**
   * Boots the kernel address space and makes it the active one: builds and pre-expands the kernel half, as the
   * original's `_pmap_init` and `_page_init` do (table frames from `alloc`, usage `PTABLE`), or, without an MMU,
   * programs the MPU from `board`'s regions. `alloc` must hand out pages of this architecture's `pageSize` from
   * `mem`, and `board` is the map `mem` models; a bad argument, or a board the format cannot address (ia32: RAM at
   * or above 4 GiB), → `VmError('EINVAL')`. No frame for the boot tables → `VmError('ENOMEM')`, nothing held.
   */
  createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): Pmap;
  /**
   * A new user address space sharing `kernelPmap`'s kernel half (the original's `pmap_create`), not active until
   * `activate`. `kernelPmap` must be a live kernel pmap this factory made (`VmError('EINVAL')`); no frame for the
   * root table → `VmError('ENOMEM')`.
   */
  createUser(kernelPmap: Pmap): Pmap;
}
