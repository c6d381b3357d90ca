import {
  PageAllocator,
  PageOwner,
  PageUsage,
  PhysicalMemory,
  formatPageMap,
} from '@vmlayers/phys';
import type { BoardMemoryMap, Frame, PageInfo } from '@vmlayers/phys';
import { addr, bytes } from './format.js';

export interface BootStep {
  step: string;
  text: string;
  info: PageInfo;
  pageMap: string;
}

/**
 * The phys part of the story: boot a board, show what the page allocator knows, take frames the way a kernel
 * would at boot (page tables, a kernel heap, an application image), give them back, and show that memory
 * returns to its boot state.
 */
export function runBootScenario(board: BoardMemoryMap, pageSize: number, emit: (s: BootStep) => void): void {
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize });
  const say = (step: string, text: string) =>
    emit({ step, text, info: alloc.info(), pageMap: formatPageMap(alloc.pageMap(), pageSize) });

  const regions = board.regions
    .map((r) => `  ${addr(r.base, 9)}-${addr(r.base + r.size, 9)}  ${r.kind.padEnd(8)} ${r.name} (${bytes(r.size)})`)
    .join('\n');
  say(
    'boot',
    `Board ${board.name}, ${bytes(pageSize)} pages. Its memory map:\n${regions}\n` +
      `Reserved regions become frames owned by BOOT (B); RAM starts free (.) in maximal buddy blocks.`,
  );

  const tables: Frame[] = [];
  for (let i = 0; i < 3; i++) tables.push(alloc.alloc(pageSize, { owner: PageOwner.KERNEL, usage: PageUsage.PTABLE })!);
  const heap = alloc.alloc(16 * pageSize, { owner: PageOwner.KERNEL, usage: PageUsage.HEAP })!;
  const image = alloc.alloc(5 * pageSize, { owner: PageOwner.APP })!;
  alloc.check();
  say(
    'alloc',
    `The kernel takes 3 page-table frames (P) at ${tables.map((t) => addr(t.pa)).join(', ')}, a 16-page heap (H) at ` +
      `${addr(heap.pa)}, and loads a 5-page program: the buddy allocator rounds it up to 8 pages (A) at ${addr(image.pa)}.`,
  );

  mem.write(image.pa, new TextEncoder().encode('hello from a program image'));
  for (const f of [...tables, heap, image]) alloc.free(f);
  alloc.check();
  say(
    'free',
    `Everything is given back. Freed buddies merge into the boot blocks again, and the program's bytes are gone ` +
      `(frames read as zeros: ${mem.read32(image.pa) === 0 ? 'yes' : 'no'}; host memory held: ${bytes(mem.backedBytes)}).`,
  );
}
