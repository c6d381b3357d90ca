import type { BoardMemoryMap, PageAllocator, PhysicalMemory, Pmap, PmapFactory } from '@vmlayers/phys';
import type { PagingFormat } from './internal/format.js';
import { PAGE_SIZE } from './internal/format.js';
import { MmuPmap } from './mmu-pmap.js';

/** @internal Wraps a page-table format as a `PmapFactory`. */
export function makeFactory(format: PagingFormat): PmapFactory {
  return Object.freeze({
    name: format.name,
    pageSize: PAGE_SIZE,
    userRange: Object.freeze([format.userRange[0], format.userRange[1]] as const),
    kernelRange: Object.freeze([format.kernelRange[0], format.kernelRange[1]] as const),
    defaultBoard: format.defaultBoard,
    capabilities: format.capabilities,
    createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): Pmap {
      return MmuPmap.createKernel(format, mem, alloc, board ?? mem.board);
    },
    createUser(kernelPmap: Pmap): Pmap {
      return MmuPmap.createUser(format, kernelPmap);
    },
  });
}
