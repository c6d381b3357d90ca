import type { PmapFactory } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import type { WalkCache } from '../walk-cache.js';

/**
 * What differs between two page-table formats: geometry, PTE encoding and the hardware walk. Everything else
 * (allocation of tables, range operations, the TLB, the kernel half) is shared by `MmuPmap`.
 * All PTE words are handled as unsigned 32-bit halves: `lo` is bits 0–31, `hi` bits 32–63 (0 for 4-byte PTEs).
 */
// The factory's own fields (name, ranges, board, capabilities) plus what the shared walker needs to know.
export interface PagingFormat
  extends Pick<PmapFactory, 'name' | 'userRange' | 'kernelRange' | 'defaultBoard' | 'capabilities'> {
  /** Table levels: 3 for Sv39, 2 for ia32. */
  readonly levels: number;
  /** Index bits per level (entries per table = 2^indexBits). */
  readonly indexBits: number;
  readonly pteSize: 4 | 8;
  /** First virtual address the format cannot translate. */
  readonly vaLimit: number;
  /** First physical address a leaf cannot hold. */
  readonly paLimit: number;
  /** The `FaultCode` for an integer address outside `[0, vaLimit)` (a non-integer one is always `BAD_ADDRESS`). */
  readonly badVaCode: number;
  /** Root-table indices covering the kernel half: copied into every user root. */
  readonly kernelRootFirst: number;
  readonly kernelRootEnd: number;
  /** Leaf A/D bits, kept when `protect` rewrites a PTE. */
  readonly adBits: number;
  /** The leaf's accessed bit in the PTE's low word (Sv39 A = bit 6, ia32 A = bit 5): what `referenced` reads. */
  readonly accessedBit: number;
  /** The leaf's dirty bit in the PTE's low word (Sv39 D = bit 7, ia32 D = bit 6): what `dirty` reads. */
  readonly dirtyBit: number;
  /**
   * Two translation-table base registers (ARM TTBR0/TTBR1): pages from this number on are walked from the kernel's
   * root, below it from the space's own root, and no root entry is copied (`kernelRootFirst === kernelRootEnd ===`
   * the root's entry count). `Infinity` for a format with one root whose kernel entries every user root copies.
   */
  readonly splitVpn: number;
  /**
   * With two base registers: the page number the kernel root's entry 0 maps. Default `splitVpn` (AArch64: TTBR1's
   * table indexes its own half); 0 when the kernel's table is indexed by the whole address (ARMv7-A: TTBR1's 16 KiB
   * table has an entry for every MiB, the lower half unused).
   */
  readonly kernelRootBase?: number;
  /** Usable hardware ASIDs for user address spaces (`AsidAllocator`); 0 when the format has none. */
  readonly asids: number;
  /**
   * For formats whose accessed/dirty state is not one bit each in the low word (VMSAv8-64: AF, and DBM with AP[2]):
   * how to read, clear and keep it. Without it `accessedBit`, `dirtyBit` and `adBits` say all.
   */
  readonly leafState?: LeafState;
  /**
   * Bytes of a root table when it is larger than a frame (ARMv7-A: the kernel's TTBR1 table is 16 KiB, a user's
   * TTBR0 table 8 KiB with TTBCR.N = 1): allocated as one aligned run of frames. Default: one frame.
   */
  readonly rootBytes?: { readonly kernel: number; readonly user: number };
  /**
   * Bytes of one root entry as `MmuPmap` handles it, when it is not one PTE: ARMv7-A links four 1 KiB level-2
   * tables of one frame from four consecutive level-1 descriptors, so its root entries are groups of four (16 bytes),
   * each group mapping one frame of leaf PTEs. Default: `pteSize`.
   */
  readonly rootEntryBytes?: number;
  /** Writes the root entry at `addr` pointing to the leaf-table frame `pa` (formats with `rootEntryBytes`). */
  writePointer?(mem: PhysicalMemory, addr: number, pa: number): void;
  /**
   * The bits of a leaf PTE any of which says it is valid: 1 (V / P / bit 0) unless given (ARMv7-A: bits[1:0], a
   * small page 1x, a large page 01).
   */
  readonly leafValidMask?: number;
  /**
   * The bits of an entry above the leaf level any of which says it is valid: 1 unless given (ARMv7-A level 1:
   * bits[1:0], a page-table descriptor 01, a section written by hand 1x). With `rootEntryBytes` each descriptor of
   * a root group is tested on its own.
   */
  readonly upperValidMask?: number;
  /**
   * The physical address of page `vpn` under the leaf entry `lo`/`hi` at `level` (0 = leaf table), as the walk
   * reads it, for formats whose leaf address is not `frameOf` plus the page's offset in the entry's span (ARMv7-A:
   * large pages, sections, supersections with PA[39:32]). Used for leaves written by hand, in reports and checks.
   */
  leafFrame?(lo: number, hi: number, level: number, vpn: number): number;
  /**
   * Pages the leaf entry `lo`/`hi` at `level` maps together with its replicas, for formats whose larger leaves are
   * one descriptor repeated in consecutive entries (ARMv7-A: a 64 KiB large page 16 times in a leaf table, a
   * 16 MiB supersection 16 times among level-1 descriptors). Such a leaf is only ever written by hand: `enter`
   * refuses to overwrite one, `remove` and `protect` leave it alone, as superpages written by hand.
   */
  leafPages?(lo: number, hi: number, level: number): number;
  /** Bytes of kernel virtual space whose tables are built at boot, for a board with `ramSize` bytes of RAM. */
  bootExpand(ramSize: number): number;
  /** The words of a leaf PTE mapping `pa` with `PageAttr` bits `attr` (A and D clear). */
  leafLo(pa: number, attr: number): number;
  /** The high word (8-byte PTEs): the frame's upper bits and, on Sv39, the Svpbmt memory type of `attr`. */
  leafHi(pa: number, attr: number): number;
  /** The words of a pointer to the next-level table at `pa`. */
  pointerLo(pa: number): number;
  pointerHi(pa: number): number;
  /** The frame an in-use PTE (pointer or leaf, valid or not) refers to. */
  frameOf(lo: number, hi: number): number;
  /**
   * What a leaf PTE's flag bits say, as {@link LeafBit} bits: 0 when the entry is not valid (V / P clear, which
   * includes an entry `enter` wrote without `PRESENT`). For reports (`dumpTables`), not for walks. `level` (0 = leaf
   * table, the default) for formats whose descriptors differ by level (ARMv7-A sections).
   */
  leafBits(lo: number, hi: number, level?: number): number;
  /** True when a valid entry at `level` (0 = leaf level) points to a table rather than mapping memory. */
  isPointer(lo: number, level: number): boolean;
  /**
   * The hardware walk for page `vpn` from the root table at `root`. `access` 0 means a probe (`resolve`): no
   * permission check, no A/D update. Otherwise checks `access` and sets A (and D on a write) in RAM.
   * Writes the physical address of the page to `out[0]` and, for an access, the TLB permission mask to `out[1]`.
   * Returns the level of the leaf (0 = a 4 KiB page) or a negative `FaultCode`. With a `cache`, a region whose
   * leaf table is cached starts at the leaf level, and a full walk that reaches a leaf table caches it.
   */
  walk(mem: PhysicalMemory, root: number, vpn: number, access: number, out: Float64Array, cache: WalkCache | null): number;
  /**
   * The last step of a walk whose leaf table the {@link WalkCache} holds: the leaf of page `vpn` read from the
   * table's `words` (a live view of RAM) under pointer bits `bits`, the access checked, A/D written straight into
   * the view. Same results as `walk` (0 = a 4 KiB page, or a negative `FaultCode`; `out` as `walk` fills it).
   */
  leafIn(words: Uint32Array, vpn: number, bits: number, access: number, out: Float64Array): number;
  /**
   * `leafIn` for a TLB miss: the same checks and A/D writes, then, for a frame below 2^48, the TLB slot at word `k`
   * of `tlb` filled with int32 operations only (see `Tlb`: page number and hit word below 4 GiB; page number, 0,
   * allowed codes | address bits 32–47 << 16 and address low 32 bits above), returning 1 when the frame lies below 4 GiB and 2 above. A frame at or above 2^48 (never cached)
   * goes to `out[0]` (returning 0); a negative `FaultCode` as `leafIn`.
   */
  leafFill(words: Uint32Array, vpn: number, bits: number, access: number, tlb: Int32Array, k: number, out: Float64Array): number;
  /**
   * The leaf table of page `vpn`'s region by a full walk: its address in `out[0]` and the pointer bits a
   * {@link WalkCache} keeps in `out[1]`. Returns 0, or -1 when the region has no leaf table.
   */
  leafTable(mem: PhysicalMemory, root: number, vpn: number, out: Float64Array): number;
}

/** Accessed/dirty state of a leaf in formats that need more than one bit for it (`PagingFormat.leafState`). */
export interface LeafState {
  /** The leaf's accessed state (valid, or entered without `PRESENT`). */
  accessed(lo: number, hi: number): boolean;
  /** The leaf's dirty state. */
  dirty(lo: number, hi: number): boolean;
  /** The words with the accessed state (`dirty` false) or the dirty state (`dirty` true) cleared: `out[0..1]`. */
  clear(lo: number, hi: number, dirty: boolean, out: Float64Array): void;
  /** The words `protect` writes for rights `attr` over leaf `lo`/`hi`: same frame, accessed and dirty state kept. */
  reprotect(lo: number, hi: number, attr: number, out: Float64Array): void;
}

/** The flag bits of a present leaf, independent of the format (`PagingFormat.leafBits`). */
export const LeafBit = {
  /** The entry is valid (Sv39 V, ia32 P); every reported leaf has it. */
  PRESENT: 0x01,
  /** Readable (Sv39 R; on ia32 every present page). */
  READ: 0x02,
  /** Writable (Sv39 W, ia32 R/W). */
  WRITE: 0x04,
  /** Executable (Sv39 X; on ia32 without PAE every present page, as there is no NX bit). */
  EXEC: 0x08,
  /** Reachable from user mode (Sv39 U, ia32 U/S). */
  USER: 0x10,
  /** Global: kept across address-space switches (Sv39 G, ia32 G). */
  GLOBAL: 0x20,
  /** Accessed: set by the walk on the first access (Sv39 A, ia32 A). */
  ACCESSED: 0x40,
  /** Dirty: set by the walk on the first write (Sv39 D, ia32 D). */
  DIRTY: 0x80,
} as const;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
