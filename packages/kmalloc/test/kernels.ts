import { createKernelMap } from '@vmlayers/mapper';
import type { KernelMap } from '@vmlayers/mapper';
import { PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { identityKernel } from '@vmlayers/testkit';
import type { ArchUnderTest, IdentityKernel } from '@vmlayers/testkit';

/**
 * A kernel memory for unit tests: `ram` bytes at 0x1000_0000, pages identity-mapped (va = pa) straight from a
 * PageAllocator (testkit's identity kernel). The layer's contract tests also run over mapper's real KernelMap on
 * every architecture.
 */
export function identity(ram = 8 << 20, pageSize = 4096): IdentityKernel {
  const mem = new PhysicalMemory(boards.ram(ram, 0x1000_0000));
  return identityKernel(new PageAllocator(mem, { pageSize }), mem);
}

/** The real thing: mapper's kernel map, booted on the architecture's default board. */
export function bootKernelMap({ arch, board: name }: ArchUnderTest): KernelMap {
  const board = boards.get(name);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });
  return createKernelMap({ arch, mem, alloc, board });
}
