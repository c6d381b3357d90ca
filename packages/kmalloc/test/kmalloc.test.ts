import type { Errno } from '@vmlayers/phys';
import { expectErrno } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { Kmalloc, ZONE_HEADER_SIZE } from '../src/index.js';
import { identity } from './kernels.js';

const PAGE = 4096;

function boot(ram = 64 << 20, pageSize = PAGE) {
  const k = identity(ram, pageSize);
  const km = new Kmalloc(k);
  km.check();
  return { k, km, frames: k.alloc.info(), stats: km.stats() };
}

describe('Kmalloc', () => {
  it('boots with one page of zone descriptors', () => {
    const { km, stats } = boot();
    expect(stats).toEqual({
      classes: [{ size: 64, zones: 1, used: 0, free: 64, bytes: PAGE, waste: 0 }],
      used: 0,
      free: 64 * 64,
      zones: 1,
      bytes: PAGE,
      headerBlocks: 64,
    });
    km.check();
  });

  it('serves every class from 16 B to 8 MiB with real bytes', () => {
    const { k, km } = boot();
    for (let shift = 4; shift <= 23; shift++) {
      const size = 2 ** shift;
      const va = km.kmalloc(size - (shift > 4 ? 1 : 0));
      const n = Math.min(size, 64);
      const fill = Uint8Array.from({ length: n }, (_, i) => (i + shift) & 0xff);
      k.write(va, fill);
      k.write(va + size - n, fill);
      expect(k.read(va, n)).toEqual(fill);
      expect(k.read(va + size - n, n)).toEqual(fill);
      km.check();
    }
    const s = km.stats();
    expect(s.classes.map((c) => c.size)).toEqual(Array.from({ length: 20 }, (_, i) => 2 ** (i + 4)));
    // One zone per class, plus the descriptor class serving both descriptors and the 64-byte request.
    expect(s.zones).toBe(20);
  });

  it('rounds requests up: 1 → 16, 17 → 32, 4097 → 8192', () => {
    expect([1, 16, 17, 100, 4097, 2 ** 23].map(Kmalloc.sizeOf)).toEqual([16, 16, 32, 128, 8192, 2 ** 23]);
    const { km } = boot();
    km.kmalloc(17);
    expect(km.stats().classes.find((c) => c.size === 32)).toMatchObject({ zones: 1, used: 1, free: 127 });
  });

  it('a zone is one page for small classes and one block for classes above a page', () => {
    const { km } = boot();
    for (let i = 0; i < 3; i++) km.kmalloc(3 * PAGE);
    km.kmalloc(200);
    const s = km.stats();
    expect(s.classes.find((c) => c.size === 4 * PAGE)).toEqual({ size: 4 * PAGE, zones: 3, used: 3, free: 0, bytes: 12 * PAGE * 1, waste: 0 });
    expect(s.classes.find((c) => c.size === 256)).toEqual({ size: 256, zones: 1, used: 1, free: 15, bytes: PAGE, waste: 0 });
  });

  it('releases a zone as soon as it is empty, and its descriptor with it', () => {
    const { k, km, frames, stats } = boot();
    const a = km.kmalloc(1000);
    const b = km.kmalloc(1000);
    expect(km.stats().zones).toBe(2);
    km.kfree(a);
    expect(km.stats().zones).toBe(2);
    km.kfree(b);
    km.check();
    expect(km.stats()).toEqual(stats);
    expect(k.alloc.info()).toEqual(frames);
  });

  it('keeps one descriptor spare: a second descriptor zone appears before the last one is used', () => {
    const { km } = boot();
    const big: number[] = [];
    // Each 8 KiB block is a zone of its own and takes one 64-byte descriptor.
    for (let i = 0; i < 70; i++) {
      big.push(km.kmalloc(8192));
      km.check();
      expect(km.stats().headerBlocks).toBeGreaterThanOrEqual(1);
    }
    expect(km.stats().classes.find((c) => c.size === ZONE_HEADER_SIZE)!.zones).toBe(2);
    for (const va of big) {
      km.kfree(va);
      km.check();
    }
    expect(km.stats().zones).toBe(1);
  });

  it.each<[string, number, Errno]>([
    ['0 bytes', 0, 'EINVAL'],
    ['negative', -16, 'EINVAL'],
    ['NaN', NaN, 'EINVAL'],
    ['fractional', 10.5, 'EINVAL'],
    ['above 8 MiB', 2 ** 23 + 1, 'ENOMEM'],
    ['2^53', 2 ** 53, 'EINVAL'],
  ])('kmalloc(%s) → %s, nothing changed', (_what, size, errno) => {
    const { k, km, frames, stats } = boot();
    expectErrno(() => km.kmalloc(size), errno);
    expect(km.stats()).toEqual(stats);
    expect(k.alloc.info()).toEqual(frames);
  });

  it('kfree of what was not allocated → EINVAL, nothing changed', () => {
    const { km } = boot();
    const a = km.kmalloc(100);
    km.kmalloc(100);
    const before = km.stats();
    for (const bad of [a + 1, a + 128 * 5, 0, -1, NaN, a - 4096 * 16]) {
      expectErrno(() => km.kfree(bad), 'EINVAL');
      expect(km.stats()).toEqual(before);
    }
    km.kfree(a);
    expectErrno(() => km.kfree(a), 'EINVAL');
    km.check();
  });

  it('exhaustion at any allocation inside kmalloc → ENOMEM, every structure as it was', () => {
    // A request that needs a descriptor zone (spare rule) and a data zone: frames at several points.
    for (let n = 0; n < 8; n++) {
      const { k, km } = boot();
      const live: number[] = [];
      for (let i = 0; i < 63; i++) live.push(km.kmalloc(8192));
      const frames = k.alloc.info();
      const stats = km.stats();
      k.alloc.faults.failAfter(n);
      let result: string | number;
      try {
        result = km.kmalloc(8192);
      } catch (e) {
        result = (e as { code: string }).code;
      }
      k.alloc.faults.reset();
      km.check();
      if (result === 'ENOMEM') {
        expect(km.stats()).toEqual(stats);
        expect(k.alloc.info()).toEqual(frames);
      } else {
        expect(typeof result).toBe('number');
        expect(km.stats().used).toBe(stats.used + 8192 + ZONE_HEADER_SIZE * 2);
      }
    }
  });

  it('out of frames → ENOMEM and recovers once memory is freed', () => {
    const { km } = boot(1 << 20);
    const got: number[] = [];
    for (;;) {
      try {
        got.push(km.kmalloc(PAGE));
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOMEM');
        break;
      }
    }
    km.check();
    expect(got.length).toBeGreaterThan(200);
    km.kfree(got.pop()!);
    expect(km.kmalloc(PAGE)).toBeGreaterThan(0);
  });

  it('counts kmalloc calls at fault site kmalloc', () => {
    const { k, km, stats } = boot();
    km.kmalloc(16);
    expect(k.alloc.faults.counts().kmalloc).toBe(1);
    k.alloc.faults.failAt('kmalloc', 1);
    const before = km.stats();
    expectErrno(() => km.kmalloc(16), 'ENOMEM');
    expect(km.stats()).toEqual(before);
    expect(before).not.toEqual(stats);
  });

  it('works on 512-byte pages (armv7m): descriptor zones of 16 blocks', () => {
    const { km, stats } = boot(512 * 1024, 512);
    expect(stats.classes[0]).toEqual({ size: 64, zones: 1, used: 0, free: 16, bytes: 1024, waste: 0 });
    const a = km.kmalloc(16);
    expect(km.stats().classes.find((c) => c.size === 16)).toMatchObject({ zones: 1, free: 31 });
    km.kfree(a);
    expect(km.stats()).toEqual(stats);
  });
});
