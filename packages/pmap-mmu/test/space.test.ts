import { Access, BoardMemoryMap, FaultCode, PageAllocator, PageAttr, PageOwner, PhysicalMemory, VmError, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ia32, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const PS = 4096;
const RW = PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE;

function boot(factory: typeof sv39, board = boards.get(factory.defaultBoard)) {
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const boot0 = alloc.info();
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  return { mem, alloc, kernel, boot0 };
}

describe('kernel address space', () => {
  it('Sv39 builds max(RAM/4, 8 MiB) of level-0 tables at boot, grows the shared level-1 table on demand and shrinks it back', () => {
    const { alloc, kernel } = boot(sv39);
    // riscv-virt-64m: 16 MiB → 8 level-0 tables, one level-1 table, the root.
    expect(kernel.stats().tableFrames).toBe(10);
    const user = sv39.createUser(kernel) as MmuPmap;
    const pa = alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
    const far = sv39.kernelRange[0] + 512 * 1024 * 1024; // beyond the boot-built tables
    const info = alloc.info();
    alloc.faults.failAt('ptable', 1);
    expect(kernel.enter(pa, far, RW)).toBe(FaultCode.NO_MEMORY);
    expect(alloc.info()).toEqual(info);
    expect(kernel.resolve(far)).toBe(-1);
    expect(kernel.enter(pa, far, RW)).toBe(0);
    expect(kernel.stats().tableFrames).toBe(11);
    // the user root was copied before the table existed and still sees it: the level-1 table is shared
    expect(user.translate(far + 8, Access.READ)).toBe(pa + 8);
    expect(() => kernel.enter(pa, sv39.kernelRange[1], RW)).toThrow(VmError);
    kernel.remove(far, far + PS);
    // A kernel table added on demand goes back when it empties, and every address space stops seeing it...
    expect(kernel.stats().tableFrames).toBe(10);
    expect(alloc.info()).toEqual(info);
    expect(user.translate(far + 8, Access.READ)).toBe(FaultCode.NOT_MAPPED);
    // ...while the tables built at boot stay, as the original's pre-expanded kernel space.
    const near = sv39.kernelRange[0] + 4096 * PS;
    expect(kernel.enter(pa, near, RW)).toBe(0);
    kernel.remove(near, near + PS);
    expect(kernel.stats().tableFrames).toBe(10);
    user.destroy();
    kernel.check();
  });

  it('ia32 builds the whole kernel half at boot, so a kernel enter never needs a frame', () => {
    const { alloc, kernel } = boot(ia32);
    expect(kernel.stats().tableFrames).toBe(257);
    const pa = alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
    const drained = [];
    for (let f = alloc.alloc(PS); f; f = alloc.alloc(PS)) drained.push(f);
    expect(kernel.enter(pa, 0xffff_f000, RW)).toBe(0);
    expect(kernel.translate(0xffff_fffc, Access.WRITE)).toBe(pa + 0xffc);
    for (const f of drained) alloc.free(f);
  });

  it('ia32 cannot boot on a board smaller than its kernel tables', () => {
    expect(() => boot(ia32, boards.ram(512 * 1024))).toThrow(/ENOMEM/);
  });

  it('ia32 refuses a board with RAM at or above 4 GiB (32-bit PTEs cannot map it), before taking a frame', () => {
    const high = new BoardMemoryMap([
      { base: 0, size: 32 * 1024 * 1024, kind: 'ram', name: 'low' },
      { base: 2 ** 32, size: 1024 * 1024, kind: 'ram', name: 'high' },
    ]);
    for (const board of [high, boards.get('riscv-virt-4g'), boards.ram(2 ** 32 + PS)]) {
      const mem = new PhysicalMemory(board);
      const alloc = new PageAllocator(mem, { pageSize: PS });
      const before = alloc.info();
      expect(() => ia32.createKernel(mem, alloc, board), board.name).toThrow(/EINVAL/);
      expect(alloc.info()).toEqual(before);
      // Sv39 leaves hold 44-bit frame numbers: the same boards boot there.
      sv39.createKernel(mem, alloc, board).check();
    }
    // RAM ending exactly at 4 GiB is mappable: its last frame is 0xFFFFF000.
    const { kernel, alloc } = boot(ia32, boards.ram(2 ** 32));
    const top = alloc.get(2 ** 32 - PS)!;
    expect(top.free).toBe(true);
    kernel.check();
  });

  it('returns every frame when the kernel goes after its users, and refuses to go before them', () => {
    for (const factory of [sv39, ia32]) {
      const { alloc, kernel, boot0 } = boot(factory);
      const user = factory.createUser(kernel);
      expect(() => kernel.destroy()).toThrow(/EBUSY/);
      user.destroy();
      kernel.destroy();
      expect(alloc.info()).toEqual(boot0);
      expect(() => factory.createUser(kernel)).toThrow(/EINVAL/);
    }
  });

  it('refuses a kernel pmap of another architecture, a user pmap, or something else', () => {
    const { kernel } = boot(sv39);
    const user = sv39.createUser(kernel);
    expect(() => ia32.createUser(kernel)).toThrow(/EINVAL/);
    expect(() => sv39.createUser(user)).toThrow(/EINVAL/);
    expect(() => sv39.createUser({} as never)).toThrow(/EINVAL/);
    const mem = new PhysicalMemory(boards.get('stm32-512k'));
    expect(() => sv39.createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), mem.board)).toThrow(/EINVAL/);
  });

  it('activate makes one address space current', () => {
    const { kernel } = boot(sv39);
    const a = sv39.createUser(kernel) as MmuPmap;
    const b = sv39.createUser(kernel) as MmuPmap;
    a.activate();
    expect(a.active && !b.active && !kernel.active).toBe(true);
    b.activate();
    expect(!a.active && b.active).toBe(true);
    b.destroy();
    expect(() => b.activate()).toThrow(/EINVAL/);
  });
});
