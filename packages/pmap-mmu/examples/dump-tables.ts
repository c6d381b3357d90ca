import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import { dumpTables, sv39 } from '@vmlayers/pmap-mmu';
import type { MmuPmap } from '@vmlayers/pmap-mmu';

const board = boards.get(sv39.defaultBoard); // riscv-virt-64m
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: sv39.pageSize });
const pmap = sv39.createUser(sv39.createKernel(mem, alloc, board)) as MmuPmap;
const text = alloc.alloc(4096, { owner: PageOwner.APP })!.pa;
const data = alloc.alloc(4096, { owner: PageOwner.APP })!.pa;
pmap.enter(text, 0x1_0000, PageAttr.PRESENT | PageAttr.READ | PageAttr.EXEC | PageAttr.USER);
pmap.enter(data, 0x2_0000, PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER);
pmap.translate(0x2_0008, Access.WRITE | Access.USER); // the hardware sets A and D

// One present leaf a line: va → pa | U R W X G A D (at the PTE's physical address).
export const dump = dumpTables(pmap);
console.log(dump);
export const leaves = pmap.leaves().map((l) => ({ va: l.va, pa: l.pa, size: l.size }));
export const frames = { text, data };
