import { describe, expect, it } from 'vitest';
import { FAULT_SITES, FaultInjector } from '../src/index.js';

describe('FaultInjector', () => {
  it('knows the sites DESIGN lists, and issue 15\'s reclaim sites (rmap entries, swap slots)', () => {
    expect(FAULT_SITES).toEqual(['frame', 'ptable', 'map-entry', 'zone', 'kmalloc', 'object', 'amap', 'anon', 'rmap', 'swap']);
  });

  it('counts every attempt per site and fails nothing by default', () => {
    const f = new FaultInjector();
    const results = ['frame', 'frame', 'ptable', 'anon'].map((s) => f.hit(s as 'frame'));
    expect(results).toEqual([false, false, false, false]);
    expect(f.counts()).toMatchObject({ frame: 2, ptable: 1, anon: 1, zone: 0, failed: 0 });
    expect(f.armed).toBe(false);
  });

  it('failAt(site, n) fails exactly the n-th allocation at that site', () => {
    const f = new FaultInjector();
    f.failAt('zone', 3);
    expect(f.armed).toBe(true);
    const seq = [f.hit('zone'), f.hit('frame'), f.hit('zone'), f.hit('frame'), f.hit('zone'), f.hit('zone')];
    expect(seq).toEqual([false, false, false, false, true, false]);
    expect(f.armed).toBe(false);
    expect(f.counts().failed).toBe(1);
  });

  it('failAt on two sites at once', () => {
    const f = new FaultInjector();
    f.failAt('frame', 1);
    f.failAt('ptable', 2);
    expect([f.hit('ptable'), f.hit('frame'), f.hit('ptable'), f.hit('frame')]).toEqual([false, true, true, false]);
  });

  it('failAfter(n) lets n succeed, then fails everything until reset', () => {
    const f = new FaultInjector();
    f.failAfter(2);
    expect([f.hit('frame'), f.hit('anon'), f.hit('kmalloc'), f.hit('frame')]).toEqual([false, false, true, true]);
    f.reset();
    expect(f.hit('frame')).toBe(false);
    expect(f.counts()).toMatchObject({ frame: 1, failed: 0 });
  });

  it('failAfter(0) fails the next allocation', () => {
    const f = new FaultInjector();
    f.failAfter(0);
    expect(f.hit('amap')).toBe(true);
  });

  it('rejects bad arguments with EINVAL', () => {
    const f = new FaultInjector();
    expect(() => f.failAt('disk' as 'frame', 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => f.failAt('frame', 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => f.failAt('frame', 1.5)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => f.failAfter(-1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(f.armed).toBe(false);
  });
});
