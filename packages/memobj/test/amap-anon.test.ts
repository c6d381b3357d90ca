import { MapFlags, PageOwner, Prot } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { describe, expect, it } from 'vitest';
import { AMAP_CHUNK_SLOTS, AMAP_HEADER_SIZE, AMAP_SLOT_SIZE, Amap, NO_ANON } from '../src/amap.js';
import { ANON_SIZE } from '../src/anon.js';
import { createVm } from '../src/index.js';
import type { VmEvent } from '../src/index.js';
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
  it('is charged its header, then one chunk of slots per range that gets an anon; starts empty with one reference', () => {
    const { ctx, kmalloc } = bareContext();
    const used = kmalloc.stats().used;
    // A slot for every page of 1 TiB: the header is all it costs until a page gets an anon.
    const a = Amap.create(ctx, 2 ** 28, H);
    expect(ctx.charged).toBe(AMAP_HEADER_SIZE);
    expect(kmalloc.stats().used - used).toBeGreaterThanOrEqual(Kmalloc_size(AMAP_HEADER_SIZE));
    expect(a.refs).toBe(1);
    expect(a.get(0)).toBe(NO_ANON);
    expect(a.get(2 ** 28 - 1)).toBe(NO_ANON);
    a.reserve(2 ** 27 + 5);
    a.reserve(2 ** 27 + 6);
    expect(ctx.charged).toBe(AMAP_HEADER_SIZE + AMAP_SLOT_SIZE * AMAP_CHUNK_SLOTS);
    expect(a.heapBytes).toBe(ctx.charged);
    a.check();
    expect(ctx.amaps.has(a)).toBe(true);
    a.put(H);
    expect(ctx.amaps.has(a)).toBe(false);
    expect(kmalloc.stats().used).toBe(used);
  });

  it('getAnons/putAnons count owners; put frees pages whose last owner goes', () => {
    const { ctx, alloc } = bareContext();
    const free0 = alloc.info().free;
    const a = Amap.create(ctx, 4, H);
    for (const i of [0, 2]) {
      a.reserve(i);
      a.set(i, ctx.anons.create(ctx.frame(4096)));
    }
    a.getAnons(0, 4);
    expect(ctx.anons.refs(a.get(0))).toBe(2);
    a.putAnons(0, 4, false);
    expect(ctx.anons.refs(a.get(0))).toBe(1);
    expect(a.resident()).toBe(2);
    a.putAnons(0, 4, true);
    expect(a.resident()).toBe(0);
    // The emptied chunk went back to the heap.
    expect(a.heapBytes).toBe(AMAP_HEADER_SIZE);
    a.put(H);
    expect(alloc.info().free).toBe(free0);
    expect(ctx.anons.live).toBe(0);
  });

  it('detach moves a range of slots to a new amap without touching anon counts', () => {
    const { ctx } = bareContext();
    const a = Amap.create(ctx, 8, H);
    for (let i = 0; i < 8; i++) {
      a.reserve(i);
      a.set(i, ctx.anons.create(ctx.frame(4096)));
    }
    a.ref(T);
    const b = a.detach(2, 6, T);
    expect(a.refs).toBe(1);
    expect(b.refs).toBe(1);
    expect([0, 1, 2, 3].map((i) => b.get(i))).toEqual([2, 3, 4, 5].map((i) => a.get(i)));
    for (let i = 0; i < 8; i++) expect(ctx.anons.refs(a.get(i))).toBe(1);
    // Detach failing (heap exhausted: the header, or the chunk after it) leaves the original as it was.
    for (const n of [1, 2]) {
      const charged = ctx.charged;
      ctx.alloc.faults.failAt('amap', n);
      a.ref(T);
      expect(errnoOf(() => a.detach(0, 8, T))).toBe('ENOMEM');
      expect(ctx.charged).toBe(charged);
      a.put(T);
      ctx.alloc.faults.reset();
    }
    a.ref(T);
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
    expect(kmalloc.stats().used).toBe(used);
    expect(ctx.amaps.size).toBe(0);
    // Any size: 3,000,000 slots (past the 8 MiB a dense slot array could take) cost a header.
    const big = Amap.create(ctx, 3_000_000, H);
    expect(ctx.charged).toBe(AMAP_HEADER_SIZE);
    big.put(H);
  });
});

function Kmalloc_size(n: number): number {
  return n <= 16 ? 16 : 2 ** Math.ceil(Math.log2(n));
}

describe('sparse amaps on a whole vm', () => {
  it('one byte touched in a 1 GiB private mapping costs kernel heap for that page, and a 16 GiB mapping can be written', () => {
    const vm = createVm({ arch: sv39 });
    const p = vm.spawn();
    const k0 = vm.meminfo().kmalloc.used;
    const va = p.mmap({ size: 2 ** 30, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
    p.write(va + 2 ** 29 + 5, new Uint8Array([1]));
    // Header, one chunk of 128 slots, one anon: about 600 bytes (a dense amap took 2 MiB).
    expect(vm.meminfo().kmalloc.used - k0).toBeLessThan(1024);
    const huge = p.mmap({ size: 2 ** 34, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
    p.write(huge, new Uint8Array([2]));
    p.write(huge + 2 ** 34 - 1, new Uint8Array([3]));
    expect([p.read(huge, 1)[0], p.read(huge + 2 ** 34 - 1, 1)[0], p.read(va + 2 ** 29 + 5, 1)[0]]).toEqual([2, 3, 1]);
    expect(vm.meminfo().kmalloc.used - k0).toBeLessThan(4096);
    vm.check();
    p.exit();
    expect(vm.meminfo().kmalloc.used).toBe(k0);
  });
});

describe('the shared zero page', () => {
  it('reading 48 MiB of never-written memory takes no application frame; a write gets a page of its own', () => {
    const events: VmEvent[] = [];
    const vm = createVm({ arch: sv39, onEvent: (e) => events.push(e) });
    const p = vm.spawn();
    const app = vm.alloc.info().app;
    const size = 48 << 20;
    const va = p.mmap({ size, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
    expect(p.read(va, size).every((b) => b === 0)).toBe(true);
    expect(vm.alloc.info().app).toBe(app);
    const zero = events.flatMap((e) => (e.type === 'zero-page' ? [e.pa] : []));
    expect(zero.length).toBe(size / 4096);
    expect(new Set(zero).size).toBe(1);
    p.write(va + 4096, new Uint8Array([9]));
    expect(vm.alloc.info().app).toBe(app + 4096);
    expect(p.read(va + 4096, 2)).toEqual(new Uint8Array([9, 0]));
    const c = p.fork();
    expect(c.read(va, 1)[0]).toBe(0);
    c.write(va, new Uint8Array([5]));
    expect([p.read(va, 1)[0], c.read(va, 1)[0], c.read(va + 4096, 1)[0]]).toEqual([0, 5, 9]);
    vm.check();
    c.exit();
    p.exit();
    vm.check();
    expect(vm.alloc.info().app).toBe(app);
  });
});
