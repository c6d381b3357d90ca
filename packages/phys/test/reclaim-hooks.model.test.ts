import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageAllocator, PageOwner, PhysicalMemory, boards } from '../src/index.js';
import { code } from './support.js';

const PAGE = 4096;
const FRAMES = 64;

/*
 * A model of reclaim's hooks: the live blocks with each frame's mapping count and LRU word, the free page count,
 * the watermarks and the callback's crossings. Success of an allocation depends on fragmentation, which the buddy
 * model (buddy.model.test.ts) covers; here a success or a failure is taken as the allocator reports it, except
 * where the watermarks decide: an APP request that would take free pages below min must fail, a crossing of low
 * must call back exactly once.
 */
type Op =
  | { kind: 'alloc'; log: number; app: boolean; exact: number }
  | { kind: 'free'; pick: number }
  | { kind: 'map'; pick: number; frame: number }
  | { kind: 'unmap'; pick: number; frame: number }
  | { kind: 'lru'; pick: number; frame: number; value: number }
  | { kind: 'watermarks'; min: number; low: number; high: number }
  | { kind: 'junk'; which: number; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('alloc' as const), log: fc.integer({ min: 0, max: 3 }), app: fc.boolean(), exact: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('map' as const), pick: fc.nat(), frame: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat(), frame: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lru' as const), pick: fc.nat(), frame: fc.nat(), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('watermarks' as const), min: fc.integer({ min: -2, max: 70 }), low: fc.integer({ min: -2, max: 70 }), high: fc.integer({ min: -2, max: 70 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), which: fc.nat(), pick: fc.nat() }) },
);

interface Block {
  pa: number;
  pages: number;
  exact: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const JUNK: any[] = [NaN, '0', null, undefined, 2 ** 60, 0.5, -PAGE, 10n, {}, FRAMES * PAGE, PAGE + 1];

function run(ops: Op[]): void {
  const a = new PageAllocator(new PhysicalMemory(boards.ram(FRAMES * PAGE)), { pageSize: PAGE });
  const live: Block[] = [];
  const counts = new Map<number, number>();
  const lru = new Map<number, number>();
  let free = FRAMES;
  let wm = { min: 0, low: 0, high: 0 };
  let calls = 0;
  let expectedCalls = 0;
  a.onLowMemory = (n) => {
    calls++;
    expect(n).toBe(a.freePages());
  };
  const frameOf = (pick: number, frame: number) => {
    const b = live[pick % live.length];
    return b.pa + (frame % b.pages) * PAGE;
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'alloc': {
        const pages = op.exact > 0 ? op.exact : 1 << op.log;
        const opts = op.app ? { owner: PageOwner.APP } : undefined;
        const pa = op.exact > 0 ? a.allocExact(pages * PAGE, opts) : a.allocPa(pages * PAGE, opts);
        const refusedByMin = op.app && wm.min > 0 && free - pages < wm.min;
        if (refusedByMin) expect(pa).toBe(-1);
        if (pa < 0) break;
        // allocPa hands out the whole power-of-two block.
        for (let i = 0; i < pages; i++) {
          expect(a.mapCount(pa + i * PAGE)).toBe(0);
          expect(a.lru(pa + i * PAGE)).toBe(0);
        }
        if (free >= wm.low && free - pages < wm.low) expectedCalls++;
        free -= pages;
        live.push({ pa, pages, exact: op.exact > 0 });
        break;
      }
      case 'free': {
        if (live.length === 0) break;
        const k = op.pick % live.length;
        const b = live[k];
        let mapped = false;
        for (let i = 0; i < b.pages; i++) if ((counts.get(b.pa + i * PAGE) ?? 0) > 0) mapped = true;
        const c = code(() => (b.exact ? a.freeExact(b.pa, b.pages * PAGE) : a.freePa(b.pa)));
        if (mapped) {
          expect(c).toBe('EBUSY');
          break;
        }
        expect(c).toBe(undefined);
        for (let i = 0; i < b.pages; i++) {
          lru.delete(b.pa + i * PAGE);
          expect(a.lru(b.pa + i * PAGE)).toBe(0);
          expect(a.mapCount(b.pa + i * PAGE)).toBe(0);
        }
        live.splice(k, 1);
        free += b.pages;
        break;
      }
      case 'map': {
        if (live.length === 0) break;
        const pa = frameOf(op.pick, op.frame);
        const n = (counts.get(pa) ?? 0) + 1;
        expect(a.addMapping(pa)).toBe(n);
        counts.set(pa, n);
        break;
      }
      case 'unmap': {
        if (live.length === 0) break;
        const pa = frameOf(op.pick, op.frame);
        const n = counts.get(pa) ?? 0;
        if (n === 0) {
          expect(code(() => a.removeMapping(pa))).toBe('EINVAL');
          break;
        }
        expect(a.removeMapping(pa)).toBe(n - 1);
        if (n === 1) counts.delete(pa);
        else counts.set(pa, n - 1);
        break;
      }
      case 'lru': {
        if (live.length === 0) break;
        const pa = frameOf(op.pick, op.frame);
        a.setLru(pa, op.value);
        lru.set(pa, op.value);
        break;
      }
      case 'watermarks': {
        const ok = op.min >= 0 && op.min <= op.low && op.low <= op.high && op.high <= FRAMES;
        const c = code(() => a.setWatermarks({ min: op.min, low: op.low, high: op.high }));
        expect(c).toBe(ok ? undefined : 'EINVAL');
        if (ok) wm = { min: op.min, low: op.low, high: op.high };
        break;
      }
      case 'junk': {
        const j = JUNK[op.which % JUNK.length];
        const probes = [() => a.addMapping(j), () => a.removeMapping(j), () => a.setLru(j, 1), () => a.freePa(j), () => a.lru(j)];
        // None of JUNK is an allocated frame's address (FRAMES * PAGE is page-aligned but outside RAM).
        expect(code(probes[op.pick % probes.length])).toBe('EINVAL');
        if (live.length === 0) break;
        // As an LRU value, the numbers among JUNK that are int32s are fine.
        const int32 = typeof j === 'number' && (j | 0) === j;
        expect(code(() => a.setLru(frameOf(op.pick, 0), j))).toBe(int32 ? undefined : 'EINVAL');
        if (int32) lru.set(frameOf(op.pick, 0), j);
        break;
      }
    }
    a.check();
    expect(a.freePages()).toBe(free);
    expect(a.info().free).toBe(free * PAGE);
    expect(a.watermarks()).toEqual(wm);
    expect(calls).toBe(expectedCalls);
    for (const b of live) {
      for (let i = 0; i < b.pages; i++) {
        const pa = b.pa + i * PAGE;
        expect(a.mapCount(pa)).toBe(counts.get(pa) ?? 0);
        expect(a.lru(pa)).toBe(lru.get(pa) ?? 0);
      }
    }
  }
}

describe('reclaim hooks against a model', () => {
  it('alloc, free, addMapping, removeMapping, setLru, setWatermarks and junk: check() and the model after every step', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => run(ops)),
      { numRuns: 300 },
    );
  });
});
