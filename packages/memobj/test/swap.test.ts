import fc from 'fast-check';
import { FaultInjector } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { SwapDevice } from '../src/swap.js';
import { errnoOf } from './helpers.js';

const PS = 512;
const page = (v: number) => new Uint8Array(PS).fill(v);

describe('SwapDevice', () => {
  it('hands out slots next fit, counts references, and frees a slot at its last reference', () => {
    const d = new SwapDevice(40, PS, new FaultInjector());
    const a = [d.alloc(), d.alloc(), d.alloc()];
    expect(a).toEqual([0, 1, 2]);
    d.unref(1);
    // Next fit: after the last slot given, not back to the hole.
    expect(d.alloc()).toBe(3);
    d.ref(0);
    expect(d.refs(0)).toBe(2);
    d.unref(0);
    expect(d.refs(0)).toBe(1);
    expect(d.info()).toMatchObject({ total: 40, used: 3 });
    d.check();
  });

  it('keeps each page it is given, reads zeros from a slot never written, and wraps around when full', () => {
    const d = new SwapDevice(20, PS, new FaultInjector());
    const slots = Array.from({ length: 20 }, () => d.alloc());
    expect(d.alloc()).toBe(-1);
    slots.forEach((s) => d.write(s, page(s + 1)));
    slots.forEach((s) => expect(d.read(s)).toEqual(page(s + 1)));
    d.unref(5);
    expect(d.alloc()).toBe(5);
    expect(d.read(5)).toEqual(page(0));
    expect(d.info()).toMatchObject({ writes: 20, reads: 21, used: 20 });
    d.check();
  });

  it('refuses bad slots and pages with EINVAL, and fails like a full device when the fault injector says so', () => {
    const f = new FaultInjector();
    const d = new SwapDevice(8, PS, f);
    const s = d.alloc();
    for (const bad of [-1, 8, 1.5, NaN, '0', null]) expect(errnoOf(() => d.refs(bad as number))).toBe('EINVAL');
    expect(errnoOf(() => d.unref(3))).toBe('EINVAL'); // free
    expect(errnoOf(() => d.write(s, new Uint8Array(PS - 1)))).toBe('EINVAL');
    expect(errnoOf(() => d.write(s, [1, 2] as never))).toBe('EINVAL');
    f.failAt('swap', 1);
    expect(d.alloc()).toBe(-1);
    expect(d.info().used).toBe(1);
    for (const bad of [0, -1, 2 ** 24 + 1, 1.5]) expect(errnoOf(() => new SwapDevice(bad, PS, f))).toBe('EINVAL');
    d.check();
  });

  it('agrees with a model of slots, references and bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant({ op: 'alloc' as const }),
            fc.record({ op: fc.constant('ref' as const), pick: fc.nat() }),
            fc.record({ op: fc.constant('unref' as const), pick: fc.nat() }),
            fc.record({ op: fc.constant('write' as const), pick: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
          ),
          { maxLength: 80 },
        ),
        (ops) => {
          const d = new SwapDevice(37, PS, new FaultInjector());
          const model = new Map<number, { refs: number; v: number }>();
          for (const o of ops) {
            const live = [...model.keys()];
            const pick = 'pick' in o && live.length > 0 ? live[o.pick % live.length] : -1;
            if (o.op === 'alloc') {
              const s = d.alloc();
              if (model.size === 37) expect(s).toBe(-1);
              else {
                expect(model.has(s)).toBe(false);
                model.set(s, { refs: 1, v: 0 });
              }
            } else if (pick < 0) continue;
            else if (o.op === 'ref') {
              d.ref(pick);
              model.get(pick)!.refs++;
            } else if (o.op === 'unref') {
              d.unref(pick);
              if (--model.get(pick)!.refs === 0) model.delete(pick);
            } else {
              d.write(pick, page(o.v));
              model.get(pick)!.v = o.v;
            }
            d.check();
            expect(d.used).toBe(model.size);
            for (const [s, m] of model) {
              expect(d.refs(s)).toBe(m.refs);
              expect(d.read(s)[PS - 1]).toBe(m.v);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
