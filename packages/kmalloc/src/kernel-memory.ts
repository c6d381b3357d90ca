import type { PageAllocator } from '@vmlayers/phys';

/**
 * What the zone allocator needs of the kernel map: wired pages at kernel virtual addresses, the page size, and the
 * allocator whose fault injector it reports to. `@vmlayers/mapper`'s `KernelMap` is one.
 */
export interface KernelMemory {
  /** Bytes per page of the architecture. */
  readonly pageSize: number;
  /** The page allocator behind the map (its `faults` hook is where zone and kmalloc allocations count). */
  readonly alloc: PageAllocator;
  /** Maps `n` wired, zeroed pages at a free kernel address; throws `VmError('ENOMEM')` with nothing changed. */
  allocPages(n: number): number;
  /** Unmaps and frees pages obtained from `allocPages`. */
  freePages(vaddr: number): void;
  read(va: number, len: number): Uint8Array;
  write(va: number, bytes: Uint8Array): void;
  read32(va: number): number;
  write32(va: number, value: number): void;
}
