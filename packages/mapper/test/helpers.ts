import { MapFlags, PageAllocator, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import type { Errno } from '@vmlayers/phys';
import { ARCHS, expectErrno } from '@vmlayers/testkit';
import type { ArchUnderTest } from '@vmlayers/testkit';
import { expect } from 'vitest';
import { createKernelMap } from '../src/index.js';
import type { KernelMap, MemoryMap, VmMap } from '../src/index.js';

/** An architecture under test with its default board (testkit's list, one home for every layer's tests). */
export type Arch = ArchUnderTest;
export { ARCHS, expectErrno };

export const RW = Prot.READ | Prot.WRITE | Prot.USER;
export const RO = Prot.READ | Prot.USER;
export const PRIV = MapFlags.PRIVATE;

export interface Booted {
  mem: PhysicalMemory;
  alloc: PageAllocator;
  kmap: KernelMap;
  ps: number;
}

export function boot(a: Arch, entries?: number): Booted {
  const board = boards.get(a.board);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: a.arch.pageSize });
  const kmap = createKernelMap({ arch: a.arch, mem, alloc, board, entries });
  return { mem, alloc, kmap, ps: a.arch.pageSize };
}

/** What a map looks like from outside, to compare before and after a refused call. */
export function state(m: MemoryMap): { entries: unknown[]; format: string } {
  return { entries: m.entries().map((e) => ({ ...e, backing: e.backing.name })), format: m.format() };
}

/** Asserts that `fn` fails with `code` and leaves the map (and the allocator) exactly as it was. */
export function expectRefused(m: MemoryMap, alloc: PageAllocator, fn: () => unknown, code: Errno): void {
  const before = state(m);
  const info = alloc.info();
  expectErrno(fn, code);
  expect(state(m)).toEqual(before);
  expect(alloc.info()).toEqual(info);
  m.check();
}

/** A process map; with no MMU, placements are wherever memory is. */
export function user(b: Booted, owner = 1): VmMap {
  const m = b.kmap.createUserMap(owner);
  m.check();
  return m;
}

/** A file-like object: a fixed run of frames, shared by every mapping of it (read-only by default). */
export class TestObject {
  readonly base: number;
  readonly pages: number;
  handles = 0;
  constructor(
    readonly b: Booted,
    pages: number,
  ) {
    this.pages = pages;
    const pa = b.alloc.allocPa(pages * b.ps);
    if (pa < 0) throw new Error('no memory for a test object');
    this.base = pa;
  }
  free(): void {
    this.b.alloc.freePa(this.base);
  }
}

/** A Backing over a {@link TestObject}: what memobj's shared objects look like to the mapper. */
export class TestBacking {
  readonly name: string;
  released = false;
  unmapped: [number, number][] = [];
  constructor(
    readonly obj: TestObject,
    readonly maxProt: number = Prot.READ,
    readonly writable = false,
  ) {
    this.name = `obj${obj.base.toString(16)}`;
    obj.handles++;
  }
  fault(offset: number): { pa: number; writable: boolean } | number {
    if (offset >= this.obj.pages * this.obj.b.ps) return -1;
    return { pa: this.obj.base + offset, writable: this.writable };
  }
  split(): TestBacking {
    return new TestBacking(this.obj, this.maxProt, this.writable);
  }
  canMerge(other: unknown): boolean {
    return other instanceof TestBacking && other.obj === this.obj;
  }
  merge(): void {}
  fork(): TestBacking {
    return new TestBacking(this.obj, this.maxProt, this.writable);
  }
  copy(): void {}
  shared(): boolean {
    return false;
  }
  unmap(offset: number, size: number): void {
    this.unmapped.push([offset, size]);
  }
  release(): void {
    if (this.released) throw new Error('released twice');
    this.released = true;
    this.obj.handles--;
  }
  contiguous(offset: number, size: number): number {
    return offset + size <= this.obj.pages * this.obj.b.ps ? this.obj.base + offset : -4;
  }
}
