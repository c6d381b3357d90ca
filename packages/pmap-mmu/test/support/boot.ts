import { PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import type { MmuPmap } from '../../src/mmu-pmap.js';

/** What the pmap tests boot: the factory's default board, its RAM and allocator, the kernel space and one user space. */
export interface Booted {
  readonly board: ReturnType<typeof boards.get>;
  readonly mem: PhysicalMemory;
  readonly alloc: PageAllocator;
  readonly kernel: MmuPmap;
  readonly user: MmuPmap;
}

/** Boots `factory` on its default board with 4 KiB pages: a kernel space and one user space (not activated). */
export function bootSpaces(factory: PmapFactory): Booted {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const user = factory.createUser(kernel) as MmuPmap;
  return { board, mem, alloc, kernel, user };
}
