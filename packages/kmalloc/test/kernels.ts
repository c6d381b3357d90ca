import { createKernelMap } from '@vmlayers/mapper';
import type { KernelMap } from '@vmlayers/mapper';
import { PageAllocator, PageOwner, PageUsage, PhysicalMemory, VmError, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m } from '@vmlayers/pmap-nommu';
import type { KernelMemory } from '../src/index.js';

/**
 * A kernel memory for unit tests: pages identity-mapped (va = pa) straight from a PageAllocator. The layer's
 * contract tests also run over mapper's real KernelMap on every architecture.
 */
export class IdentityKernel implements KernelMemory {
  readonly pageSize: number;
  readonly alloc: PageAllocator;
  readonly mem: PhysicalMemory;

  constructor(ram = 8 << 20, pageSize = 4096) {
    this.mem = new PhysicalMemory(boards.ram(ram, 0x1000_0000));
    this.alloc = new PageAllocator(this.mem, { pageSize });
    this.pageSize = pageSize;
  }

  allocPages(n: number): number {
    const pa = this.alloc.allocPa(n * this.pageSize, { owner: PageOwner.KERNEL, usage: PageUsage.HEAP });
    if (pa < 0) throw new VmError('ENOMEM', `no ${n} pages`);
    return pa;
  }

  freePages(vaddr: number): void {
    this.alloc.freePa(vaddr);
  }

  read(va: number, len: number): Uint8Array {
    return this.mem.read(va, len);
  }

  write(va: number, bytes: Uint8Array): void {
    this.mem.write(va, bytes);
  }

  read32(va: number): number {
    return this.mem.read32(va);
  }

  write32(va: number, value: number): void {
    this.mem.write32(va, value);
  }
}

/** The real thing: mapper's kernel map, booted on each architecture's default board. */
export const ARCHS: readonly PmapFactory[] = [sv39, ia32, armv7m];

export function bootKernelMap(arch: PmapFactory): KernelMap {
  const board = boards.get(arch.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });
  return createKernelMap({ arch, mem, alloc, board });
}
