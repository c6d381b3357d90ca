import { PageOwner } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { AMAP_HEADER_SIZE, AMAP_SLOT_SIZE, Amap, NO_ANON } from '../src/amap.js';
import { ANON_SIZE } from '../src/anon.js';
import { bareContext, errnoOf } from './helpers.js';

describe('AnonTable', () => {
  it('an anon owns its frame; the last unref frees frame and heap block', () => {
    const { ctx, alloc, kmalloc } = bareContext();
    const free0 = alloc.info().free;
    const used0 = kmalloc.stats().used;
    const pa = ctx.frame(4096);
    const a = ctx.anons.create(pa);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(ctx.anons.pa(a)).toBe(pa);
    expect(ctx.anons.refs(a)).toBe(1);
    expect(ctx.charged).toBe(ANON_SIZE);
    expect(kmalloc.stats().used).toBeGreaterThanOrEqual(used0 + ANON_SIZE);
    expect(alloc.get(pa)?.owner).toBe(PageOwner.APP);
    ctx.anons.ref(a);
    ctx.anons.check(new Map([[a, 2]]));
    ctx.anons.unref(a);
    expect(alloc.get(pa)?.free).toBe(false);
    ctx.anons.unref(a);
    expect(alloc.get(pa)?.free).toBe(true);
    expect(alloc.info().free).toBe(free0);
    expect(kmalloc.stats().used).toBe(used0);
    expect(ctx.anons.live).toBe(0);
    ctx.anons.check(new Map());
  });

  it('reuses freed indices and grows past its first capacity', () => {
    const { ctx } = bareContext();
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) ids.push(ctx.anons.create(ctx.frame(4096)));
    expect(new Set(ids).size).toBe(200);
    ctx.anons.unref(ids[5]);
    const again = ctx.anons.create(ctx.frame(4096));
    expect(again).toBe(ids[5]);
    ctx.anons.check(new Map(ids.map((i) => [i, 1])));
    for (const i of ids) ctx.anons.unref(i);
    expect(ctx.anons.live).toBe(0);
  });

  it('check() catches a count that disagrees with the references held', () => {
    const { ctx } = bareContext();
    const a = ctx.anons.create(ctx.frame(4096));
    expect(() => ctx.anons.check(new Map([[a, 2]]))).toThrow(/references/);
    expect(() => ctx.anons.check(new Map())).toThrow(/references/);
    ctx.anons.unref(a);
    expect(() => ctx.anons.check(new Map([[a, 1]]))).toThrow(/freed anon/);
  });

  it('fault injection at anon (and kmalloc) fails the creation with nothing allocated', () => {
    const { ctx, alloc, kmalloc } = bareContext();
    const pa = ctx.frame(4096);
    const used = kmalloc.stats().used;
    alloc.faults.failAt('anon', 1);
    expect(ctx.anons.create(pa)).toBe(-1);
    alloc.faults.failAt('kmalloc', 1);
    expect(ctx.anons.create(pa)).toBe(-1);
    expect(kmalloc.stats().used).toBe(used);
    expect(ctx.anons.live).toBe(0);
    const a = ctx.anons.create(pa);
    expect(a).toBeGreaterThanOrEqual(0);
    ctx.anons.unref(a);
  });
});

// Two lineages: the amap's creator and a fork twin.
const H = {};
const T = {};

describe('Amap', () => {
  it('is charged header + 4 bytes a slot, starts empty with one reference', () => {
    const { ctx, kmalloc } = bareContext();
    const used = kmalloc.stats().used;
    const a = Amap.create(ctx, 100, H);
    expect(ctx.charged).toBe(AMAP_HEADER_SIZE + AMAP_SLOT_SIZE * 100);
    expect(kmalloc.stats().used - used).toBeGreaterThanOrEqual(Kmalloc_size(AMAP_HEADER_SIZE + AMAP_SLOT_SIZE * 100));
    expect(a.refs).toBe(1);
    expect([...a.slots].every((s) => s === NO_ANON)).toBe(true);
    expect(ctx.amaps.has(a)).toBe(true);
    a.put(H);
    expect(ctx.amaps.has(a)).toBe(false);
    expect(kmalloc.stats().used).toBe(used);
  });

  it('getAnons/putAnons count owners; put frees pages whose last owner goes', () => {
    const { ctx, alloc } = bareContext();
    const free0 = alloc.info().free;
    const a = Amap.create(ctx, 4, H);
    for (const i of [0, 2]) a.slots[i] = ctx.anons.create(ctx.frame(4096));
    a.getAnons(0, 4);
    expect(ctx.anons.refs(a.slots[0])).toBe(2);
    a.putAnons(0, 4, false);
    expect(ctx.anons.refs(a.slots[0])).toBe(1);
    expect(a.resident()).toBe(2);
    a.putAnons(0, 4, true);
    expect(a.resident()).toBe(0);
    a.put(H);
    expect(alloc.info().free).toBe(free0);
    expect(ctx.anons.live).toBe(0);
  });

  it('detach moves a range of slots to a new amap without touching anon counts', () => {
    const { ctx } = bareContext();
    const a = Amap.create(ctx, 8, H);
    for (let i = 0; i < 8; i++) a.slots[i] = ctx.anons.create(ctx.frame(4096));
    a.ref(T);
    const b = a.detach(2, 6, T);
    expect(a.refs).toBe(1);
    expect(b.refs).toBe(1);
    expect([...b.slots]).toEqual([...a.slots.subarray(2, 6)]);
    for (let i = 0; i < 8; i++) expect(ctx.anons.refs(a.slots[i])).toBe(1);
    // Detach failing (heap exhausted) leaves the original as it was.
    ctx.alloc.faults.failAt('amap', 1);
    a.ref(T);
    expect(errnoOf(() => a.detach(0, 8, T))).toBe('ENOMEM');
    expect(a.refs).toBe(2);
    expect(a.twinned).toBe(true);
    b.put(T);
    a.put(T);
    expect(a.twinned).toBe(false);
    a.putAnons(0, 8, true);
    a.put(H);
    expect(ctx.anons.live).toBe(0);
  });

  it('refuses a bad size and injected exhaustion with nothing allocated', () => {
    const { ctx, kmalloc } = bareContext();
    const used = kmalloc.stats().used;
    expect(errnoOf(() => Amap.create(ctx, 0, H))).toBe('EINVAL');
    expect(errnoOf(() => Amap.create(ctx, 1.5, H))).toBe('EINVAL');
    ctx.alloc.faults.failAt('amap', 1);
    expect(errnoOf(() => Amap.create(ctx, 4, H))).toBe('ENOMEM');
    expect(errnoOf(() => Amap.create(ctx, 3_000_000, H))).toBe('ENOMEM');
    expect(kmalloc.stats().used).toBe(used);
    expect(ctx.amaps.size).toBe(0);
  });
});

function Kmalloc_size(n: number): number {
  return n <= 16 ? 16 : 2 ** Math.ceil(Math.log2(n));
}
