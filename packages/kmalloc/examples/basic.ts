import { Kmalloc } from '@vmlayers/kmalloc';
import { createKernelMap } from '@vmlayers/mapper';
import { PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';

// Boot a RISC-V board up to its kernel map: kmalloc's zones are pages mapped there.
const board = boards.get('riscv-virt-64m');
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: sv39.pageSize });
const kmap = createKernelMap({ arch: sv39, mem, alloc, board });
const heap = new Kmalloc(kmap);

// 100 bytes come from the 128-byte class; the address is a kernel virtual address with real bytes behind it.
const node = heap.kmalloc(100);
kmap.write(node, new TextEncoder().encode('a kernel list node'));
console.log(`0x${node.toString(16)}`, new TextDecoder().decode(kmap.read(node, 18)));

const big = heap.kmalloc(3 * 4096); // above a page: a zone of one 16 KiB block
console.log(heap.stats().classes.map((c) => `${c.size}B: ${c.used} used, ${c.free} free, ${c.zones} zone(s)`));

heap.kfree(big);
heap.kfree(node); // both zones are empty now and go back to the kernel map at once
heap.check();
console.log(heap.stats().zones, heap.stats().used);
