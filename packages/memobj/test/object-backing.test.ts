import { Access, FaultCode, Prot } from '@vmlayers/phys';
import type { BackingPage } from '@vmlayers/mapper';
import { describe, expect, it } from 'vitest';
import { AmapBacking } from '../src/amap-backing.js';
import { NO_ANON } from '../src/amap.js';
import { BlockBacking } from '../src/block-backing.js';
import { BytesPager } from '../src/pager.js';
import { VmObject } from '../src/vm-object.js';
import { bareContext, pattern } from './helpers.js';

const PS = 4096;
const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;
const W = Access.WRITE | Access.USER;
const R = Access.READ | Access.USER;

type Ctx = ReturnType<typeof bareContext>['ctx'];

function page(r: BackingPage | number): BackingPage {
  if (typeof r === 'number') throw new Error(`fault failed: ${r}`);
  return { ...r };
}

/** A private anonymous backing as the mapper leaves it after the first fault's copy(): an amap over its range. */
function anon(ctx: Ctx, pages: number): AmapBacking {
  const b = new AmapBacking(ctx, { object: null, shared: false, maxProt: RWX, pid: 1 });
  expect(b.shared()).toBe(true);
  b.copy(0, pages * PS);
  expect(b.shared()).toBe(false);
  return b;
}

/** What the mapper does when an entry goes: unmap its range, then release. */
function drop(b: AmapBacking, offset: number, size: number): void {
  b.unmap(offset, size);
  b.release();
}

describe('AmapBacking (the contract called directly, as the mapper calls it)', () => {
  it('anonymous: copy() makes an amap over exactly the entry range; zero-fill on first touch', () => {
    const { ctx } = bareContext();
    const b = new AmapBacking(ctx, { object: null, shared: false, maxProt: RWX, pid: 1 });
    // Before copy there is nowhere to put a private page.
    expect(b.fault(0, R)).toBe(FaultCode.BAD_ADDRESS);
    b.copy(8 * PS, 4 * PS);
    expect(b.amap!.length).toBe(4);
    expect(b.amapBase).toBe(8 * PS);
    const r = page(b.fault(9 * PS, R));
    expect(r.writable).toBe(true);
    expect(ctx.mem.read(r.pa, PS).every((x) => x === 0)).toBe(true);
    expect(page(b.fault(9 * PS, W)).pa).toBe(r.pa);
    expect(b.fault(12 * PS, R)).toBe(FaultCode.BAD_ADDRESS);
    drop(b, 8 * PS, 4 * PS);
    expect(ctx.anons.live).toBe(0);
    expect(ctx.amaps.size).toBe(0);
    expect(ctx.charged).toBe(0);
  });

  it('private object mapping: reads map the object page read-only, a write copies it', () => {
    const { ctx } = bareContext();
    const o = VmObject.create(ctx, { kind: 'pager', size: 2 * PS, pager: new BytesPager(pattern(2 * PS, 4)), name: 'o', user: true });
    const b = new AmapBacking(ctx, { object: o, shared: false, maxProt: RWX, pid: 1 });
    expect(o.refs).toBe(2);
    b.copy(0, 2 * PS);
    const r = page(b.fault(0, R));
    expect(r.writable).toBe(false);
    expect(r.pa).toBe(o.page(0));
    const w = page(b.fault(0, W));
    expect(w.pa).not.toBe(r.pa);
    expect(w.writable).toBe(true);
    expect(ctx.mem.read(w.pa, PS)).toEqual(pattern(2 * PS, 4).subarray(0, PS));
    expect(page(b.fault(0, R)).pa).toBe(w.pa);
    drop(b, 0, 2 * PS);
    expect(o.refs).toBe(1);
    o.release();
    expect(ctx.charged).toBe(0);
  });

  it('fork: both sides share anons (two references), copy() detaches, the first writer copies, the last writes in place', () => {
    const { ctx } = bareContext();
    const parent = anon(ctx, 2);
    const p0 = page(parent.fault(0, W)).pa;
    ctx.mem.write(p0, new Uint8Array([5]));
    const child = parent.fork(0, 2 * PS) as AmapBacking;
    expect(parent.amap).toBe(child.amap);
    expect(parent.amap!.refs).toBe(2);
    expect(parent.shared() && child.shared()).toBe(true);
    const a = parent.amap!.get(0);
    expect(ctx.anons.refs(a)).toBe(2);
    // The mapper: needs-copy, so copy() before the child's first fault.
    child.copy(0, 2 * PS);
    expect(child.amap).not.toBe(parent.amap);
    expect(child.shared()).toBe(false);
    expect(parent.shared()).toBe(false);
    expect(page(child.fault(0, R))).toEqual({ pa: p0, writable: false });
    const c0 = page(child.fault(0, W));
    expect(c0.pa).not.toBe(p0);
    expect(ctx.mem.read(c0.pa, 1)[0]).toBe(5);
    expect(ctx.anons.refs(a)).toBe(1);
    expect(page(parent.fault(0, W))).toEqual({ pa: p0, writable: true });
    // Page 1 was never touched: each side zero-fills its own, in its own amap.
    const c1 = page(child.fault(PS, R)).pa;
    const p1 = page(parent.fault(PS, W)).pa;
    expect(c1).not.toBe(p1);
    for (const b of [parent, child]) drop(b, 0, 2 * PS);
    expect(ctx.anons.live).toBe(0);
    expect(ctx.amaps.size).toBe(0);
  });

  it('copy() after fork leaves the twin\'s slots in place, a child read fills only its own amap', () => {
    const { ctx } = bareContext();
    const parent = anon(ctx, 2);
    page(parent.fault(0, W));
    const child = parent.fork(0, 2 * PS) as AmapBacking;
    const shared = parent.amap!;
    child.copy(0, 2 * PS);
    page(child.fault(PS, R));
    expect(shared.get(1)).toBe(NO_ANON);
    expect(child.amap!.get(1)).not.toBe(NO_ANON);
    for (const b of [parent, child]) drop(b, 0, 2 * PS);
    expect(ctx.anons.live).toBe(0);
  });

  it('split shares the amap; each part owns the anons of its own range', () => {
    const { ctx } = bareContext();
    const b = anon(ctx, 6);
    for (let i = 0; i < 6; i++) page(b.fault(i * PS, W));
    // The mapper's order for munmap of a middle range: unmap, then split at its end.
    b.unmap(2 * PS, 2 * PS);
    const up = b.split(4 * PS, 2 * PS) as AmapBacking;
    expect(up.amap).toBe(b.amap);
    expect(b.amap!.refs).toBe(2);
    expect(ctx.anons.live).toBe(4);
    // A fork of the lower part references only its own anons.
    const child = b.fork(0, 2 * PS) as AmapBacking;
    const amap = b.amap!;
    expect([0, 1, 4, 5].map((i) => ctx.anons.refs(amap.get(i)))).toEqual([2, 2, 1, 1]);
    drop(b, 0, 2 * PS);
    drop(up, 4 * PS, 2 * PS);
    drop(child, 0, 2 * PS);
    expect(ctx.anons.live).toBe(0);
    expect(ctx.amaps.size).toBe(0);
  });

  it('canMerge is pure: parts of one amap, or parts with none; never another memory', () => {
    const { ctx } = bareContext();
    const fresh = new AmapBacking(ctx, { object: null, shared: false, maxProt: RWX, pid: 1 });
    const upFresh = fresh.split(2 * PS, 2 * PS) as AmapBacking;
    expect(fresh.canMerge(upFresh, 2 * PS)).toBe(true);
    const b = anon(ctx, 4);
    const up = b.split(2 * PS, 2 * PS) as AmapBacking;
    const before = [b.amap!.refs, ctx.charged];
    expect(b.canMerge(up, 2 * PS)).toBe(true);
    expect(b.canMerge(up, 2 * PS)).toBe(true);
    expect([b.amap!.refs, ctx.charged]).toEqual(before);
    expect(fresh.canMerge(b, 2 * PS)).toBe(false);
    const other = anon(ctx, 2);
    expect(other.canMerge(b, 2 * PS)).toBe(false);
    // Merge commits; the mapper then releases the upper handle without unmapping the range.
    b.merge(up, 2 * PS);
    up.release();
    expect(b.amap!.refs).toBe(1);
    drop(b, 0, 4 * PS);
    drop(other, 0, 2 * PS);
    fresh.merge(upFresh, 2 * PS);
    upFresh.release();
    drop(fresh, 0, 4 * PS);
    expect(ctx.anons.live).toBe(0);
    expect(ctx.charged).toBe(0);
  });

  it('after a merge back, copy() builds the amap over the merged entry only (not the object)', () => {
    const { ctx } = bareContext();
    const o = VmObject.create(ctx, { kind: 'pager', size: 256 * PS, pager: new BytesPager(pattern(256 * PS, 1)), name: 'big', user: true });
    const lo = new AmapBacking(ctx, { object: o, shared: false, maxProt: RWX, pid: 1 });
    const hi = lo.split(101 * PS, PS) as AmapBacking;
    expect(lo.canMerge(hi, PS)).toBe(true);
    lo.merge(hi, PS);
    hi.release();
    lo.copy(100 * PS, 2 * PS);
    expect(lo.amap!.length).toBe(2);
    expect(lo.amapBase).toBe(100 * PS);
    page(lo.fault(101 * PS, W));
    drop(lo, 100 * PS, 2 * PS);
    o.release();
    expect(ctx.charged).toBe(0);
  });

  it('NO_MEMORY from the fault path when frames or anons run out, ENOMEM from copy() when amaps do; nothing changed', () => {
    const { ctx, alloc } = bareContext();
    const b = new AmapBacking(ctx, { object: null, shared: false, maxProt: RWX, pid: 1 });
    for (const site of ['amap', 'kmalloc'] as const) {
      alloc.faults.failAt(site, 1);
      expect(() => b.copy(0, 2 * PS)).toThrow(expect.objectContaining({ code: 'ENOMEM' }));
      expect(b.amap).toBe(null);
      alloc.faults.reset();
    }
    b.copy(0, 2 * PS);
    for (const site of ['frame', 'anon', 'kmalloc'] as const) {
      const charged = ctx.charged;
      const free = alloc.info().free;
      alloc.faults.failAt(site, 1);
      expect(b.fault(0, W)).toBe(FaultCode.NO_MEMORY);
      alloc.faults.reset();
      expect([ctx.charged, alloc.info().free]).toEqual([charged, free]);
    }
    expect(ctx.anons.live).toBe(0);
    page(b.fault(0, W));
    drop(b, 0, 2 * PS);
    expect(ctx.charged).toBe(0);
  });

  it('shared object mapping: writable object pages, marked dirty on write, never needs-copy', () => {
    const { ctx } = bareContext();
    const bytes = new Uint8Array(PS);
    const o = VmObject.create(ctx, { kind: 'pager', size: PS, pager: new BytesPager(bytes), name: 'o', user: true });
    const b = new AmapBacking(ctx, { object: o, shared: true, maxProt: RWX, pid: 1 });
    expect(b.shared()).toBe(false);
    expect(page(b.fault(0, R)).writable).toBe(false);
    const w = page(b.fault(0, W));
    expect(w.writable).toBe(true);
    expect(w.pa).toBe(o.page(0));
    ctx.mem.write(w.pa, new Uint8Array([3]));
    b.release();
    o.release();
    expect(bytes[0]).toBe(3);
  });
});

describe('BlockBacking (no MMU)', () => {
  it('contiguous blocks: shared for an object, private copies for writable private mappings', () => {
    const { ctx } = bareContext(512, false);
    const o = VmObject.create(ctx, { kind: 'pager', size: 1024, pager: new BytesPager(pattern(1024, 6)), name: 'o', user: true });
    const ro1 = new BlockBacking(ctx, { object: o, shared: false, maxProt: Prot.READ, pid: 1, copyOnMap: false });
    const ro2 = new BlockBacking(ctx, { object: o, shared: false, maxProt: Prot.READ, pid: 2, copyOnMap: false });
    const rw = new BlockBacking(ctx, { object: o, shared: false, maxProt: RWX, pid: 3, copyOnMap: true });
    const a1 = ro1.contiguous(0, 1024);
    expect(ro2.contiguous(512, 512)).toBe(a1 + 512);
    const a3 = rw.contiguous(0, 2048);
    expect(a3).not.toBe(a1);
    expect(ctx.mem.read(a3, 1024)).toEqual(pattern(1024, 6));
    expect(ctx.mem.read(a3 + 1024, 1024).every((x) => x === 0)).toBe(true);
    expect(page(rw.fault(512, W)).pa).toBe(a3 + 512);
    expect(rw.shared()).toBe(false);
    for (const b of [ro1, ro2, rw]) b.release();
    o.release();
    expect(ctx.charged).toBe(0);
    expect(() => ro1.fork(0, 512)).toThrow();
  });

  it('the parts of one private block merge back and free the block with the last of them', () => {
    const { ctx } = bareContext(512, false);
    const an = new BlockBacking(ctx, { object: null, shared: false, maxProt: RWX, pid: 1, copyOnMap: false });
    const blk = an.contiguous(0, 1024);
    expect(ctx.mem.read(blk, 1024).every((x) => x === 0)).toBe(true);
    const upper = an.split(512, 512) as BlockBacking;
    expect(an.canMerge(upper, 512)).toBe(true);
    const other = new BlockBacking(ctx, { object: null, shared: false, maxProt: RWX, pid: 1, copyOnMap: false });
    other.contiguous(0, 512);
    expect(an.canMerge(other, 512)).toBe(false);
    other.release();
    an.release();
    expect(ctx.alloc.get(blk)?.free).toBe(false);
    upper.release();
    expect(ctx.alloc.get(blk)?.free).toBe(true);
  });
});
