import { MapFlags, PageAllocator, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { Kmalloc } from '@vmlayers/kmalloc';
import { ARCHS as UNDER_TEST, identityKernel } from '@vmlayers/testkit';
import { createVm } from '../src/index.js';
import type { Vm, VmEvent } from '../src/index.js';
import { MemContext } from '../src/internal/context.js';

export { errnoOf } from '@vmlayers/testkit';

/** Every architecture under test (testkit's list). */
export const ARCHS: PmapFactory[] = UNDER_TEST.map((a) => a.arch);
/** The ones that can fork. */
export const MMU_ARCHS: PmapFactory[] = UNDER_TEST.filter((a) => a.mmu).map((a) => a.arch);

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
  const kernel = identityKernel(alloc);
  const kmalloc = new Kmalloc(kernel);
  return { ctx: new MemContext(alloc, kmalloc, hasMmu), alloc, kmalloc };
}
