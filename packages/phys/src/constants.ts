/*
 * The numeric constants every layer shares. Values are fixed by DESIGN §3 and, where the original kernel had the
 * constant, equal to the original's (`include/mman.h`, `vm/page.c`, the HAL's `PGHD_*`).
 */

/**
 * Protection of a mapping (`PROT_*`), a set of bits, `0` … {@link PROT_ALL}; the values are the original's
 * `include/mman.h`. `USER` marks user-accessible mappings; system calls (`Process.mmap`, `Process.mprotect`) always
 * add it, and a kernel map refuses it (`EINVAL`). Write implies read when an access is checked, as on every MMU here.
 */
export const Prot = {
  /** `PROT_NONE`: no access. Any access faults (`FaultCode.PROTECTION`); pages the pmap holds are not present. */
  NONE: 0,
  /** `PROT_READ`: loads are allowed. */
  READ: 1,
  /** `PROT_WRITE`: stores are allowed; a writable page is also readable (the pmap gets `PageAttr.READ` too). */
  WRITE: 2,
  /**
   * `PROT_EXEC`: instruction fetches are allowed. On an architecture without execute-protect (ia32 without PAE,
   * `PmapCapabilities.execProtect` false) an executable page is readable too and every readable page executable.
   */
  EXEC: 4,
  /**
   * `PROT_USER`: user mode may access the mapping (`Access.USER` accesses); without it the mapping is
   * supervisor-only. Never set on a kernel-map entry.
   */
  USER: 8,
} as const;

/**
 * Mapping flags (`MAP_*`), a set of bits, `0` … {@link MAP_FLAGS_ALL}; a bit outside that mask is refused with
 * `EINVAL`. The first eight are the original's `include/mman.h` values; `SHARED`/`PRIVATE` are real here (0 there,
 * so they had no effect at all), and a user mapping needs exactly one of them.
 */
export const MapFlags = {
  /** `MAP_NONE`: no flag. */
  NONE: 0,
  /**
   * `MAP_NEEDSCOPY`: the entry is copy-on-write and its backing must be copied (UVM's `amap_copy`) before the
   * entry's first fault. Set by the map itself — on fork, and when a private entry maps a backing that shares pages
   * (a program image the loader maps private) — and cleared once copied; refused from callers (`EINVAL`). Never set
   * together with `SHARED`.
   */
  NEEDSCOPY: 0x01,
  /** `MAP_UNCACHED`: the pages are mapped uncached (`PageAttr.UNCACHED`; the original's `PGHD_NOT_CACHED`). */
  UNCACHED: 0x02,
  /**
   * `MAP_DEVICE`: device (MMIO) memory, mapped `PageAttr.DEVICE | PageAttr.UNCACHED` (the original's `PGHD_DEV`)
   * and never made copy-on-write on fork. Needs a backing that serves the range (`EINVAL` without one);
   * `Process.mmap` refuses it (`EPERM`: map a device object instead).
   */
  DEVICE: 0x04,
  /** `MAP_NOINHERIT`: not copied into the child on fork (the original uses it for IPC windows). */
  NOINHERIT: 0x08,
  /**
   * `MAP_PHYSMEM`: raw physical memory (the original's `VM_OBJ_PHYSMEM` pseudo-object, the offset being the
   * physical address). Privileged: the mapper needs a backing that serves the range (`EINVAL`) and `Process.mmap`
   * refuses it (`EPERM`; use `vm.createPhysObject`).
   */
  PHYSMEM: 0x10,
  /**
   * `MAP_CONTIGUOUS`: one physically contiguous block (the original's `vm_objectContiguous`, for DMA buffers).
   * `Process.mmap` refuses it (`EINVAL`).
   */
  CONTIGUOUS: 0x20,
  /**
   * `MAP_ANONYMOUS`: zero-filled memory that belongs to no object. A mapping without an object is anonymous whether
   * or not the bit is set; with an object it is refused (`EINVAL`).
   */
  ANONYMOUS: 0x40,
  /**
   * `MAP_FIXED`: map exactly at the given address, replacing whatever is mapped there (the original unmaps the
   * range first). Needs an address (`EINVAL` without one, and without an MMU, where a mapping goes where its memory
   * is); wired kernel memory in the range → `EBUSY`.
   */
  FIXED: 0x80,
  /**
   * Shared: writes go to the backing and are seen by every mapping of it, fork included; never copy-on-write.
   * Exactly one of `SHARED` and `PRIVATE` is needed in a user map (`EINVAL` otherwise); `MAP_SHARED` was 0 in the
   * original.
   */
  SHARED: 0x100,
  /**
   * Private: copy-on-write — the first write to a page another mapping shares copies it, so changes stay in this
   * mapping. Exactly one of `SHARED` and `PRIVATE` is needed in a user map; `MAP_PRIVATE` was 0 in the original.
   */
  PRIVATE: 0x200,
  /**
   * Populate: every page of the mapping is faulted in by `mmap` itself, with the mapping's own protection (a write
   * fault when it is writable, which makes a private mapping's copies at once), so later accesses take no page
   * fault — what the original's `vm_mmap` does for every MMU mapping, for predictable access times. All or
   * nothing: when a page cannot be had, the new mapping is removed and `mmap` fails with `ENOMEM` (with `FIXED`,
   * what the range held before is gone either way, as in the original, which unmaps it first). Never kept on an
   * entry. Without an MMU a mapping's memory is placed whole at `mmap`, so the bit changes nothing there.
   */
  POPULATE: 0x400,
} as const;

/**
 * The kind of a memory access, given to `Pmap.translate` and `VmMap.fault`: one or more of `READ`, `WRITE`, `EXEC`,
 * plus `USER` for a user-mode access (clear means supervisor), so an integer 1–15 with at least one of the low three
 * bits. Same bit values as {@link Prot}, as the original's fault handlers report an access with `PROT_*` bits.
 */
export const Access = {
  /** A load. */
  READ: 1,
  /** A store. */
  WRITE: 2,
  /** An instruction fetch. */
  EXEC: 4,
  /** Made in user mode: allowed only on `Prot.USER` mappings (`PageAttr.USER` pages). */
  USER: 8,
} as const;

/**
 * Architecture-neutral page attributes given to `Pmap.enter`/`protect`, a set of bits, `0` … `0xff`. The original's
 * `PGHD_*` were each architecture's own PTE bits; here each pmap translates these into its format's bits, and an
 * architecture that has no bit for an attribute ignores it (ia32 has no execute or read bit, Sv39 no cache bits).
 */
export const PageAttr = {
  /**
   * `PGHD_PRESENT`: the translation is valid. Entered without it (a `PROT_NONE` mapping) the page is recorded but
   * every access faults and `resolve` answers -1.
   */
  PRESENT: 1,
  /** `PGHD_READ`: readable (implied by `WRITE`, and on ia32 by presence). */
  READ: 2,
  /** `PGHD_WRITE`: writable. */
  WRITE: 4,
  /** `PGHD_EXEC`: executable (ignored where `PmapCapabilities.execProtect` is false). */
  EXEC: 8,
  /** `PGHD_USER`: user mode may access the page; clear means supervisor-only. */
  USER: 16,
  /**
   * Global: the translation is the same in every address space and survives an address-space switch in the TLB
   * (the PTE's G bit). The mapper sets it on kernel mappings. No `PGHD_*` counterpart.
   */
  GLOBAL: 32,
  /** `PGHD_NOT_CACHED`: uncached memory (ia32 PCD, UC-). */
  UNCACHED: 64,
  /** `PGHD_DEV`: device memory, strongly uncached (ia32 PCD|PWT, UC); the mapper gives it together with `UNCACHED`. */
  DEVICE: 128,
} as const;

/**
 * Negative codes returned by the hot paths (`translate`, `fault`, `enter`); a value ≥ 0 is a success (a physical
 * address, or 0). Where an exception is wanted, `faultErrno` turns a code into an errno name: `PROTECTION` →
 * `EACCES`, `NO_MEMORY` → `ENOMEM`, every other code → `EFAULT`.
 */
export const FaultCode = {
  /** Nothing is mapped at the address (no entry, no valid PTE, a destroyed address space). */
  NOT_MAPPED: -1,
  /** Something is mapped but the access is not allowed (write to read-only, user access to a supervisor page, …). */
  PROTECTION: -2,
  /** An integer address the architecture cannot translate at all (Sv39: at or above 2^38, or negative). */
  NON_CANONICAL: -3,
  /** A page frame or a page-table frame could not be allocated; nothing was changed. */
  NO_MEMORY: -4,
  /**
   * Junk arguments (an address that is not an integer number, an access code outside 1–15) or an address the
   * hardware cannot reach (outside ia32's 32 bits, a table pointing outside RAM, an offset past a backing's end).
   */
  BAD_ADDRESS: -5,
} as const;

/**
 * Who owns an allocated frame (the original's `PAGE_OWNER_*`, stored in bits 1–3 of the frame flags, so the
 * original's constants are these values shifted left by 1). Shown in the page map as `B`, a kernel marker, or `A`.
 */
export const PageOwner = {
  /**
   * `PAGE_OWNER_BOOT`: taken before the VM started — the frames of the board's `reserved` regions (firmware, the
   * kernel image). Never freed.
   */
  BOOT: 0,
  /** `PAGE_OWNER_KERNEL`: allocated for the kernel; {@link PageUsage} says what for. The default owner. */
  KERNEL: 1,
  /** `PAGE_OWNER_APP`: holds a process's pages (anonymous memory, object pages). */
  APP: 2,
} as const;

/**
 * What the kernel uses a frame for (the original's `PAGE_KERNEL_*`, stored in bits 4–7 of the frame flags, so the
 * original's constants are these values shifted left by 4). Meaningful for `KERNEL`-owned frames, whose page-map
 * marker it selects (`PAGE_MARKERS.kernel`).
 */
export const PageUsage = {
  /** No particular use: a generic kernel frame (marker `K`); the default usage. */
  NONE: 0,
  /** `PAGE_KERNEL_SYSPAGE`: the boot loader's system page (marker `Y`). */
  SYSPAGE: 1,
  /** `PAGE_KERNEL_CPU`: per-CPU data (marker `C`). */
  CPU: 2,
  /**
   * `PAGE_KERNEL_PTABLE`: a page table (marker `P`). Pmaps allocate their table frames with it, and such an
   * allocation counts at the fault site `ptable` instead of `frame`.
   */
  PTABLE: 3,
  /** `PAGE_KERNEL_PMAP`: memory of the pmap layer's own structures, apart from its page tables (marker `M`). */
  PMAP: 4,
  /** `PAGE_KERNEL_STACK`: a kernel stack (marker `S`). */
  STACK: 5,
  /**
   * `PAGE_KERNEL_HEAP`: kernel heap (marker `H`). The original's `_page_sbrk` pages; here the frames behind anonymous
   * kernel-map memory, where kmalloc's zones live.
   */
  HEAP: 6,
} as const;

/** One of the {@link FaultCode} values, -5 … -1. */
export type FaultCodeValue = (typeof FaultCode)[keyof typeof FaultCode];
/** One of the {@link PageOwner} values, 0 … 2. */
export type PageOwnerValue = (typeof PageOwner)[keyof typeof PageOwner];
/** One of the {@link PageUsage} values, 0 … 6. */
export type PageUsageValue = (typeof PageUsage)[keyof typeof PageUsage];

/** Every `MapFlags` bit together; anything outside it is an unknown flag (`EINVAL`). */
export const MAP_FLAGS_ALL = 0x7ff;
/** Every `Prot` bit together. */
export const PROT_ALL = 0xf;
