import { describe, expect, it } from 'vitest';
import { PageAllocator, PageOwner, PhysicalMemory, boards } from '../src/index.js';
import { SECTION_FRAMES } from '../src/frame-table.js';
import { code } from './support.js';

const PAGE = 4096;
const APP = { owner: PageOwner.APP };

// The allocator's internals that the hooks touch (the tests that corrupt them, and the metadata figures).
interface Inner {
  frames: { metadataBytes: number; count: number };
  mc: Uint16Array[];
  lw: Int32Array[];
  countOver: Map<number, number>;
  mappedFrames: number;
  lruSections: number;
  slowFrees: number;
  trip: number;
  kernelPages: number;
  wmLow: number;
}
const inner = (a: PageAllocator) => a as unknown as Inner;

/** A 1 MiB board at 0 (256 frames), or the named preset. */
function make(board = 'ram'): PageAllocator {
  const map = board === 'ram' ? boards.ram(1 << 20) : boards.get(board);
  return new PageAllocator(new PhysicalMemory(map), { pageSize: PAGE });
}

// Hostile values for any address or value argument: none is a page-aligned address or an int32.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const JUNK: any[] = [NaN, Infinity, -Infinity, '0', '4096', null, undefined, {}, [], [4096], true, 2 ** 60, -PAGE, 0.5, PAGE + 0.5, 10n, Symbol('pa'), () => 0];

/** Everything observable about the allocator's frames and hooks, for "nothing changed". */
function snapshot(a: PageAllocator, pas: number[]) {
  return JSON.stringify({
    info: a.info(),
    free: a.freePages(),
    wm: a.watermarks(),
    counts: pas.map((pa) => a.mapCount(pa)),
    lru: pas.map((pa) => a.lru(pa)),
    get: pas.map((pa) => a.get(pa)),
    meta: inner(a).frames.metadataBytes,
  });
}

describe('mapping counts', () => {
  it('count per frame, returned by addMapping/removeMapping; 0 for free, outside RAM and never mapped', () => {
    const a = make();
    const pa = a.allocPa(4 * PAGE);
    expect(a.mapCount(pa)).toBe(0);
    expect(a.addMapping(pa)).toBe(1);
    expect(a.addMapping(pa)).toBe(2);
    // The frames of a block count separately, tails included.
    expect(a.addMapping(pa + 3 * PAGE)).toBe(1);
    expect([0, 1, 2, 3].map((i) => a.mapCount(pa + i * PAGE))).toEqual([2, 0, 0, 1]);
    a.check();
    expect(a.removeMapping(pa)).toBe(1);
    expect(a.removeMapping(pa + 3 * PAGE)).toBe(0);
    expect(a.removeMapping(pa)).toBe(0);
    expect(inner(a).mappedFrames).toBe(0);
    expect(inner(a).slowFrees).toBe(0);
    a.check();
    // A free frame (the per-CPU list's and the buddy's), a page-aligned address outside RAM, one never mapped.
    const freePa = a.allocPa(PAGE);
    a.freePa(freePa);
    expect(a.mapCount(freePa)).toBe(0);
    expect(a.mapCount(0xf_0000)).toBe(0);
    expect(a.mapCount(2 ** 40)).toBe(0);
    expect(a.mapCount(pa + PAGE)).toBe(0);
  });

  it('every owner and the head or a tail of any block: a boot frame too', () => {
    const a = make('riscv-virt-64m');
    // riscv-virt's firmware is reserved at the bottom of DRAM: a BOOT frame, allocated from boot on.
    const boot = 0x8000_0000;
    expect(a.get(boot)).toMatchObject({ owner: PageOwner.BOOT, free: false });
    expect(a.addMapping(boot)).toBe(1);
    const app = a.allocPa(16 * PAGE, APP);
    expect(a.addMapping(app + 15 * PAGE)).toBe(1);
    a.check();
    expect(code(() => a.freePa(boot))).toBe('EBUSY');
    expect(code(() => a.freePa(app))).toBe('EBUSY');
    a.removeMapping(boot);
    a.removeMapping(app + 15 * PAGE);
    a.freePa(boot);
    a.freePa(app);
    a.check();
  });

  it('addMapping on a free frame, outside RAM or junk, removeMapping at 0, mapCount of junk → EINVAL, nothing changed', () => {
    const a = make();
    const pa = a.allocPa(2 * PAGE);
    a.addMapping(pa);
    const freePa = a.allocPa(PAGE);
    a.freePa(freePa);
    const before = snapshot(a, [pa, pa + PAGE, freePa]);
    for (const bad of JUNK) {
      expect(code(() => a.addMapping(bad)), String(bad)).toBe('EINVAL');
      expect(code(() => a.removeMapping(bad)), String(bad)).toBe('EINVAL');
      expect(code(() => a.mapCount(bad)), String(bad)).toBe('EINVAL');
    }
    // Page-aligned, but no allocated frame: free (per-CPU list, buddy list, a block's tail), outside RAM.
    for (const p of [freePa, 0xf_0000, 1 << 20, 2 ** 40, 2 ** 53 - PAGE]) {
      expect(code(() => a.addMapping(p)), String(p)).toBe('EINVAL');
      expect(code(() => a.removeMapping(p)), String(p)).toBe('EINVAL');
    }
    // Unaligned inside an allocated frame.
    expect(code(() => a.addMapping(pa + 8))).toBe('EINVAL');
    // Count 0: never mapped, and mapped then unmapped.
    expect(code(() => a.removeMapping(pa + PAGE))).toBe('EINVAL');
    expect(snapshot(a, [pa, pa + PAGE, freePa])).toBe(before);
    a.check();
    a.removeMapping(pa);
    expect(code(() => a.removeMapping(pa))).toBe('EINVAL');
    a.check();
  });

  it('counts above 65535 stay exact (a shared zero page mapped by many processes)', () => {
    const a = make();
    const zero = a.allocPa(PAGE);
    const other = a.allocPa(PAGE);
    const N = 70_000;
    for (let i = 1; i <= N; i++) expect(a.addMapping(zero) === i).toBe(true);
    a.addMapping(other);
    expect(a.mapCount(zero)).toBe(N);
    expect(inner(a).countOver.size).toBe(1);
    expect(inner(a).mappedFrames).toBe(2);
    a.check();
    for (let i = N - 1; i >= 65_534; i--) expect(a.removeMapping(zero) === i).toBe(true);
    expect(a.mapCount(zero)).toBe(65_534);
    expect(inner(a).countOver.size).toBe(0);
    a.check();
    // Up across the edge and back again, one step at a time.
    expect(a.addMapping(zero)).toBe(65_535);
    expect(a.addMapping(zero)).toBe(65_536);
    expect(a.removeMapping(zero)).toBe(65_535);
    expect(a.removeMapping(zero)).toBe(65_534);
    a.check();
    expect(code(() => a.freePa(zero))).toBe('EBUSY');
    for (let i = 65_533; i >= 0; i--) expect(a.removeMapping(zero) === i).toBe(true);
    a.freePa(zero);
    expect(a.mapCount(zero)).toBe(0);
    a.check();
  });

  it('freeing a block with a mapped frame → EBUSY through freePa, free and freeExact, nothing freed', () => {
    const a = make();
    const one = a.allocPa(PAGE);
    const block = a.alloc(8 * PAGE)!;
    const run = a.allocExact(5 * PAGE);
    a.addMapping(one);
    a.addMapping(block.pa + 7 * PAGE);
    a.addMapping(run + 4 * PAGE);
    const before = snapshot(a, [one, block.pa, run]);
    const blocksBefore = JSON.stringify(a.pageMap());
    expect(code(() => a.freePa(one))).toBe('EBUSY');
    expect(code(() => a.free(block))).toBe('EBUSY');
    expect(code(() => a.freePa(block.pa))).toBe('EBUSY');
    // The run's first block (4 pages) is not mapped, its second is: nothing of the run is freed.
    expect(code(() => a.freeExact(run, 5 * PAGE))).toBe('EBUSY');
    expect(snapshot(a, [one, block.pa, run])).toBe(before);
    expect(JSON.stringify(a.pageMap())).toBe(blocksBefore);
    a.check();
    a.removeMapping(one);
    a.removeMapping(block.pa + 7 * PAGE);
    a.removeMapping(run + 4 * PAGE);
    a.freePa(one);
    a.free(block);
    a.freeExact(run, 5 * PAGE);
    expect(a.info().free).toBe(1 << 20);
    a.check();
  });

  it('freePa keeps its fast path while no frame is mapped, pinned or has LRU words', () => {
    const a = make();
    const pa = a.allocPa(PAGE);
    a.addMapping(pa);
    a.pin(pa, PAGE);
    expect(inner(a).slowFrees).toBe(2);
    a.removeMapping(pa);
    a.unpin(pa, PAGE);
    expect(inner(a).slowFrees).toBe(0);
    a.freePa(pa);
    a.check();
  });
});

describe('LRU words', () => {
  it('0 at allocation, set and read per frame, 0 again once freed (and on reallocation)', () => {
    const a = make();
    const pa = a.allocPa(2 * PAGE);
    expect(a.lru(pa)).toBe(0);
    a.setLru(pa, -(2 ** 31));
    a.setLru(pa + PAGE, 2 ** 31 - 1);
    expect(a.lru(pa)).toBe(-(2 ** 31));
    expect(a.lru(pa + PAGE)).toBe(2 ** 31 - 1);
    a.check();
    a.freePa(pa);
    expect(a.lru(pa)).toBe(0);
    expect(a.lru(pa + PAGE)).toBe(0);
    a.check();
    // The per-CPU list is LIFO: the same block comes back, with words 0.
    expect(a.allocPa(2 * PAGE)).toBe(pa);
    expect([a.lru(pa), a.lru(pa + PAGE)]).toEqual([0, 0]);
    // One page too, through the one-page fast path of allocPa.
    const p1 = a.allocPa(PAGE);
    a.setLru(p1, 7);
    a.freePa(p1);
    expect(a.allocPa(PAGE)).toBe(p1);
    expect(a.lru(p1)).toBe(0);
    // -0 is 0.
    a.setLru(p1, -0);
    expect(Object.is(a.lru(p1), 0)).toBe(true);
    a.check();
  });

  it('bad pa or a value that is not an int32 → EINVAL, nothing changed; lru of a free frame is 0', () => {
    const a = make();
    const pa = a.allocPa(PAGE);
    a.setLru(pa, 5);
    const freePa = a.allocPa(PAGE);
    a.freePa(freePa);
    const before = snapshot(a, [pa, freePa]);
    for (const bad of JUNK) {
      expect(code(() => a.setLru(bad, 1)), String(bad)).toBe('EINVAL');
      expect(code(() => a.lru(bad)), String(bad)).toBe('EINVAL');
    }
    for (const v of [...JUNK.filter((x) => x !== -PAGE), 2 ** 31, -(2 ** 31) - 1, 1.5, 2 ** 32]) {
      expect(code(() => a.setLru(pa, v)), String(v)).toBe('EINVAL');
    }
    // A free frame, outside RAM: setLru refuses both, lru reads 0 for the free one only.
    expect(code(() => a.setLru(freePa, 1))).toBe('EINVAL');
    expect(code(() => a.setLru(0xf_0000 + (1 << 20), 1))).toBe('EINVAL');
    expect(code(() => a.lru(1 << 20))).toBe('EINVAL');
    expect(code(() => a.lru(2 ** 40))).toBe('EINVAL');
    expect(a.lru(freePa)).toBe(0);
    expect(snapshot(a, [pa, freePa])).toBe(before);
    a.check();
  });
});

describe('lazy per-section arrays', () => {
  it('no hook in use: metadata unchanged by allocations and frees; each array appears with its first use', () => {
    const a = make('riscv-virt-64m');
    const m0 = inner(a).frames.metadataBytes;
    const pas = Array.from({ length: 100 }, (_, i) => a.allocPa(PAGE << i % 3));
    for (const pa of pas) a.freePa(pa);
    expect(inner(a).frames.metadataBytes).toBe(m0);
    const pa = a.allocPa(PAGE);
    // Reads and a zero LRU value allocate nothing.
    a.mapCount(pa);
    a.lru(pa);
    a.setLru(pa, 0);
    expect(inner(a).frames.metadataBytes).toBe(m0);
    // 64 MiB: one section of 16384 frames (6 bytes each); counts add 2 bytes a frame, LRU words 4.
    expect(m0).toBe(16384 * 6);
    a.addMapping(pa);
    expect(inner(a).frames.metadataBytes).toBe(16384 * 8);
    a.setLru(pa, 1);
    expect(inner(a).frames.metadataBytes).toBe(16384 * 12);
    a.check();
  });

  it('riscv-virt-4g filled page by page: 6 bytes per frame, 12 with a mapping count and an LRU word on every frame', () => {
    const a = make('riscv-virt-4g');
    const pas: number[] = [];
    for (let pa = a.allocPa(PAGE); pa >= 0; pa = a.allocPa(PAGE)) pas.push(pa);
    const frames = inner(a).frames.count;
    const m1 = inner(a).frames.metadataBytes;
    expect(m1 / frames).toBeCloseTo(6, 1);
    // Only the sections used get arrays: one frame of the first section.
    a.addMapping(pas[0]);
    a.setLru(pas[0], 1);
    expect(inner(a).frames.metadataBytes - m1).toBe(SECTION_FRAMES * 6);
    for (const pa of pas) {
      a.addMapping(pa);
      a.setLru(pa, 1);
    }
    const m2 = inner(a).frames.metadataBytes;
    expect(m2).toBe(2 * m1);
    expect(m2 / frames).toBeLessThanOrEqual(16);
    expect(m2 / frames).toBeCloseTo(12, 1);
  }, 60_000);
});

describe('watermarks', () => {
  it('default all 0: no behaviour change (APP allocations run RAM dry, no callback)', () => {
    const a = make();
    expect(a.watermarks()).toEqual({ min: 0, low: 0, high: 0 });
    expect(a.onLowMemory).toBe(null);
    let calls = 0;
    a.onLowMemory = () => calls++;
    let n = 0;
    while (a.allocPa(PAGE, APP) >= 0) n++;
    expect(n).toBe(256);
    expect(calls).toBe(0);
    expect(a.freePages()).toBe(0);
    a.check();
  });

  it('setWatermarks validates: integers, 0 ≤ min ≤ low ≤ high ≤ RAM pages, else EINVAL and nothing changed', () => {
    const a = make();
    a.setWatermarks({ min: 1, low: 2, high: 3 });
    const bad: unknown[] = [
      null,
      undefined,
      5,
      'min',
      {},
      { min: 1, low: 2 },
      { min: NaN, low: 2, high: 3 },
      { min: '1', low: 2, high: 3 },
      { min: 1, low: 2.5, high: 3 },
      { min: -1, low: 2, high: 3 },
      { min: 1, low: 2, high: 2 ** 60 },
      { min: 1, low: 2, high: 10n },
      { min: 1, low: null, high: 3 },
      { min: 3, low: 2, high: 3 },
      { min: 1, low: 4, high: 3 },
      { min: 1, low: 2, high: 257 },
      { min: 1, low: 2, high: Infinity },
    ];
    for (const w of bad) {
      expect(code(() => a.setWatermarks(w as never)), JSON.stringify(w, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe('EINVAL');
      expect(a.watermarks()).toEqual({ min: 1, low: 2, high: 3 });
    }
    for (const f of [1, 'f', {}, undefined]) expect(code(() => (a.onLowMemory = f as never))).toBe('EINVAL');
    expect(a.onLowMemory).toBe(null);
    a.check();
    // The bounds themselves are fine, and watermarks() is a copy.
    a.setWatermarks({ min: 0, low: 0, high: 256 });
    a.setWatermarks({ min: 256, low: 256, high: 256 });
    const w = a.watermarks();
    w.min = 0;
    expect(a.watermarks()).toEqual({ min: 256, low: 256, high: 256 });
    a.check();
  });

  it('freePages counts per-CPU lists as free and follows every allocation and free', () => {
    const a = make();
    expect(a.freePages()).toBe(256);
    const p = a.allocPa(PAGE);
    const q = a.allocPa(4 * PAGE, APP);
    const r = a.allocExact(3 * PAGE);
    expect(a.freePages()).toBe(256 - 8);
    a.freePa(p);
    expect(a.freePages()).toBe(256 - 7);
    a.freePa(q);
    a.freeExact(r, 3 * PAGE);
    expect(a.freePages()).toBe(a.info().free / PAGE);
    expect(a.freePages()).toBe(256);
    a.check();
  });

  it('below min, APP allocations are refused (counted by the fault injector) while KERNEL and BOOT use the reserve', () => {
    const a = make();
    a.setWatermarks({ min: 64, low: 64, high: 64 });
    let n = 0;
    while (a.allocPa(PAGE, APP) >= 0) n++;
    expect(n).toBe(256 - 64);
    expect(a.freePages()).toBe(64);
    const counted = a.faults.counts().frame;
    expect(a.alloc(PAGE, APP)).toBe(null);
    expect(a.allocPa(2 * PAGE, APP)).toBe(-1);
    expect(a.allocExact(3 * PAGE, APP)).toBe(-1);
    expect(a.faults.counts().frame).toBe(counted + 3);
    expect(a.freePages()).toBe(64);
    a.check();
    // The kernel (and boot) may take the reserve down to nothing.
    expect(a.allocPa(PAGE)).toBeGreaterThanOrEqual(0);
    expect(a.alloc(2 * PAGE, { owner: PageOwner.BOOT })).not.toBe(null);
    expect(a.allocExact(5 * PAGE)).toBeGreaterThanOrEqual(0);
    while (a.allocPa(PAGE) >= 0) n++;
    expect(a.freePages()).toBe(0);
    a.check();
  });

  it('an APP request is refused when it would take free pages below min, a smaller one still fits', () => {
    const a = make();
    a.setWatermarks({ min: 200, low: 200, high: 200 });
    // 256 free: 32 pages leave 224, 64 pages would leave 192.
    expect(a.allocPa(64 * PAGE, APP)).toBe(-1);
    const p = a.allocPa(32 * PAGE, APP);
    expect(p).toBeGreaterThanOrEqual(0);
    // An exact run counts the pages it keeps: 24 leave exactly 200.
    expect(a.allocExact(25 * PAGE, APP)).toBe(-1);
    expect(a.allocExact(24 * PAGE, APP)).toBeGreaterThanOrEqual(0);
    expect(a.freePages()).toBe(200);
    a.check();
  });

  it('first-fit placement honours min too', () => {
    const a = new PageAllocator(new PhysicalMemory(boards.ram(1 << 20)), { pageSize: PAGE, exactPlacement: 'first-fit' });
    a.setWatermarks({ min: 250, low: 250, high: 250 });
    expect(a.allocExact(7 * PAGE, APP)).toBe(-1);
    expect(a.allocExact(6 * PAGE, APP)).toBe(0);
    expect(a.allocExact(PAGE)).toBe(6 * PAGE);
    a.check();
  });

  it('onLowMemory fires once per crossing of low, from every allocation path, with the free page count', () => {
    const a = make();
    a.setWatermarks({ min: 0, low: 100, high: 150 });
    const seen: number[] = [];
    a.onLowMemory = (free) => {
      seen.push(free);
      a.check();
    };
    const held: number[] = [];
    while (a.freePages() > 101) held.push(a.allocPa(PAGE));
    expect(seen).toEqual([]);
    held.push(a.allocPa(PAGE));
    expect(seen).toEqual([]);
    // 100 → 99: the crossing (the one-page fast path).
    held.push(a.allocPa(PAGE));
    expect(seen).toEqual([99]);
    // Further allocations below low do not call it again.
    held.push(a.allocPa(PAGE), a.allocPa(4 * PAGE), a.allocExact(3 * PAGE));
    expect(seen).toEqual([99]);
    // Back above low by frees, down again: each path calls it once per crossing.
    const crossWith = (alloc: () => number, pages: number, exact = false) => {
      // Free pages exactly low + pages - 1 before: the allocation crosses.
      while (a.freePages() < 100 + pages - 1) {
        const pa = held.pop()!;
        const info = a.get(pa)!;
        if (info.pa === pa) a.freePa(pa);
        else throw new Error('held a non-head');
      }
      while (a.freePages() > 100 + pages - 1) held.push(a.allocPa(PAGE));
      const n = seen.length;
      const pa = alloc();
      expect(pa).toBeGreaterThanOrEqual(0);
      expect(seen.length).toBe(n + 1);
      expect(seen[n]).toBe(99);
      if (exact) a.freeExact(pa, pages * PAGE);
      else a.freePa(pa);
    };
    crossWith(() => a.allocPa(PAGE), 1);
    crossWith(() => a.allocPa(4 * PAGE), 4);
    crossWith(() => a.alloc(32 * PAGE)!.pa, 32);
    crossWith(() => a.allocPa(PAGE, APP), 1);
    crossWith(() => a.allocExact(3 * PAGE), 3, true);
    // Starting below low is no crossing.
    while (a.freePages() >= 100) held.push(a.allocPa(PAGE));
    const n = seen.length;
    held.push(a.allocPa(PAGE), a.allocPa(2 * PAGE));
    expect(seen.length).toBe(n);
    a.check();
    // No callback, or low 0: nothing is called.
    a.onLowMemory = null;
    for (const pa of held.splice(0)) a.freePa(pa);
    while (a.allocPa(PAGE) >= 0);
    expect(seen.length).toBe(n);
    a.check();
  });

  it('onLowMemory is never re-entered: a callback that frees and allocates does not call itself', () => {
    const a = make();
    a.setWatermarks({ min: 10, low: 100, high: 150 });
    const held: number[] = [];
    let depth = 0;
    let maxDepth = 0;
    let calls = 0;
    a.onLowMemory = (free) => {
      calls++;
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      // A reclaimer: frees up to high, then allocates for itself, crossing low again on the way down.
      while (a.freePages() < 150) a.freePa(held.pop()!);
      const mine: number[] = [];
      while (a.freePages() >= 90) mine.push(a.allocPa(PAGE));
      // Its own allocations below min: KERNEL ones may use the reserve, APP ones not.
      while (a.freePages() > 10) mine.push(a.allocPa(PAGE));
      expect(a.allocPa(PAGE, APP)).toBe(-1);
      expect(a.allocPa(PAGE)).toBeGreaterThanOrEqual(0);
      a.check();
      for (const pa of mine) a.freePa(pa);
      a.freePa(a.allocPa(PAGE));
      expect(free).toBe(99);
      depth--;
    };
    while (a.freePages() > 100) held.push(a.allocPa(PAGE, APP));
    held.push(a.allocPa(PAGE, APP));
    expect(calls).toBe(1);
    expect(maxDepth).toBe(1);
    a.check();
  });

  it('a callback that throws: the error reaches the allocation, which is given back', () => {
    const a = make();
    a.setWatermarks({ min: 0, low: 200, high: 200 });
    while (a.freePages() > 200) a.allocPa(PAGE);
    a.onLowMemory = () => {
      throw new Error('reclaimer failed');
    };
    const before = a.info();
    expect(() => a.allocPa(PAGE)).toThrow('reclaimer failed');
    expect(() => a.alloc(8 * PAGE)).toThrow('reclaimer failed');
    expect(() => a.allocExact(3 * PAGE)).toThrow('reclaimer failed');
    expect(a.info()).toEqual(before);
    a.check();
    // Without a callback the allocation stands.
    a.onLowMemory = null;
    expect(a.allocPa(PAGE)).toBeGreaterThanOrEqual(0);
    a.check();
  });
});

describe('check() catches a broken hook invariant', () => {
  const setup = () => {
    const a = make();
    const pa = a.allocPa(PAGE);
    a.addMapping(pa);
    a.setLru(pa, 3);
    const freePa = a.allocPa(PAGE);
    a.freePa(freePa);
    a.check();
    return { a, pa, freePa, i: inner(a) };
  };
  it.each<[string, (s: ReturnType<typeof setup>) => void, RegExp]>([
    ['a mapped free frame', (s) => (s.i.mc[0][s.freePa / PAGE] = 1), /counted mapped|free frame .* has mapping count/],
    ['a free frame with an LRU word', (s) => (s.i.lw[0][s.freePa / PAGE] = 1), /free frame .* has LRU word/],
    ['the mapped-frame counter off by one', (s) => s.i.mappedFrames++, /counted mapped/],
    ['the fast-path counter off by one', (s) => s.i.slowFrees--, /slow-path counter/],
    ['an overflowed count word without its exact count', (s) => (s.i.mc[0][s.pa / PAGE] = 0xffff), /overflowed/],
    ['the free counter off by one', (s) => s.i.kernelPages--, /accounts|counted free/],
    ['watermarks out of order', (s) => (s.i.wmLow = 5), /out of order|threshold/],
    ['a stale threshold', (s) => (s.i.trip = 3), /threshold/],
  ])('%s', (_what, corrupt, message) => {
    const s = setup();
    corrupt(s);
    expect(() => s.a.check()).toThrow(message);
  });
});
