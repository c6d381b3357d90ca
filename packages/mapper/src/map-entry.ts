import type { Backing } from './backing.js';

/** One entry of a map as callers see it: a snapshot, not a live handle. `end` is exclusive. */
export interface MapEntry {
  /** First address of the entry, page-aligned. */
  readonly start: number;
  /** End of the entry, exclusive and page-aligned: the entry spans `end - start` bytes, at least one page. */
  readonly end: number;
  /** `Prot` bits. */
  readonly prot: number;
  /**
   * The `Prot` bits the entry was mapped with (the original's `protOrig`): `mprotect` changes `prot`, never this;
   * splits and fork copy it, and only entries mapped alike merge.
   */
  readonly protOrig: number;
  /** `MapFlags` bits (`NEEDSCOPY` set by fork on private writable entries). */
  readonly flags: number;
  /** Offset in the backing of `start`, in bytes. */
  readonly offset: number;
  /**
   * What the entry maps: the handle the entry owns (given to `mmap`, or split from one). Inspect it; calling its
   * methods from outside the mapper breaks the map's bookkeeping.
   */
  readonly backing: Backing;
}

/** Arguments of `mmap`. */
export interface MmapOptions {
  /** Hint (or, with `MapFlags.FIXED`, the exact address); page-aligned. Without an MMU only a hint. */
  addr?: number;
  /** Bytes, rounded up to whole pages. */
  size: number;
  /** `Prot` bits. */
  prot: number;
  /** `MapFlags` bits. */
  flags: number;
  /** What to map; default a fresh zero-fill anonymous backing ({@link ZeroFillBacking}). */
  backing?: Backing;
  /** Offset in the backing, page-aligned; default 0. */
  offset?: number;
}

/** The bounded entry pool shared by every map of one kernel (the original's `map_common` counters). */
export interface EntryPoolInfo {
  /** Entries the pool may ever hand out (fixed at boot). */
  total: number;
  /** Entries in use by some map. */
  entries: number;
  /** Entries left. */
  free: number;
}
