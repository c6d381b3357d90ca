import { MapFlags, PageAllocator, PhysicalMemory, Prot, boards, isVmError } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { createKernelMap } from '@vmlayers/mapper';

// Boot: RAM, the page allocator, the kernel map (kernel page tables, entry pool, the wired kernel image).
const board = boards.get('riscv-virt-64m');
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: sv39.pageSize });
const kmap = createKernelMap({ arch: sv39, mem, alloc, board });
const free0 = alloc.info().free;

// A process: 4 pages of private anonymous memory cost nothing until touched.
const RW = Prot.READ | Prot.WRITE | Prot.USER;
const proc = kmap.createUserMap(1);
const heap = proc.mmap({ size: 4 * 4096, prot: RW, flags: MapFlags.PRIVATE });
// Two page faults: two zeroed frames, plus the root and two lower page tables of the new address space.
proc.write(heap + 4090, new TextEncoder().encode('hello, pages'));
console.log(new TextDecoder().decode(proc.read(heap + 4090, 12)), (free0 - alloc.info().free) / 4096);

// mprotect cuts the entry in three; a write there is refused.
proc.mprotect(heap + 4096, 4096, Prot.READ | Prot.USER);
console.log(proc.format());
try {
  proc.write32(heap + 4096, 1);
} catch (e) {
  console.log(isVmError(e) ? e.code : e);
}

// Fork: the child gets its own copy of the private pages.
const child = proc.copy(2);
child.write32(heap, 42);
console.log(proc.read32(heap), child.read32(heap));

// Wired kernel memory, as kmalloc takes it.
const page = kmap.allocPages(1);
kmap.write32(page, 0xcafe);
console.log(kmap.read32(page).toString(16));

// Exit gives everything back.
kmap.freePages(page);
child.destroy();
proc.destroy();
kmap.check();
console.log(alloc.info().free === free0);
