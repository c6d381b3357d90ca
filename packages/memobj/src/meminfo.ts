/**
 * The original's `meminfo` figures (`vm_meminfo`: `vm_pageinfo` + `vm_mapinfo`) plus the kernel heap: bytes, except
 * the map figures, which count entries of the bounded entry pool.
 */
export interface MemInfo {
  page: {
    /** RAM, reserved included. */
    total: number;
    free: number;
    alloc: number;
    /** Taken before the VM started (reserved board regions). */
    boot: number;
  };
  map: {
    /** Entries in use, in every map. */
    entries: number;
    /** Entries left in the pool. */
    free: number;
  };
  kmalloc: {
    /** Bytes of blocks handed out. */
    used: number;
    /** Bytes of free blocks in existing zones. */
    free: number;
  };
}

/** One line of `vm.maps(pid)`. `end` is exclusive; `object` is the backing's name. */
export interface MapInfo {
  start: number;
  end: number;
  prot: number;
  flags: number;
  offset: number;
  object: string;
  /** The mapped memory object's id (`VmObject.id`); 0 for anonymous memory, as Linux shows inode 0. */
  objectId: number;
}
