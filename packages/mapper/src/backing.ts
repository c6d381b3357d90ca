/**
 * What a backing hands the mapper for one page: the frame, and whether it may be mapped writable. `writable: false`
 * maps the page read-only even in a writable entry (a page shared copy-on-write); the next write faults again.
 */
export interface BackingPage {
  /** Physical address of the frame that holds the page, page-aligned (RAM, or a device range for device memory). */
  pa: number;
  /**
   * May the page be entered writable? Only matters when the entry's prot allows writes; false keeps it read-only
   * so that the next write faults again (copy-on-write, or a page cache that must see the page dirtied).
   */
  writable: boolean;
}

/**
 * What a map entry maps: the interface the mapper owns and memory objects implement (the original's
 * `vm_object_t`/amap pair seen from `vm/map.c`, revised after NetBSD UVM's `vm_aref`). Offsets are bytes in the
 * backing's own offset space; an entry maps `[start, end)` to `[offset, offset + end - start)`.
 *
 * **The entry owns the range.** A backing never has to know which part of it an entry maps: the mapper passes the
 * entry's `(offset, size)` on every call that concerns a range (`split`, `fork`, `copy`, `unmap`, `contiguous`),
 * as UVM passes `aref.ar_pageoff` and the entry's length to `amap_copy`, `amap_splitref` and `amap_unref`.
 *
 * **Needs-copy is the entry's.** The mapper keeps `MapFlags.NEEDSCOPY` on the entry (one truth, shown in
 * `entries()`): it sets it on a private entry whose backing {@link Backing.shared | shares} something — after `mmap`
 * and on both sides of a fork — calls {@link Backing.copy} with the entry's range before the first fault of a
 * needs-copy entry, and clears it then, or as soon as the backing no longer shares anything (the other side of a
 * fork exited), so that neighbours merge again.
 *
 * **Ownership.** A backing given to `mmap` belongs to the entry from then on. The mapper calls `release()` exactly
 * once per handle, when the entry holding it disappears (fully unmapped, merged into a neighbour, map destroyed),
 * after `unmap` of every page the entry still mapped — except on a merge, where the survivor has taken the range.
 *
 * **Errors.** `fault` and `contiguous` return codes. `fork` and `copy` may throw `VmError('ENOMEM')` with nothing
 * changed; the mapper turns a `VmError` into a fault code or passes it on, and lets any other exception propagate
 * unchanged. `canMerge` is a pure predicate; `split`, `merge`, `unmap` and `release` must not fail: the mapper has
 * committed to the operation when it calls them.
 */
export interface Backing {
  /**
   * The frame for the page at `offset` (page-aligned), for an access of `Access` bits; or a negative `FaultCode`
   * (`NO_MEMORY` when a frame cannot be had). The returned object may be reused by the next call.
   */
  fault(offset: number, access: number): BackingPage | number;
  /** The most an entry of this backing may allow (`Prot` bits R/W/X): `mmap`/`mprotect` beyond it → `EACCES`. */
  readonly maxProt: number;
  /**
   * The handle for the upper part `[offset, offset + size)` of an entry being cut in two (`munmap` of a middle,
   * `mprotect` of a part, a `FIXED` mapping inside an entry); this handle keeps the lower part. Share state
   * rather than allocate: it must not fail.
   */
  split(offset: number, size: number): Backing;
  /**
   * Pure predicate: may an entry of this backing be extended over the adjacent entry of `other` that starts
   * `offsetDelta` bytes after this entry's start? The mapper has checked that addresses and offsets are contiguous
   * and that prot and flags are equal. Called speculatively, before the operation's reservations are made: it
   * changes nothing. A handle and the parts split from it must answer alike.
   */
  canMerge(other: Backing, offsetDelta: number): boolean;
  /**
   * The merge that {@link canMerge} allowed commits: this handle now serves `other`'s range too. Called only after
   * every reservation of the operation succeeded; the mapper then releases `other`. Must not fail.
   */
  merge(other: Backing, offsetDelta: number): void;
  /**
   * The backing for a fork child's copy of the entry mapping `[offset, offset + size)`. Throws `VmError('ENOMEM')`
   * with nothing changed when it cannot. Afterwards the mapper asks both sides {@link shared} to set needs-copy.
   */
  fork(offset: number, size: number): Backing;
  /**
   * UVM's `amap_copy`: the entry mapping `[offset, offset + size)` is about to take its first fault since it was
   * marked needs-copy; give it private state of its own (an amap over exactly that range), so that pages created
   * from now on are this entry's alone. Throws `VmError('ENOMEM')` with nothing changed.
   */
  copy(offset: number, size: number): void;
  /**
   * True while this handle shares state a write must not change in place (an amap with a fork twin, an object's
   * pages with no private store yet). A private entry is needs-copy exactly while this is true.
   */
  shared(): boolean;
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
