import { ARCHS, expectUnchanged } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { Kmalloc, ZONE_HEADER_SIZE } from '../src/index.js';
import type { KernelMemory } from '../src/index.js';
import { bootKernelMap, identity } from './kernels.js';

/*
 * The per-class magazines: freed blocks of a class with at least 64 × keepEmptyPer (256) blocks live are stacked in
 * front of its zones and handed out again first. These tests keep classes above that threshold, where the other
 * tests seldom go.
 */

// Blocks in magazines, all classes (the count is the first word of each class's 128-word row).
const inMagazines = (km: Kmalloc) => {
  const mag = (km as unknown as { mag: Int32Array }).mag;
  let n = 0;
  for (let r = 0; r < mag.length; r += 128) n += mag[r];
  return n;
};

const classOf = (km: Kmalloc, size: number) => km.stats().classes.find((c) => c.size === size) ?? { zones: 0, used: 0, free: 0 };

function churnTest(name: string, make: () => KernelMemory) {
  it(`${name}: a churn above the threshold keeps check() and exact figures; everything freed, every page is back`, () => {
    const k = make();
    const km = new Kmalloc(k);
    const boot = km.stats();
    const frames = k.alloc.info();
    const live: { va: number; cls: number }[] = [];
    let seed = 11;
    let most = 0;
    const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    // Three classes (64: the descriptors' own, 128, 1024), 400 blocks each, then 3000 frees and allocations.
    for (const size of [50, 100, 1000]) for (let n = 0; n < 400; n++) live.push({ va: km.kmalloc(size), cls: Kmalloc.sizeOf(size) });
    const figures = () => {
      const s = km.stats();
      expect(s.used).toBe(live.reduce((t, b) => t + b.cls, 0) + ZONE_HEADER_SIZE * (s.zones - 1));
    };
    for (let n = 0; n < 3000; n++) {
      const r = rnd();
      if (r % 2 === 0 || live.length < 1000) {
        const size = [50, 100, 1000][r % 3];
        const va = km.kmalloc(size);
        expect(live.some((b) => b.va === va)).toBe(false);
        live.push({ va, cls: Kmalloc.sizeOf(size) });
      } else {
        km.kfree(live.splice(r % live.length, 1)[0].va);
      }
      if (n % 250 === 0) {
        most = Math.max(most, inMagazines(km));
        km.check();
        figures();
      }
    }
    km.check();
    figures();
    expect(most).toBeGreaterThan(0);
    while (live.length > 0) {
      km.kfree(live.pop()!.va);
      if (live.length % 97 === 0) km.check();
    }
    km.check();
    expect(km.stats()).toEqual(boot);
    expect(k.alloc.info()).toEqual(frames);
  });
}

describe('kmalloc magazines', () => {
  churnTest('identity kernel, 4 KiB pages', () => identity(32 << 20));
  churnTest('identity kernel, 512 B pages', () => identity(16 << 20, 512));
  // The MMU kernel maps (the no-MMU boards' map entry pools are too small for this many zones).
  for (const arch of ARCHS.filter((a) => a.mmu)) churnTest(`kernel map on ${arch.name}`, () => bootKernelMap(arch));

  it('a block in a magazine: freeing it again → EINVAL with nothing changed; it is the next block of its class', () => {
    const k = identity(8 << 20);
    const km = new Kmalloc(k);
    const blocks = Array.from({ length: 300 }, () => km.kmalloc(100));
    const va = blocks.pop()!;
    km.kfree(va);
    km.check();
    expect(inMagazines(km)).toBe(1);
    expect(classOf(km, 128)).toMatchObject({ used: 299 });
    expect(km.blockSize(va)).toBe(-1);
    const snapshot = () => {
      km.check();
      return { km: km.stats(), frames: k.alloc.info() };
    };
    expectUnchanged(snapshot, () => km.kfree(va), 'EINVAL');
    expectUnchanged(snapshot, () => km.kfree(va + 16), 'EINVAL');
    expect(km.kmalloc(128)).toBe(va);
    expect(km.blockSize(va)).toBe(128);
    for (const b of [...blocks, va]) km.kfree(b);
    km.check();
    expect(km.stats().zones).toBe(1);
  });

  it('the fault injector counts every kmalloc and fails the armed one with nothing changed, magazine or not', () => {
    const k = identity(8 << 20);
    const km = new Kmalloc(k);
    const blocks = Array.from({ length: 300 }, () => km.kmalloc(4096));
    for (let n = 0; n < 10; n++) km.kfree(blocks.pop()!);
    const before = k.alloc.faults.counts().kmalloc;
    const snapshot = () => {
      km.check();
      return { km: km.stats(), frames: k.alloc.info() };
    };
    k.alloc.faults.failAt('kmalloc', 3);
    blocks.push(km.kmalloc(4096), km.kmalloc(4096));
    expectUnchanged(snapshot, () => km.kmalloc(4096), 'ENOMEM');
    blocks.push(km.kmalloc(4096));
    expect(k.alloc.faults.counts().kmalloc).toBe(before + 4);
    for (const b of blocks) km.kfree(b);
    km.check();
    expect(km.stats().zones).toBe(1);
  });

  it('a full magazine gives half back; a class falling below the threshold empties its magazine', () => {
    const k = identity(8 << 20);
    const km = new Kmalloc(k);
    const blocks = Array.from({ length: 400 }, () => km.kmalloc(4096));
    // 100 freed: one-page zones kept by the hysteresis or pinned by the magazine (at most 64), the rest released.
    for (let n = 0; n < 100; n++) km.kfree(blocks.pop()!);
    km.check();
    let c = classOf(km, 4096);
    expect(c.used).toBe(300);
    expect(c.zones - c.used).toBeLessThanOrEqual(64 + Math.floor(c.zones / 4));
    // Below 256 live, nothing is in a magazine: only kept zones are left, within the hysteresis' limit.
    while (blocks.length > 250) km.kfree(blocks.pop()!);
    km.check();
    c = classOf(km, 4096);
    expect(c.zones - c.used).toBeLessThanOrEqual(Math.floor(250 / 4));
    for (const b of blocks) km.kfree(b);
    expect(km.stats().zones).toBe(1);
  });

  it('magazines are drained before ENOMEM, and by trim()', () => {
    const k = identity(4 << 20);
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
    expect(got.length).toBeGreaterThan(600);
    // Every other block freed: the magazine holds some, the hysteresis keeps some zones.
    for (let i = 0; i < got.length; i += 2) km.kfree(got[i]);
    km.check();
    const kept = classOf(km, 4096);
    expect(kept.zones - kept.used).toBeGreaterThan(0);
    expect(inMagazines(km)).toBeGreaterThan(0);
    // 2 KiB blocks over every freed page: the magazine's blocks and the kept zones are given back before ENOMEM.
    const small: number[] = [];
    for (;;) {
      try {
        small.push(km.kmalloc(2048));
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOMEM');
        break;
      }
    }
    km.check();
    const page4k = classOf(km, 4096);
    expect(page4k.zones).toBe(page4k.used);
    expect(small.length).toBeGreaterThanOrEqual(2 * (got.length >> 1) - 8);
    for (const va of small) km.kfree(va);
    // trim() gives back what the magazines and the hysteresis still hold: one zone per block left.
    km.trim();
    km.check();
    const after = classOf(km, 4096);
    expect(after.zones).toBe(after.used);
  });

  it('keepEmptyPer 0: no magazine, every emptied zone goes back at once', () => {
    const k = identity(8 << 20);
    const km = new Kmalloc(k, { keepEmptyPer: 0 });
    const blocks = Array.from({ length: 400 }, () => km.kmalloc(4096));
    for (let n = 0; n < 100; n++) {
      const free = k.alloc.info().free;
      km.kfree(blocks.pop()!);
      // Its page at once (and a descriptor zone's, when that empties too).
      expect(k.alloc.info().free).toBeGreaterThanOrEqual(free + 4096);
    }
    km.check();
  });
});
