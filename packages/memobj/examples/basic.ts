import { MapFlags, Prot, isVmError } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { createVm } from '@vmlayers/memobj';

// The whole subsystem on a QEMU riscv64 `virt` board: RAM, page tables, kernel map, kmalloc, memory objects.
const copies: number[] = [];
const vm = createVm({ arch: sv39, onEvent: (e) => void (e.type === 'cow' && copies.push(e.va)) });
const boot = vm.meminfo();

// A program image: text shared by every process spawned from it, data copied page by page on first write.
const text = new TextEncoder().encode('text of the program');
const data = new TextEncoder().encode('initial data');
const image = {
  segments: [
    { vaddr: 0x10000, size: 4096, prot: Prot.READ | Prot.EXEC, data: text },
    { vaddr: 0x20000, size: 8192, prot: Prot.READ | Prot.WRITE, data },
  ],
};
const parent = vm.spawn(image);
const heap = parent.mmap({ size: 16384, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
parent.write(heap, new TextEncoder().encode('parent heap'));

// Fork copies nothing; the first write of either side to a shared page copies that page only.
const child = parent.fork();
child.write(heap, new TextEncoder().encode('child!'));
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
console.log(dec(parent.read(heap, 11)), '|', dec(child.read(heap, 11)), '|', copies.length);

// Shared memory really is shared with the child.
const shm = parent.mmap({ size: 4096, prot: Prot.READ | Prot.WRITE, flags: MapFlags.SHARED });
const child2 = parent.fork();
child2.write(shm, new TextEncoder().encode('hello'));
console.log(dec(parent.read(shm, 5)));

// Text is read-only; the kernel is out of reach.
for (const f of [() => child.write(0x10000, new Uint8Array(1)), () => child.read(0x3fc0000000, 4)]) {
  try {
    f();
  } catch (e) {
    console.log(isVmError(e) ? e.code : e);
  }
}

console.log(vm.maps(parent.pid).map((m) => `${m.start.toString(16)}-${m.end.toString(16)} ${m.object}`).join(', '));

// Exit gives every frame and kernel-heap byte back.
for (const p of vm.processes()) p.exit();
vm.check();
const now = vm.meminfo();
console.log(now.page.free === boot.page.free, now.kmalloc.used === boot.kmalloc.used);
