import { expectErrno } from '@vmlayers/testkit';
import { ARCHS, NOT_UINTS } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { Kmalloc } from '../src/index.js';
import { bootKernelMap, identity } from './kernels.js';

describe('Kmalloc options', () => {
  it.each([
    ['null', null],
    ['a number', 4],
    ['classesPerOctave 2', { classesPerOctave: 2 }],
    ['classesPerOctave "4"', { classesPerOctave: '4' }],
    ['keepEmptyZones -1', { keepEmptyZones: -1 }],
    ['keepEmptyZones 1.5', { keepEmptyZones: 1.5 }],
    ['keepEmptyZones NaN', { keepEmptyZones: NaN }],
  ])('options %s → EINVAL, no page taken', (_n, options) => {
    const k = identity();
    const frames = k.alloc.info();
    expectErrno(() => new Kmalloc(k, options as never), 'EINVAL');
    expect(k.alloc.info()).toEqual(frames);
  });

  it('four classes per octave: 16, 20, 24, 28, 32, 40 … 8 MiB, each request in the smallest class that holds it', () => {
    const km = new Kmalloc(identity(256 << 20), { classesPerOctave: 4 });
    expect([1, 16, 17, 20, 21, 33, 100, 1000, 4097, 5000, 2 ** 23].map((s) => km.classSize(s))).toEqual([
      16, 16, 20, 20, 24, 40, 112, 1024, 5120, 5120, 2 ** 23,
    ]);
    for (const bad of NOT_UINTS) expectErrno(() => km.classSize(bad.value as number), 'EINVAL', bad.name);
    expectErrno(() => km.classSize(2 ** 23 + 1), 'ENOMEM');
    // Every class serves, with real, non-overlapping bytes.
    const blocks: { va: number; size: number }[] = [];
    for (let size = 16; ; size = km.classSize(size + 1)) {
      const va = km.kmalloc(size);
      km.kmap.write(va + size - 1, Uint8Array.of(size & 0xff));
      blocks.push({ va, size });
      km.check();
      if (size === 2 ** 23) break;
    }
    expect(blocks.length).toBe(77);
    for (const b of blocks) expect(km.kmap.read(b.va + b.size - 1, 1)[0]).toBe(b.size & 0xff);
    const byClass = new Map(km.stats().classes.map((c) => [c.size, c]));
    // Zones of finer classes take 1, 2, 4 or 8 pages, leaving at most a sixteenth uncovered where one of those can.
    expect(byClass.get(2560)).toMatchObject({ zones: 1, used: 1, free: 2, bytes: 8192, waste: 512 });
    expect(byClass.get(3584)).toMatchObject({ zones: 1, used: 1, free: 8, bytes: 32768, waste: 512 });
    for (const b of blocks) km.kfree(b.va);
    km.check();
    expect(km.stats().zones).toBe(1);
  });

  it('keepEmptyZones: emptied zones are kept up to the limit, reused, given back by trim()', () => {
    const k = identity();
    const km = new Kmalloc(k, { keepEmptyZones: 2 });
    const boot = km.stats();
    const frames = k.alloc.info();
    const pages = Array.from({ length: 5 }, () => km.kmalloc(4096));
    for (const va of pages) km.kfree(va);
    km.check();
    expect(km.stats().classes.find((c) => c.size === 4096)).toMatchObject({ zones: 2, used: 0, free: 2 });
    // A kept zone is reused before a new one is made: no page is taken.
    const free = k.alloc.info().free;
    const again = km.kmalloc(4096);
    expect(k.alloc.info().free).toBe(free);
    expect(pages).toContain(again);
    km.kfree(again);
    expect(km.trim()).toBe(2);
    km.check();
    expect(km.stats()).toEqual(boot);
    expect(k.alloc.info()).toEqual(frames);
  });

  it('keepEmptyZones: kept zones are given back before ENOMEM', () => {
    const k = identity(1 << 20);
    const km = new Kmalloc(k, { keepEmptyZones: 1000 });
    const got: number[] = [];
    for (;;) {
      try {
        got.push(km.kmalloc(2048));
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOMEM');
        break;
      }
    }
    for (const va of got) km.kfree(va);
    km.check();
    expect(km.stats().classes.find((c) => c.size === 2048)!.used).toBe(0);
    // Every page is held by an empty 2 KiB zone; 4 KiB zones can still be made, the kept ones given back first.
    const big: number[] = [];
    for (let i = 0; i < got.length / 2 - 4; i++) big.push(km.kmalloc(4096));
    km.check();
    for (const va of big) km.kfree(va);
    km.trim();
    km.check();
    expect(km.stats().zones).toBe(1);
  });

  it.each(ARCHS.map((a) => [a.name, a] as const))('%s kernel map: keepEmptyZones and four classes per octave conserve pages after trim()', (_n, arch) => {
    const k = bootKernelMap(arch);
    const km = new Kmalloc(k, { keepEmptyZones: 3, classesPerOctave: 4 });
    const boot = km.stats();
    const frames = k.alloc.info();
    const live: number[] = [];
    let seed = 7;
    for (let n = 0; n < 400; n++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      if (live.length > 0 && seed % 3 === 0) km.kfree(live.splice(seed % live.length, 1)[0]);
      else live.push(km.kmalloc(1 + (seed % 5000)));
      if (n % 50 === 0) km.check();
    }
    for (const va of live) km.kfree(va);
    km.check();
    km.trim();
    expect(km.stats()).toEqual(boot);
    expect(k.alloc.info()).toEqual(frames);
  });
});
