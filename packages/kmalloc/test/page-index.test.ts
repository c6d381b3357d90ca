import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageIndex } from '../src/internal/page-index.js';

describe('PageIndex (internal): page number → zone, window and hash', () => {
  it('agrees with a Map over page numbers near and far (window growth, hash, backward-shift deletion)', () => {
    const pn = fc.oneof(
      fc.integer({ min: 0, max: 4096 }),
      fc.integer({ min: 0x3fc0000, max: 0x3fc0000 + 3000 }),
      fc.integer({ min: 0, max: 2 ** 41 }),
      fc.integer({ min: 2 ** 30, max: 2 ** 30 + 64 }),
    );
    const op = fc.record({ set: fc.boolean(), pn, zone: fc.nat({ max: 1000 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const index = new PageIndex(16);
        const ref = new Map<number, number>();
        for (const o of ops) {
          if (o.set) {
            index.set(o.pn, o.zone);
            ref.set(o.pn, o.zone);
          } else {
            const victim = ref.size > 0 ? [...ref.keys()][o.zone % ref.size] : o.pn;
            index.delete(victim);
            ref.delete(victim);
          }
          expect(index.entries).toBe(ref.size);
          for (const [k, v] of ref) expect(index.get(k)).toBe(v);
          expect(index.get(o.pn + 1)).toBe(ref.get(o.pn + 1) ?? -1);
        }
        const seen = new Map<number, number>();
        index.forEach((k, v) => seen.set(k, v));
        expect(seen).toEqual(ref);
      }),
      { numRuns: 200 },
    );
  });
});
