import type { Errno } from '@vmlayers/phys';
import { ARCHS, NOT_UINTS, WIDE_UINTS, expectUnchanged, outcomeOf } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { Kmalloc, Zone } from '../src/index.js';
import type { KernelMemory } from '../src/index.js';
import { bootKernelMap, identity } from './kernels.js';

/*
 * Every public entry point of Zone and Kmalloc against values no caller should pass: each is refused with a
 * VmError of the right errno (EINVAL for a bad value, ENOMEM only for a valid request too large to serve), never a
 * TypeError or RangeError, and kmalloc's and the kernel's figures are exactly as they were, check() passing.
 */

/** A kmalloc with live blocks in several classes, a freed block, and a second zone (so descriptors are in use). */
function fixture(kernel: KernelMemory) {
  const km = new Kmalloc(kernel);
  // Block 0 of the first descriptor zone, freed: the next zone made takes it as its descriptor (LIFO).
  const descriptor = km.kmalloc(64);
  km.kfree(descriptor);
  const small = km.kmalloc(100);
  // Its bytes say 'ZONE' and the address of the zone it describes (describe() in kmalloc.ts).
  expect([kernel.read32(descriptor), kernel.read32(descriptor + 4)]).toEqual([0x454e4f5a, (small - (small % kernel.pageSize)) >>> 0]);
  const freed = km.kmalloc(100);
  const big = km.kmalloc(3 * kernel.pageSize);
  km.kfree(freed);
  const zone = new Zone(kernel, 32, 8);
  const block = zone.alloc();
  const snapshot = () => {
    km.check();
    zone.check();
    return { km: km.stats(), zone: zone.stats(), frames: kernel.alloc.info() };
  };
  return { kernel, km, zone, small, freed, big, block, descriptor, snapshot };
}

const KERNELS: { name: string; make: () => KernelMemory }[] = [
  { name: 'identity kernel, 4 KiB pages', make: () => identity(8 << 20) },
  { name: 'identity kernel, 512 B pages', make: () => identity(1 << 20, 512) },
  ...ARCHS.map((at) => ({ name: `kernel map on ${at.name}`, make: () => bootKernelMap(at) })),
];

type Fixture = ReturnType<typeof fixture>;
interface Case {
  name: string;
  call: (f: Fixture) => unknown;
  errno: Errno;
}

const sizes: Case[] = [
  ...NOT_UINTS.map((v) => ({ name: `kmalloc(${v.name})`, call: (f: Fixture) => f.km.kmalloc(v.value as number), errno: 'EINVAL' as const })),
  { name: 'kmalloc(0)', call: (f) => f.km.kmalloc(0), errno: 'EINVAL' },
  // Exact sizes past the largest class: a real request kmalloc cannot serve, as the original.
  { name: 'kmalloc(2**23+1)', call: (f) => f.km.kmalloc(2 ** 23 + 1), errno: 'ENOMEM' },
  ...WIDE_UINTS.map((v) => ({ name: `kmalloc(${v.name})`, call: (f: Fixture) => f.km.kmalloc(v.value as number), errno: 'ENOMEM' as const })),
  ...NOT_UINTS.map((v) => ({ name: `Kmalloc.sizeOf(${v.name})`, call: () => Kmalloc.sizeOf(v.value as number), errno: 'EINVAL' as const })),
  ...WIDE_UINTS.map((v) => ({ name: `Kmalloc.sizeOf(${v.name})`, call: () => Kmalloc.sizeOf(v.value as number), errno: 'ENOMEM' as const })),
];

const frees: Case[] = [
  ...[...NOT_UINTS, ...WIDE_UINTS].map((v) => ({ name: `kfree(${v.name})`, call: (f: Fixture) => f.km.kfree(v.value as number), errno: 'EINVAL' as const })),
  { name: 'kfree(0)', call: (f) => f.km.kfree(0), errno: 'EINVAL' },
  { name: 'kfree(inside a block)', call: (f) => f.km.kfree(f.small + 16), errno: 'EINVAL' },
  { name: 'kfree(one byte past a block start)', call: (f) => f.km.kfree(f.small + 1), errno: 'EINVAL' },
  { name: 'kfree(a freed block)', call: (f) => f.km.kfree(f.freed), errno: 'EINVAL' },
  { name: 'kfree(a zone descriptor)', call: (f) => f.km.kfree(f.descriptor), errno: 'EINVAL' },
  { name: 'kfree(a block of a separate Zone)', call: (f) => f.km.kfree(f.block), errno: 'EINVAL' },
  { name: 'kfree(big + 2**32)', call: (f) => f.km.kfree(f.big + 2 ** 32), errno: 'EINVAL' },
  ...[...NOT_UINTS, ...WIDE_UINTS].map((v) => ({ name: `zone.free(${v.name})`, call: (f: Fixture) => f.zone.free(v.value as number), errno: 'EINVAL' as const })),
  { name: 'zone.free(block + 2**32)', call: (f) => f.zone.free(f.block + 2 ** 32), errno: 'EINVAL' },
  { name: 'zone.free(a kmalloc block)', call: (f) => f.zone.free(f.small), errno: 'EINVAL' },
  { name: 'zone.free(block + 8)', call: (f) => f.zone.free(f.block + 8), errno: 'EINVAL' },
];

// What a kernel memory must look like; each of these is missing or breaks one part of it.
const badKernels: { name: string; value: (k: KernelMemory) => unknown }[] = [
  ...NOT_UINTS.map((v) => ({ name: v.name, value: () => v.value })),
  { name: 'pageSize NaN', value: (k: KernelMemory) => ({ ...methodsOf(k), alloc: k.alloc, pageSize: NaN }) },
  { name: 'pageSize 4096n', value: (k: KernelMemory) => ({ ...methodsOf(k), alloc: k.alloc, pageSize: 4096n }) },
  { name: 'pageSize 3000', value: (k: KernelMemory) => ({ ...methodsOf(k), alloc: k.alloc, pageSize: 3000 }) },
  { name: 'pageSize 2**32+4096', value: (k: KernelMemory) => ({ ...methodsOf(k), alloc: k.alloc, pageSize: 2 ** 32 + 4096 }) },
  { name: 'no alloc', value: (k: KernelMemory) => ({ ...methodsOf(k), pageSize: k.pageSize }) },
  { name: 'alloc without faults', value: (k: KernelMemory) => ({ ...methodsOf(k), pageSize: k.pageSize, alloc: {} }) },
  { name: 'no allocPages', value: (k: KernelMemory) => ({ ...methodsOf(k), allocPages: undefined, alloc: k.alloc, pageSize: k.pageSize }) },
  { name: 'write32 not a function', value: (k: KernelMemory) => ({ ...methodsOf(k), write32: 1, alloc: k.alloc, pageSize: k.pageSize }) },
];

function methodsOf(k: KernelMemory) {
  return {
    allocPages: (n: number) => k.allocPages(n),
    freePages: (va: number) => k.freePages(va),
    physical: (va: number) => k.physical(va),
    read: (va: number, len: number) => k.read(va, len),
    write: (va: number, b: Uint8Array) => k.write(va, b),
    read32: (va: number) => k.read32(va),
    write32: (va: number, v: number) => k.write32(va, v),
  };
}

const constructors: Case[] = [
  ...badKernels.map((b) => ({ name: `new Kmalloc(${b.name})`, call: (f: Fixture) => new Kmalloc(b.value(f.kernel) as KernelMemory), errno: 'EINVAL' as const })),
  ...badKernels.map((b) => ({ name: `new Zone(${b.name}, 64, 4)`, call: (f: Fixture) => new Zone(b.value(f.kernel) as KernelMemory, 64, 4), errno: 'EINVAL' as const })),
  ...[...NOT_UINTS, { name: '0', value: 0 }, { name: '4', value: 4 }, { name: '48', value: 48 }, { name: '2**31', value: 2 ** 31 }, ...WIDE_UINTS].map((v) => ({
    name: `new Zone(kmap, ${v.name}, 4)`,
    call: (f: Fixture) => new Zone(f.kernel, v.value as number, 4),
    errno: 'EINVAL' as const,
  })),
  ...[...NOT_UINTS, { name: '0', value: 0 }, { name: '2**24+1', value: 2 ** 24 + 1 }, ...WIDE_UINTS].map((v) => ({
    name: `new Zone(kmap, 64, ${v.name})`,
    call: (f: Fixture) => new Zone(f.kernel, 64, v.value as number),
    errno: 'EINVAL' as const,
  })),
  { name: 'new Zone(kmap, 2**30, 2**24) (2^54 bytes)', call: (f) => new Zone(f.kernel, 2 ** 30, 2 ** 24), errno: 'EINVAL' },
  // Valid arguments, more memory than the kernel has: exhaustion.
  { name: 'new Zone(kmap, 2**20, 2**12) (4 GiB)', call: (f) => new Zone(f.kernel, 2 ** 20, 2 ** 12), errno: 'ENOMEM' },
];

describe.each(KERNELS)('hostile input: $name', ({ make }) => {
  const f = fixture(make());

  it.each([...sizes, ...frees, ...constructors])('$name → $errno, nothing changed', ({ name, call, errno }) => {
    expectUnchanged(f.snapshot, () => call(f), errno, name);
  });

  it.each([...NOT_UINTS, ...WIDE_UINTS])('stats(), check() and zone.stats(), zone.check() ignore an argument $name', ({ value }) => {
    const before = f.snapshot();
    const k = f.km as unknown as Record<'stats' | 'check', (v: unknown) => unknown>;
    const z = f.zone as unknown as Record<'stats' | 'check', (v: unknown) => unknown>;
    expect(outcomeOf(() => k.stats(value))).toMatch(/^returned/);
    expect(outcomeOf(() => k.check(value))).toMatch(/^returned/);
    expect(outcomeOf(() => z.stats(value))).toMatch(/^returned/);
    expect(outcomeOf(() => z.check(value))).toMatch(/^returned/);
    expect(f.snapshot()).toEqual(before);
  });

  it('the fixture still works after every refused call', () => {
    const before = f.snapshot();
    const va = f.km.kmalloc(100);
    expect(va).toBe(f.freed);
    f.km.kfree(va);
    expect(f.snapshot()).toEqual(before);
  });
});
