import { VmError, hex, isPowerOfTwo } from '@vmlayers/phys';
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
  /**
   * Maps `n` wired, zeroed, physically contiguous pages at a free kernel address (a zone's pages are one run of
   * frames, as the original's `vm_pageAlloc` block); throws `VmError('ENOMEM')` with nothing changed.
   */
  allocPages(n: number): number;
  /** Unmaps and frees pages obtained from `allocPages`. */
  freePages(vaddr: number): void;
  /** The physical address of kernel address `va` inside memory from `allocPages` (`Zone.physical` reports it). */
  physical(va: number): number;
  /**
   * A copy of the `len` bytes from kernel virtual address `va`, across page boundaries: how a caller reads a block.
   * A `KernelMap` throws `VmError` for an address not mapped (`EFAULT`) or bad arguments (`EINVAL`).
   */
  read(va: number, len: number): Uint8Array;
  /**
   * Writes `bytes` at kernel virtual address `va`, across page boundaries; kmalloc writes each zone descriptor's
   * 24 bytes through it. A `KernelMap` throws as `read` does, with no byte changed.
   */
  write(va: number, bytes: Uint8Array): void;
  /** The unsigned little-endian 32-bit word at `va` (any alignment); kmalloc's `check` reads descriptors with it. */
  read32(va: number): number;
  /** Writes the low 32 bits of `value` as a little-endian word at `va` (any alignment). */
  write32(va: number, value: number): void;
}

const METHODS = ['allocPages', 'freePages', 'physical', 'read', 'write', 'read32', 'write32'] as const;

/**
 * Throws `VmError('EINVAL')` unless `kmap` has what {@link KernelMemory} promises: a power-of-two `pageSize`, an
 * allocator with a fault injector, and the page and byte methods. Checked once at construction, so a wrong
 * argument is refused by name instead of surfacing later as a `TypeError` half-way through an allocation.
 */
export function checkKernelMemory(name: string, kmap: unknown): asserts kmap is KernelMemory {
  if (kmap === null || typeof kmap !== 'object') throw new VmError('EINVAL', `${name} must be a KernelMemory (a KernelMap), got ${hex(kmap)}`);
  const k = kmap as Record<string, unknown>;
  if (!isPowerOfTwo(k.pageSize)) throw new VmError('EINVAL', `${name}.pageSize must be a power of two, got ${hex(k.pageSize)}`);
  const faults = (k.alloc as { faults?: { hit?: unknown } } | null | undefined)?.faults;
  if (typeof faults?.hit !== 'function') throw new VmError('EINVAL', `${name}.alloc must be a PageAllocator, got ${hex(k.alloc)}`);
  for (const m of METHODS) {
    if (typeof k[m] !== 'function') throw new VmError('EINVAL', `${name}.${m} must be a function, got ${hex(k[m])}`);
  }
}
