import { MapFlags, Prot } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { createVm, formatMaps, formatMeminfo, formatSmaps, hexdump, smaps } from '@vmlayers/memobj';

const vm = createVm({ arch: sv39 });
const parent = vm.spawn();
const heap = parent.mmap({ size: 16384, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
parent.write(heap, new TextEncoder().encode('parent heap'));
parent.write(heap + 4096, new Uint8Array([1]));
const child = parent.fork();
child.read(heap, 1);
child.read(heap + 4096, 1);
child.write(heap + 4096, new Uint8Array([2]));

// /proc/<pid>/maps: Linux's columns, the object's name at column 74 of a 64-bit address space.
console.log(formatMaps(vm, child.pid));

// /proc/<pid>/smaps: page 0 is still shared copy-on-write with the parent, page 1 was copied by the write.
const [s] = smaps(vm, child.pid);
console.log(s.rss, s.pss, s.shared, s.private);
console.log(formatSmaps(vm, child.pid).split('\n').slice(1, 6).join('\n'));

// /proc/meminfo, and a hexdump -C of what the parent reads.
console.log(formatMeminfo(vm).split('\n')[0]);
console.log(hexdump(parent.read(heap, 32), heap));
