import { FaultInjector } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryPool, NIL } from '../src/entry-pool.js';
import { GapTree } from '../src/gap-tree.js';

const LO = 16;
const HI = 400;

/** Brute force: lowest a ≥ max(hint, LO) with [a, a+size) free, else lowest anywhere, else -1. */
function firstFit(ranges: [number, number][], size: number, hint: number): number {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const fits = (a: number) => a >= LO && a + size <= HI && sorted.every(([s, e]) => a + size <= s || a >= e);
  const candidates = [LO, ...sorted.map(([, e]) => e), Math.max(hint, LO)].filter(fits).sort((x, y) => x - y);
  const above = candidates.filter((a) => a >= hint);
  if (above.length > 0) return above[0];
  return candidates.length > 0 ? candidates[0] : -1;
}

describe('GapTree', () => {
  it('keeps order, balance and the gap augmentation through random inserts, removals and resizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: HI })), { minLength: 1, maxLength: 120, size: 'max' }),
        (steps) => {
          const pool = new EntryPool(1000, new FaultInjector());
          const tree = new GapTree(pool, LO, HI);
          const live = new Map<number, [number, number]>();
          const out: number[] = [];
          for (const [kind, size, hint] of steps) {
            if (kind <= 1) {
              const a = tree.findFree(size, hint);
              expect(a).toBe(firstFit([...live.values()], size, hint));
              if (a < 0) continue;
              expect(pool.take(1, out)).toBe(true);
              const e = out.pop()!;
              pool.start[e] = a;
              pool.end[e] = a + size;
              tree.insert(e);
              live.set(e, [a, a + size]);
            } else if (kind === 2 && live.size > 0) {
              const keys = [...live.keys()];
              const e = keys[hint % keys.length];
              tree.remove(e);
              pool.put(e);
              live.delete(e);
            } else if (live.size > 0) {
              // Shrink an entry from the front, as a head munmap does.
              const keys = [...live.keys()];
              const e = keys[hint % keys.length];
              const [s, en] = live.get(e)!;
              if (en - s < 2) continue;
              pool.start[e] = s + 1;
              tree.resized(e);
              live.set(e, [s + 1, en]);
            }
            const ids = tree.check();
            expect(ids.length).toBe(live.size);
            pool.check(live.size);
            for (const [e, [s, en]] of live) {
              expect(tree.containing(s)).toBe(e);
              expect(tree.containing(en - 1)).toBe(e);
            }
          }
          expect(tree.containing(HI)).toBe(NIL);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stays logarithmic in height with 100 000 entries', () => {
    const pool = new EntryPool(100_000, new FaultInjector());
    const tree = new GapTree(pool, 0, 1e9);
    const out: number[] = [];
    pool.take(100_000, out);
    out.forEach((e, i) => {
      pool.start[e] = i * 2;
      pool.end[e] = i * 2 + 1;
      tree.insert(e);
    });
    expect(pool.height[tree.root]).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(100_000 + 2)));
    expect(tree.findFree(2, 0)).toBe(199_999);
    expect(tree.findFree(1, 0)).toBe(1);
    expect(tree.largestGap()).toBe(1e9 - 199_999);
    tree.check();
  });

  it('fails a take all or nothing when the pool or the injector says so', () => {
    const faults = new FaultInjector();
    const pool = new EntryPool(3, faults);
    const out: number[] = [];
    expect(pool.take(4, out)).toBe(false);
    expect(pool.used).toBe(0);
    faults.failAt('map-entry', 2);
    expect(pool.take(2, out)).toBe(false);
    expect(out).toEqual([]);
    expect(pool.take(3, out)).toBe(true);
    expect(pool.free).toBe(0);
    pool.check(3);
  });
});
