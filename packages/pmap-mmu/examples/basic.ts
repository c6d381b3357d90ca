import { Access, FaultCode, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';

// Boot RAM, the page allocator and the kernel address space of a RISC-V board.
const board = boards.get(sv39.defaultBoard); // riscv-virt-64m
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: sv39.pageSize });
const kernel = sv39.createKernel(mem, alloc, board);
const before = alloc.info();

// A process: map one zeroed frame read/write for user mode at 0x10000, and write through it.
const user = sv39.createUser(kernel);
const frame = alloc.alloc(sv39.pageSize, { owner: PageOwner.APP })!;
const { PRESENT, READ, WRITE, USER } = PageAttr;
user.enter(frame.pa, 0x10000, PRESENT | READ | WRITE | USER);
const pa = user.translate(0x10004, Access.WRITE | Access.USER);
mem.write32(pa, 0xcafe);

// The same byte seen through the mapping; the kernel itself may not touch user pages (Sv39, SUM=0).
const readBack = mem.read32(user.translate(0x10004, Access.READ | Access.USER));
const supervisorRead = user.translate(0x10004, Access.READ);

// Make it read-only: the TLB entry is dropped, a write now faults.
user.protect(0x10000, 0x11000, PRESENT | READ | USER);
const writeAfterProtect = user.translate(0x10004, Access.WRITE | Access.USER);

// Three table frames (root, level 1, level 0) until the process goes; then all of them are back.
const tablesWhileMapped = user.stats().tableFrames;
user.destroy();
alloc.free(frame);

export const result = {
  pa,
  readBack,
  supervisorRead,
  writeAfterProtect,
  tablesWhileMapped,
  allReturned: alloc.info().free === before.free,
};
console.log(result, supervisorRead === FaultCode.PROTECTION);
