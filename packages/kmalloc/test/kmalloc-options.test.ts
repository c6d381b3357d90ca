import { boards } from '@vmlayers/phys';
import { expectErrno } from '@vmlayers/testkit';
import { ARCHS, NOT_UINTS } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { KEEP_EMPTY_PER, Kmalloc } from '../src/index.js';
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
    ['keepEmptyPer -1', { keepEmptyPer: -1 }],
    ['keepEmptyPer 2.5', { keepEmptyPer: 2.5 }],
    ['keepEmptyPer "4"', { keepEmptyPer: '4' }],
    ['keepEmptyPer 2^21', { keepEmptyPer: 2 ** 21 }],
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
    // Requests up to 5000 bytes; on a small no-MMU board (256 KiB) up to a hundredth of RAM, so that the live set
    // fits as it does on the others.
    const most = Math.min(5000, Math.floor(boards.get(arch.board).ramSize / 100));
    let seed = 7;
    for (let n = 0; n < 400; n++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      if (live.length > 0 && seed % 3 === 0) km.kfree(live.splice(seed % live.length, 1)[0]);
      else live.push(km.kmalloc(1 + (seed % most)));
      if (n % 50 === 0) km.check();
    }
    for (const va of live) km.kfree(va);
    km.check();
    km.trim();
    expect(km.stats()).toEqual(boot);
    expect(k.alloc.info()).toEqual(frames);
  });

  it('hysteresis (default keepEmptyPer 4): an emptied zone is kept while its class has 4 zones in use per kept one, and none is left once the class is empty', () => {
    const k = identity();
    const km = new Kmalloc(k);
    expect(km.keepEmptyPer).toBe(KEEP_EMPTY_PER);
    const boot = km.stats();
    const frames = k.alloc.info();
    const page4k = () => km.stats().classes.find((c) => c.size === 4096) ?? { zones: 0, used: 0 };
    // 4 KiB blocks: one zone each.
    const blocks = Array.from({ length: 12 }, () => km.kmalloc(4096));
    km.kfree(blocks.pop()!);
    // 11 zones in use: 2 may be kept.
    expect(page4k()).toMatchObject({ zones: 12, used: 11 });
    km.kfree(blocks.pop()!);
    km.kfree(blocks.pop()!);
    // 9 in use: 2 kept; the third emptied zone went back at once.
    expect(page4k()).toMatchObject({ zones: 11, used: 9 });
    km.check();
    // A kept zone is reused first: no page taken.
    const free = k.alloc.info().free;
    blocks.push(km.kmalloc(4096));
    expect(k.alloc.info().free).toBe(free);
    // The limit falls as the class shrinks: 7 in use keep 1, 3 in use keep none.
    while (blocks.length > 7) km.kfree(blocks.pop()!);
    expect(page4k()).toMatchObject({ zones: 8, used: 7 });
    while (blocks.length > 3) km.kfree(blocks.pop()!);
    expect(page4k()).toMatchObject({ zones: 3, used: 3 });
    km.check();
    for (const va of blocks) km.kfree(va);
    km.check();
    // Conservation without trim(): every page and descriptor is back.
    expect(km.stats()).toEqual(boot);
    expect(k.alloc.info()).toEqual(frames);
  });

  it('keepEmptyPer 0: every emptied zone goes back at once, as the original', () => {
    const k = identity();
    const km = new Kmalloc(k, { keepEmptyPer: 0 });
    const blocks = Array.from({ length: 40 }, () => km.kmalloc(2048));
    const frames = k.alloc.info();
    km.kfree(blocks[0]);
    km.kfree(blocks[1]);
    expect(k.alloc.info().free).toBe(frames.free + 4096);
    expect(km.trim()).toBe(0);
    km.check();
  });

  it('the descriptor class keeps no zone by the proportion: descriptor zones would keep each other', () => {
    const k = identity(64 << 20);
    const km = new Kmalloc(k);
    const boot = km.stats();
    const frames = k.alloc.info();
    // 400 one-page zones take 400 descriptors: 7 descriptor zones, all in use.
    const blocks = Array.from({ length: 400 }, () => km.kmalloc(4096));
    expect(km.stats().classes.find((c) => c.size === 64)!.zones).toBeGreaterThanOrEqual(7);
    for (const va of blocks) {
      km.kfree(va);
      km.check();
    }
    expect(km.stats()).toEqual(boot);
    expect(k.alloc.info()).toEqual(frames);
  });

  it('the hysteresis is given back by trim() and before ENOMEM', () => {
    const k = identity(1 << 20);
    const km = new Kmalloc(k);
    const got: number[] = [];
    for (;;) {
      try {
        got.push(km.kmalloc(4096));
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOMEM');
        break;
      }
    }
    // Free every other block: the class keeps about a third of the emptied zones.
    for (let i = 0; i < got.length; i += 2) km.kfree(got[i]);
    km.check();
    const kept = km.stats().classes.find((c) => c.size === 4096)!;
    expect(kept.zones - kept.used).toBeGreaterThan(0);
    // 2 KiB blocks filling every freed page: the kept 4 KiB zones are given back before ENOMEM.
    for (let i = 0; i < got.length - 16; i++) km.kmalloc(2048);
    km.check();
    const page4k = km.stats().classes.find((c) => c.size === 4096)!;
    expect(page4k.zones).toBe(page4k.used);
    expect(km.trim()).toBe(0);
  });
});
