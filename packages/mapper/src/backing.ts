/**
 * What a backing hands the mapper for one page: the frame, and whether it may be mapped writable. `writable: false`
 * maps the page read-only even in a writable entry (a page shared copy-on-write); the next write faults again.
 */
export interface BackingPage {
  pa: number;
  writable: boolean;
}

/**
 * What a map entry maps: the interface the mapper owns and memory objects implement (the original's
 * `vm_object_t`/amap pair, seen from `vm/map.c`). Offsets are bytes in the backing's own offset space; an entry
 * maps `[start, end)` to `[offset, offset + end - start)`.
 *
 * Ownership: a backing given to `mmap` belongs to the entry from then on. The mapper calls `release()` exactly once
 * per handle, when the entry it belongs to disappears (fully unmapped, merged into a neighbour, map destroyed).
 */
export interface Backing {
  /**
   * The frame for the page at `offset` (page-aligned), for an access of `Access` bits; or a negative `FaultCode`
   * (`NO_MEMORY` when a frame cannot be had). Must not throw. The returned object may be reused by the next call.
   */
  fault(offset: number, access: number): BackingPage | number;
  /** The most an entry of this backing may allow (`Prot` bits R/W/X): `mmap`/`mprotect` beyond it → `EACCES`. */
  readonly maxProt: number;
  /**
   * A handle for the part from `offset` on, when an entry is cut in two (`munmap` of a middle, `mprotect` of a part,
   * a `FIXED` mapping inside an entry). Offsets keep their meaning: the upper entry maps `[offset, …)` through the
   * new handle, the lower one `[…, offset)` through this one. Must not fail (share state rather than allocate): the
   * mapper has already committed to the cut.
   */
  split(offset: number): Backing;
  /**
   * True when an entry of this backing may be extended over an adjacent entry of `other` that starts `offsetDelta`
   * bytes after this entry's start, in this backing's offset space (the mapper has checked that the offsets are
   * contiguous and that prot and flags are equal). After a merge the mapper releases `other`, so `true` means this
   * handle already serves what `other` served. A handle and the parts split from it must answer alike.
   */
  canMerge(other: Backing, offsetDelta: number): boolean;
  /**
   * The backing for the child's copy of an entry on fork: marks copy-on-write where needed, or copies. Throws
   * `VmError('ENOMEM')` with nothing changed when it cannot. `batch` is the same object for every entry of one
   * `copy()`, so handles sharing state in the parent can share the corresponding state in the child.
   */
  fork(batch?: object): Backing;
  /** The pages of `[offset, offset + size)` are no longer mapped by the caller's entry: release them. */
  unmap(offset: number, size: number): void;
  /** The entry holding this handle is gone: drop whatever the handle holds. */
  release(): void;
  /** Shown in the maps listing (`format()`). */
  readonly name: string;
  /**
   * No-MMU only: one physical block for the whole `[offset, offset + size)`, returned as its address (the entry is
   * placed at va = pa); or a negative `FaultCode`. Mappings of the same object get the same block: that is how
   * processes share memory without an MMU.
   */
  contiguous(offset: number, size: number): number;
}
