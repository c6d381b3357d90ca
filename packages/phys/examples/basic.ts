import { PageAllocator, PageOwner, PageUsage, PhysicalMemory, boards, formatPageMap } from '@vmlayers/phys';

// A QEMU riscv64 `virt` board with 64 MiB of DRAM; firmware and the kernel image are reserved (boot-owned).
const board = boards.get('riscv-virt-64m');
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: 4096 });

// A 3-page request is rounded up to a 4-page buddy block; frames come back zeroed.
const heap = alloc.alloc(3 * 4096, { owner: PageOwner.KERNEL, usage: PageUsage.HEAP });
if (!heap) throw new Error('out of memory');
mem.write(heap.pa, new TextEncoder().encode('hello, frames'));
console.log(heap.order, new TextDecoder().decode(mem.read(heap.pa, 13)));

console.log(alloc.info());
console.log(formatPageMap(alloc.pageMap(), alloc.pageSize));

alloc.free(heap); // merges back with its buddies; the bytes are gone
alloc.check(); // every invariant of the frame database holds
console.log(alloc.info().free === alloc.info().total - alloc.info().boot, mem.read32(heap.pa));
