import { BoardMemoryMap } from '@vmlayers/phys';
import { ia32, sv39 } from '@vmlayers/pmap-mmu';
import { describe, expect, it } from 'vitest';
import { createVm } from '../src/index.js';
import { PRIVATE, RW, errnoOf, footprint } from './helpers.js';

describe('boot at any RAM size', () => {
  it('boots sv39 on 1 TiB of RAM, maps and touches both ends, and gives everything back', () => {
    const vm = createVm({ arch: sv39, ramSize: 2 ** 40 });
    expect(vm.meminfo().page.total).toBe(2 ** 40);
    const boot = footprint(vm);
    const p = vm.spawn();
    const va = p.mmap({ size: 2 ** 30, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([1]));
    p.write(va + 2 ** 30 - 1, new Uint8Array([2]));
    expect([...p.read(va, 1), ...p.read(va + 2 ** 30 - 1, 1)]).toEqual([1, 2]);
    vm.check();
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(boot);
  });

  it('refuses RAM it cannot describe with EINVAL', () => {
    // Frame numbers are below 2^31: RAM ending above 8 TiB (4 KiB pages) cannot be described.
    const far = new BoardMemoryMap([{ base: 2 ** 44, size: 2 ** 30, kind: 'ram', name: 'far' }]);
    expect(errnoOf(() => createVm({ arch: sv39, board: far }))).toBe('EINVAL');
    expect(() => createVm({ arch: sv39, board: far })).toThrow(/^EINVAL: board \w+ cannot be used by sv39: RAM of board \w+ ends at 0x100040000000/);
    // ia32 reaches 4 GiB of physical memory.
    expect(errnoOf(() => createVm({ arch: ia32, ramSize: 2 ** 33 }))).toBe('EINVAL');
  });
});
