import { MapFlags, Prot } from '@vmlayers/phys';
import { ia32, sv39 } from '@vmlayers/pmap-mmu';
import type { MmuPmap } from '@vmlayers/pmap-mmu';
import { describe, expect, it } from 'vitest';
import { createVm } from '../src/index.js';

// A device object's pages are mapped as device memory on every MMU architecture: Sv39's Svpbmt type IO (PTE bits
// 61–62 = 2), ia32's PCD|PWT (bits 4 and 3). Read from the PTEs with the specs' bit positions.
describe('device memory in the PTE', () => {
  it.each([
    ['sv39', sv39, 0x1000_0000],
    ['ia32', ia32, 0xa_0000],
  ] as const)('%s maps a device object as device memory, RAM as ordinary memory', (name, arch, device) => {
    const vm = createVm({ arch });
    // uart0 of riscv-virt-64m, the VGA window of ia32-pc-32m
    const region = vm.board.regions.find((r) => r.kind === 'device' && r.base === device)!;
    expect(region).toBeDefined();
    const o = vm.createPhysObject(region.base, 4096, { device: true });
    const p = vm.spawn();
    const va = p.mmap({ size: 4096, prot: Prot.READ | Prot.WRITE, flags: MapFlags.SHARED | MapFlags.POPULATE, object: o });
    const ram = p.mmap({ size: 4096, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE | MapFlags.POPULATE });
    const pmap = vm.pmap(p.pid) as MmuPmap;
    const pte = (at: number) => pmap.leaves().find((l) => l.va === at)!.pte;
    if (name === 'sv39') {
      const pbmt = (at: number) => Math.floor(vm.mem.read32(pte(at) + 4) / 2 ** 29) % 4;
      expect([pbmt(va), pbmt(ram)]).toEqual([2, 0]);
    } else {
      const cache = (at: number) => (vm.mem.read32(pte(at)) >>> 3) & 3; // PWT, PCD
      expect([cache(va), cache(ram)]).toEqual([3, 0]);
    }
    vm.check();
    p.exit();
    o.release();
  });
});
