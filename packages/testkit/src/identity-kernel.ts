import { PageOwner, PageUsage, VmError, checkSize, hex } from '@vmlayers/phys';
import type { PageAllocator, PhysicalMemory } from '@vmlayers/phys';

/**
 * Kernel memory without a kernel map: what kmalloc needs (`@vmlayers/kmalloc`'s `KernelMemory`, which a mapper
 * `KernelMap` also is), with pages identity-mapped (virtual address = physical address).
 */
export interface IdentityKernel {
  readonly pageSize: number;
  readonly alloc: PageAllocator;
  readonly mem: PhysicalMemory;
  /** `n` zeroed pages (kernel heap frames); bad `n` → `EINVAL`; out of frames → `VmError('ENOMEM')`, nothing allocated. */
  allocPages(n: number): number;
  /** Frees pages from `allocPages` (anything else → `EINVAL`). */
  freePages(vaddr: number): void;
  /** `va` itself: the identity kernel's virtual addresses are physical ones. */
  physical(va: number): number;
  read(va: number, len: number): Uint8Array;
  write(va: number, bytes: Uint8Array): void;
  read32(va: number): number;
  write32(va: number, value: number): void;
}

/**
 * The "identity kernel" of unit tests below the mapper: `allocPages` takes a run straight from `alloc` (owner
 * `KERNEL`, usage `HEAP`) and returns its physical address as the virtual one; bytes go straight to `mem`. So
 * kmalloc, zones and memory objects can be tested without booting a kernel map; their contract tests also run over
 * the real `KernelMap` of every architecture.
 */
export function identityKernel(alloc: PageAllocator, mem: PhysicalMemory = alloc.mem): IdentityKernel {
  const pageSize = alloc.pageSize;
  // Run length by address: freeExact needs it.
  const runs = new Map<number, number>();
  return {
    pageSize,
    alloc,
    mem,
    allocPages(n: number): number {
      checkSize('n', n);
      const pa = alloc.allocExact(n * pageSize, { owner: PageOwner.KERNEL, usage: PageUsage.HEAP });
      if (pa < 0) throw new VmError('ENOMEM', `no run of ${hex(n)} free pages`);
      runs.set(pa, n);
      return pa;
    },
    freePages(vaddr: number): void {
      const n = runs.get(vaddr);
      if (n === undefined) throw new VmError('EINVAL', `${hex(vaddr)} is not memory from allocPages`);
      alloc.freeExact(vaddr, n * pageSize);
      runs.delete(vaddr);
    },
    physical: (va) => va,
    read: (va, len) => mem.read(va, len),
    write: (va, bytes) => mem.write(va, bytes),
    read32: (va) => mem.read32(va),
    write32: (va, value) => mem.write32(va, value),
  };
}
