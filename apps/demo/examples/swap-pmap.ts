import { Access, PageAllocator, PageAttr, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m } from '@vmlayers/pmap-nommu';

// The same code on three architectures: only the factory changes.
function touch(arch: PmapFactory): string {
  const board = boards.get(arch.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });
  const kernel = arch.createKernel(mem, alloc, board);
  const user = arch.createUser(kernel);

  const frame = alloc.alloc(arch.pageSize)!;
  // With an MMU any free user page will do; without one a page lives at its physical address.
  const va = arch.capabilities.hasMmu ? arch.userRange[0] + 16 * arch.pageSize : frame.pa;
  user.enter(frame.pa, va, PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER);
  user.activate();

  const pa = user.translate(va + 8, Access.WRITE | Access.USER);
  mem.write32(pa, 0xc0ffee);
  const tables = user.tables().length;
  user.destroy();
  return `${arch.name}: va 0x${va.toString(16)} -> pa 0x${pa.toString(16)}, ${mem.read32(frame.pa + 8).toString(16)}, ${tables} table(s)`;
}

for (const arch of [sv39, ia32, armv7m]) console.log(touch(arch));
