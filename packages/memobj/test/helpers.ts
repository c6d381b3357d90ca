import { ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m } from '@vmlayers/pmap-nommu';
import { MapFlags, PageAllocator, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { Kmalloc } from '@vmlayers/kmalloc';
import { createVm } from '../src/index.js';
import type { Vm, VmEvent } from '../src/index.js';
import { MemContext } from '../src/internal/context.js';

export { errnoOf } from '@vmlayers/testkit';

/** Every architecture. */
export const ARCHS: PmapFactory[] = [sv39, ia32, armv7m];
/** The ones that can fork. */
export const MMU_ARCHS: PmapFactory[] = [sv39, ia32];

export const RW = Prot.READ | Prot.WRITE;
export const PRIVATE = MapFlags.PRIVATE;
export const SHARED = MapFlags.SHARED;

/** A small vm (fast to boot and check) recording its events. */
export function smallVm(arch: PmapFactory, events?: VmEvent[]): Vm {
  const ramSize = arch.capabilities.hasMmu ? 8 << 20 : 512 << 10;
  return createVm({ arch, ramSize, onEvent: events ? (e) => events.push(e) : undefined });
}

/** Bytes of `n` counting from `seed`. */
export function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i * 7) & 0xff;
  return b;
}

/** Free frames and kmalloc bytes: what must come back exactly. */
export function footprint(vm: Vm): { free: number; kmalloc: number } {
  const m = vm.meminfo();
  return { free: m.page.free, kmalloc: m.kmalloc.used };
}

/** A MemContext over a bare allocator and kmalloc on an identity kernel, for unit tests below the Vm. */
export function bareContext(pageSize = 4096, hasMmu = true): { ctx: MemContext; alloc: PageAllocator; kmalloc: Kmalloc } {
  const mem = new PhysicalMemory(boards.ram(8 << 20, 0x1000_0000));
  const alloc = new PageAllocator(mem, { pageSize });
  const kernel = {
    pageSize,
    alloc,
    allocPages(n: number): number {
      const pa = alloc.allocPa(n * pageSize, {});
      if (pa < 0) throw Object.assign(new Error('ENOMEM'), { code: 'ENOMEM' });
      return pa;
    },
    freePages(va: number): void {
      alloc.freePa(va);
    },
    read: (va: number, len: number) => mem.read(va, len),
    write: (va: number, b: Uint8Array) => mem.write(va, b),
    read32: (va: number) => mem.read32(va),
    write32: (va: number, v: number) => mem.write32(va, v),
  };
  const kmalloc = new Kmalloc(kernel);
  return { ctx: new MemContext(alloc, kmalloc, hasMmu), alloc, kmalloc };
}
