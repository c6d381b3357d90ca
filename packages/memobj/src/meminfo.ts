import type { ReclaimStats } from './reclaim/reclaimer.js';
/**
 * The original's `meminfo` figures (`vm_meminfo`: `vm_pageinfo` + `vm_mapinfo`) plus the kernel heap: bytes, except
 * the map figures, which count entries of the bounded entry pool.
 */
export interface MemInfo {
  /** Physical memory, in bytes (the original's `vm_pageinfo`): `free + alloc = total`. */
  page: {
    /** RAM, reserved included. */
    total: number;
    /** Bytes of frames the page allocator can still hand out. */
    free: number;
    /** Bytes of frames in use: `boot` plus everything the kernel and processes have taken since. */
    alloc: number;
    /** Taken before the VM started (reserved board regions). */
    boot: number;
  };
  /** Map entries, counted in entries (not bytes): the pool every map of the kernel draws from, fixed at boot. */
  map: {
    /** Entries in use, in every map. */
    entries: number;
    /** Entries left in the pool. */
    free: number;
  };
  /** The kernel heap, in bytes: the structures of memory objects, amaps and anons are charged here. */
  kmalloc: {
    /** Bytes of blocks handed out. */
    used: number;
    /** Bytes of free blocks in existing zones. */
    free: number;
  };
  /** The swap device, in bytes, when `createVm({ swap })` made one. */
  swap?: {
    /** Bytes of swap slots. */
    total: number;
    /** Bytes of free slots. */
    free: number;
  };
  /** What reclaim has done, when configured (`createVm({ swap, reclaim })`). */
  reclaim?: ReclaimStats;
}

/** `vm.status(pid)`: a process's memory as `/proc/<pid>/status` reports it. */
export interface ProcessStatus {
  /** Bytes of pages the process's page tables map now (VmRSS); without an MMU, the bytes of its mappings. */
  rss: number;
  /** Bytes of its private pages in swap now (VmSwap). */
  swap: number;
  /** Faults served without reading swap (min_flt). */
  minorFaults: number;
  /** Faults that read a page back from swap (maj_flt). */
  majorFaults: number;
}

/** One page of a process's address space that maps a given frame (`Vm.mappingsOf`). */
export interface FrameMapping {
  /** The process. */
  pid: number;
  /** Virtual address of the page (page-aligned); without an MMU the frame's own address. */
  va: number;
  /** The mapping's protection now (`Prot` bits), as `maps()` shows it; the page tables may allow less (copy-on-write). */
  prot: number;
  /** The mapping's `MapFlags` bits. */
  flags: number;
  /** Name of what the mapping maps (`[anon]`, `[shared anon]`, an object's name), as `maps()` shows it. */
  object: string;
}

/** One line of `vm.maps(pid)`. `end` is exclusive; `object` is the backing's name. */
export interface MapInfo {
  /** First address of the mapping, page-aligned. */
  start: number;
  /** End of the mapping, exclusive and page-aligned: it spans `end - start` bytes. */
  end: number;
  /** The protection now, `Prot` bits (`READ`, `WRITE`, `EXEC`; `USER` on every process mapping). */
  prot: number;
  /**
   * `MapFlags` bits of the entry: `SHARED` or `PRIVATE`, plus e.g. `FIXED`, `NOINHERIT`, `DEVICE`, and `NEEDSCOPY`
   * while a private mapping still shares pages copy-on-write.
   */
  flags: number;
  /**
   * Byte offset of `start` in what is mapped: in the object for an object mapping; for anonymous memory, from the
   * start of the mapping it was made as (0 unless a `munmap`/`mprotect` cut its front off).
   */
  offset: number;
  /**
   * Name of what is mapped: the object's (`[image]`, `[flash 0x…]`, `[bytes]`, `[pager]`, `[phys 0x…]`, `[device 0x…]`), or
   * `[anon]` / `[shared anon]` for anonymous memory.
   */
  object: string;
  /** The mapped memory object's id (`VmObject.id`); 0 for anonymous memory, as Linux shows inode 0. */
  objectId: number;
  /** The `Prot` bits the mapping was made with (the original's `protOrig`): `mprotect` changes `prot`, not this. */
  protOrig: number;
  /**
   * Bytes of private memory the mapping holds now (the original's `anonsz`): with an MMU its anons (pages written
   * privately or zero-filled), without one its own block (anonymous memory or a private copy), else 0.
   */
  anonymous: number;
}
