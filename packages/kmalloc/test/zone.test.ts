import { expectErrno } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { Zone } from '../src/index.js';
import { identity } from './kernels.js';

describe('Zone', () => {
  it('carves blocks from kernel pages and hands them out in address order', () => {
    const k = identity();
    const before = k.alloc.info().kernel;
    const z = new Zone(k, 64, 100);
    expect(z.pages).toBe(2);
    expect(k.alloc.info().kernel - before).toBe(2 * 4096);
    const vas = Array.from({ length: 100 }, () => z.alloc());
    z.check();
    expect(vas).toEqual(Array.from({ length: 100 }, (_, i) => z.vaddr + 64 * i));
    expect(z.full).toBe(true);
    expectErrno(() => z.alloc(), 'ENOMEM');
    expect(z.stats()).toEqual({ blockSize: 64, blocks: 100, used: 100, bytes: 8192 });
  });

  it('has real bytes behind each block', () => {
    const k = identity();
    const z = new Zone(k, 32, 8);
    const a = z.alloc();
    const b = z.alloc();
    k.write(a, new Uint8Array(32).fill(0xaa));
    k.write32(b, 0x12345678);
    expect(k.read(a, 32).every((x) => x === 0xaa)).toBe(true);
    expect(k.read32(b)).toBe(0x12345678);
    expect(k.read32(a + 32)).toBe(0x12345678);
  });

  it('reuses freed blocks first (LIFO) and keeps alloc/free O(1)', () => {
    const k = identity();
    const z = new Zone(k, 16, 4);
    const [a, b, c] = [z.alloc(), z.alloc(), z.alloc()];
    z.free(b);
    z.free(a);
    expect(z.alloc()).toBe(a);
    expect(z.alloc()).toBe(b);
    expect(z.used).toBe(3);
    z.free(c);
    z.check();
  });

  it.each<[string, (z: Zone) => unknown]>([
    ['an address below the zone', (z) => z.free(z.vaddr - 16)],
    ['an address past the zone', (z) => z.free(z.vaddr + 16 * 4)],
    ['an address inside a block', (z) => z.free(z.vaddr + 3)],
    ['a block never allocated', (z) => z.free(z.vaddr + 48)],
    ['NaN', (z) => z.free(NaN)],
  ])('free of %s → EINVAL, zone unchanged', (_what, call) => {
    const k = identity();
    const z = new Zone(k, 16, 4);
    const a = z.alloc();
    z.alloc();
    expectErrno(() => call(z), 'EINVAL');
    expect(z.used).toBe(2);
    z.check();
    z.free(a);
    expectErrno(() => z.free(a), 'EINVAL');
    expect(z.used).toBe(1);
    z.check();
  });

  it.each<[number, number]>([
    [0, 4],
    [3, 4],
    [48, 4],
    [4, 4],
    [16, 0],
    [16, -1],
    [16, 1.5],
    [NaN, 4],
  ])('new Zone(kmap, %d, %d) → EINVAL, nothing allocated', (size, blocks) => {
    const k = identity();
    const before = k.alloc.info();
    expectErrno(() => new Zone(k, size, blocks), 'EINVAL');
    expect(k.alloc.info()).toEqual(before);
  });

  it('no memory for its pages → ENOMEM, nothing allocated', () => {
    const k = identity(64 * 1024);
    const before = k.alloc.info();
    expectErrno(() => new Zone(k, 4096, 32), 'ENOMEM');
    k.alloc.faults.failAt('frame', 1);
    expectErrno(() => new Zone(k, 16, 4), 'ENOMEM');
    expect(k.alloc.info()).toEqual(before);
  });

  it('counts block allocations at fault site zone; an injected failure changes nothing', () => {
    const k = identity();
    const z = new Zone(k, 16, 4);
    z.alloc();
    expect(k.alloc.faults.counts().zone).toBe(1);
    k.alloc.faults.failAt('zone', 1);
    expectErrno(() => z.alloc(), 'ENOMEM');
    expect(z.used).toBe(1);
    z.check();
    expect(z.alloc()).toBe(z.vaddr + 16);
  });

  it('release gives the pages back; busy → EBUSY; use after release → EINVAL', () => {
    const k = identity();
    const before = k.alloc.info();
    const z = new Zone(k, 128, 64);
    const a = z.alloc();
    expectErrno(() => z.release(), 'EBUSY');
    z.free(a);
    z.release();
    expect(k.alloc.info()).toEqual(before);
    expectErrno(() => z.alloc(), 'EINVAL');
    expectErrno(() => z.release(), 'EINVAL');
  });
});
