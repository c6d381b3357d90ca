/*
 * The numeric constants every layer shares. Values are fixed by DESIGN §3 and, where the original kernel had the
 * constant, equal to the original's (`include/mman.h`, `vm/page.c`, the HAL's `PGHD_*`).
 */

/** Protection of a mapping (`PROT_*`). `USER` marks user-accessible mappings; system calls always add it. */
export const Prot = {
  NONE: 0,
  READ: 1,
  WRITE: 2,
  EXEC: 4,
  USER: 8,
} as const;

/** Mapping flags (`MAP_*`). The first eight are the original's; `SHARED`/`PRIVATE` are real here (0 there). */
export const MapFlags = {
  NONE: 0,
  /** Copy-on-write entry; set by fork and the loader only, refused from users. */
  NEEDSCOPY: 0x01,
  UNCACHED: 0x02,
  DEVICE: 0x04,
  /** Not copied into the child on fork. */
  NOINHERIT: 0x08,
  PHYSMEM: 0x10,
  CONTIGUOUS: 0x20,
  ANONYMOUS: 0x40,
  /** Replace whatever is mapped at the address. */
  FIXED: 0x80,
  SHARED: 0x100,
  PRIVATE: 0x200,
} as const;

/** The kind of a memory access. `USER` set means a user-mode access, clear means supervisor. */
export const Access = {
  READ: 1,
  WRITE: 2,
  EXEC: 4,
  USER: 8,
} as const;

/** Architecture-neutral page attributes given to `Pmap.enter`/`protect` (the original's `PGHD_*`). */
export const PageAttr = {
  PRESENT: 1,
  READ: 2,
  WRITE: 4,
  EXEC: 8,
  USER: 16,
  GLOBAL: 32,
  UNCACHED: 64,
  DEVICE: 128,
} as const;

/** Negative codes returned by the hot paths (`translate`, `fault`, `enter`); a value ≥ 0 is a success. */
export const FaultCode = {
  NOT_MAPPED: -1,
  PROTECTION: -2,
  NON_CANONICAL: -3,
  NO_MEMORY: -4,
  BAD_ADDRESS: -5,
} as const;

/** Who owns an allocated frame (the original's `PAGE_OWNER_*`, stored in bits 1–3 of the frame flags). */
export const PageOwner = {
  BOOT: 0,
  KERNEL: 1,
  APP: 2,
} as const;

/** What the kernel uses a frame for (the original's `PAGE_KERNEL_*`, stored in bits 4–7 of the frame flags). */
export const PageUsage = {
  NONE: 0,
  SYSPAGE: 1,
  CPU: 2,
  PTABLE: 3,
  PMAP: 4,
  STACK: 5,
  HEAP: 6,
} as const;

export type FaultCodeValue = (typeof FaultCode)[keyof typeof FaultCode];
export type PageOwnerValue = (typeof PageOwner)[keyof typeof PageOwner];
export type PageUsageValue = (typeof PageUsage)[keyof typeof PageUsage];

/** Every `MapFlags` bit together; anything outside it is an unknown flag (`EINVAL`). */
export const MAP_FLAGS_ALL = 0x3ff;
/** Every `Prot` bit together. */
export const PROT_ALL = 0xf;
