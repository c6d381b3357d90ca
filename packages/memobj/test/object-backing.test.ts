import { Access, FaultCode, Prot } from '@vmlayers/phys';
import type { BackingPage } from '@vmlayers/mapper';
import { describe, expect, it } from 'vitest';
import { NO_ANON } from '../src/amap.js';
import { ObjectBacking } from '../src/object-backing.js';
import { BytesPager } from '../src/pager.js';
import { VmObject } from '../src/vm-object.js';
import { bareContext, pattern } from './helpers.js';

const PS = 4096;
const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;
const W = Access.WRITE | Access.USER;
const R = Access.READ | Access.USER;

function page(r: BackingPage | number): BackingPage {
  if (typeof r === 'number') throw new Error(`fault failed: ${r}`);
  return { ...r };
}

function anon(ctx: ReturnType<typeof bareContext>['ctx'], pages: number): ObjectBacking {
  return new ObjectBacking(ctx, { object: null, space: { size: pages * PS }, shared: false, offset: 0, size: pages * PS, maxProt: RWX, pid: 1 });
}

describe('ObjectBacking (methods called directly)', () => {
  it('anonymous: zero-fill on first touch, the same frame after, writable when private', () => {
    const { ctx } = bareContext();
    const b = anon(ctx, 4);
    const r = page(b.fault(PS, R));
    expect(r.writable).toBe(true);
    expect(ctx.mem.read(r.pa, PS).every((x) => x === 0)).toBe(true);
    expect(page(b.fault(PS, W)).pa).toBe(r.pa);
    expect(b.amap!.resident()).toBe(1);
    b.unmap(0, 4 * PS);
    b.release();
    expect(ctx.anons.live).toBe(0);
    expect(ctx.amaps.size).toBe(0);
    expect(ctx.charged).toBe(0);
  });

  it('private object mapping: reads map the object page read-only, a write copies it', () => {
    const { ctx } = bareContext();
    const o = VmObject.create(ctx, { kind: 'pager', size: 2 * PS, pager: new BytesPager(pattern(2 * PS, 4)), name: 'o', user: true });
    const b = new ObjectBacking(ctx, { object: o, shared: false, offset: 0, size: 2 * PS, maxProt: RWX, pid: 1 });
    expect(o.refs).toBe(2);
    const r = page(b.fault(0, R));
    expect(r.writable).toBe(false);
    expect(r.pa).toBe(o.page(0));
    const w = page(b.fault(0, W));
    expect(w.pa).not.toBe(r.pa);
    expect(w.writable).toBe(true);
    expect(ctx.mem.read(w.pa, PS)).toEqual(pattern(2 * PS, 4).subarray(0, PS));
    // Read again: now the private copy.
    expect(page(b.fault(0, R)).pa).toBe(w.pa);
    b.unmap(0, 2 * PS);
    b.release();
    expect(o.refs).toBe(1);
    o.release();
    expect(ctx.charged).toBe(0);
  });

  it('fork: both sides share anons (two references), the first writer copies, the last writes in place', () => {
    const { ctx } = bareContext();
    const parent = anon(ctx, 2);
    const p0 = page(parent.fault(0, W)).pa;
    ctx.mem.write(p0, new Uint8Array([5]));
    const child = parent.fork() as ObjectBacking;
    expect(parent.amap).toBe(child.amap);
    expect(parent.amap!.refs).toBe(2);
    const a = parent.amap!.slots[0];
    expect(ctx.anons.refs(a)).toBe(2);
    expect(page(child.fault(0, R))).toEqual({ pa: p0, writable: false });
    const c0 = page(child.fault(0, W));
    expect(c0.pa).not.toBe(p0);
    expect(ctx.mem.read(c0.pa, 1)[0]).toBe(5);
    expect(child.amap).not.toBe(parent.amap);
    expect(ctx.anons.refs(a)).toBe(1);
    expect(page(parent.fault(0, W))).toEqual({ pa: p0, writable: true });
    // Page 1 was never touched: each side zero-fills its own, in its own amap.
    const c1 = page(child.fault(PS, W)).pa;
    const p1 = page(parent.fault(PS, W)).pa;
    expect(c1).not.toBe(p1);
    for (const b of [parent, child]) {
      b.unmap(0, 2 * PS);
      b.release();
    }
    expect(ctx.anons.live).toBe(0);
    expect(ctx.amaps.size).toBe(0);
  });

  it('a read of an untouched page after fork does not put a page into the amap the twin shares', () => {
    const { ctx } = bareContext();
    const parent = anon(ctx, 2);
    page(parent.fault(0, W));
    const child = parent.fork() as ObjectBacking;
    const shared = parent.amap!;
    page(child.fault(PS, R));
    expect(shared.slots[1]).toBe(NO_ANON);
    expect(child.amap).not.toBe(shared);
    for (const b of [parent, child]) {
      b.unmap(0, 2 * PS);
      b.release();
    }
    expect(ctx.anons.live).toBe(0);
  });

  it('split shares the amap; unmap of a middle then split leaves the lower part ending at the hole', () => {
    const { ctx } = bareContext();
    const b = anon(ctx, 6);
    for (let i = 0; i < 6; i++) page(b.fault(i * PS, W));
    // The mapper's order for munmap of a middle range: unmap, then split at its end.
    b.unmap(2 * PS, 2 * PS);
    expect(b.holeCount).toBe(1);
    const up = b.split(4 * PS) as ObjectBacking;
    expect([b.lo, b.hi, b.holeCount]).toEqual([0, 2 * PS, 0]);
    expect([up.lo, up.hi]).toEqual([4 * PS, 6 * PS]);
    expect(up.amap).toBe(b.amap);
    expect(b.amap!.refs).toBe(2);
    expect(ctx.anons.live).toBe(4);
    // A fork of the lower part references only its own anons.
    const child = b.fork() as ObjectBacking;
    const slots = b.amap!.slots;
    expect([0, 1, 4, 5].map((i) => ctx.anons.refs(slots[i]))).toEqual([2, 2, 1, 1]);
    for (const x of [b, up, child]) {
      x.unmap(x.lo, x.hi - x.lo);
      x.release();
    }
    expect(ctx.anons.live).toBe(0);
    expect(ctx.amaps.size).toBe(0);
  });

  it('canMerge only without private pages, same object and sharing', () => {
    const { ctx } = bareContext();
    const b = anon(ctx, 4);
    const up = b.split(2 * PS) as ObjectBacking;
    expect(b.canMerge(up, 2 * PS)).toBe(true);
    page(up.fault(2 * PS, W));
    expect(b.canMerge(up, 2 * PS)).toBe(false);
    const other = anon(ctx, 2);
    expect(other.canMerge(b, 2 * PS)).toBe(false);
    for (const x of [b, up, other]) {
      x.unmap(0, 4 * PS);
      x.release();
    }
    expect(ctx.anons.live).toBe(0);
  });

  it('the two halves of one amap merge back; the dropped half\'s range goes to the survivor', () => {
    const { ctx } = bareContext();
    const b = anon(ctx, 4);
    for (let i = 0; i < 4; i++) page(b.fault(i * PS, W));
    const up = b.split(2 * PS) as ObjectBacking;
    expect(up.canMerge(b, 2 * PS)).toBe(false); // not the one below
    expect(b.canMerge(up, 2 * PS)).toBe(true);
    // The mapper drops the upper entry without unmapping it.
    up.release();
    expect([b.lo, b.hi]).toEqual([0, 4 * PS]);
    expect(b.amap!.refs).toBe(1);
    const child = b.fork() as ObjectBacking;
    expect([...b.amap!.slots].map((a) => ctx.anons.refs(a))).toEqual([2, 2, 2, 2]);
    for (const x of [b, child]) {
      x.unmap(0, 4 * PS);
      x.release();
    }
    expect(ctx.anons.live).toBe(0);
  });

  it('NO_MEMORY from the fault path when frames, anons or amaps run out, nothing changed', () => {
    const { ctx, alloc } = bareContext();
    const b = anon(ctx, 2);
    for (const site of ['amap', 'frame', 'anon', 'kmalloc'] as const) {
      alloc.faults.failAt(site, 1);
      expect(b.fault(0, W)).toBe(FaultCode.NO_MEMORY);
      alloc.faults.reset();
    }
    expect(ctx.anons.live).toBe(0);
    page(b.fault(0, W));
    b.unmap(0, 2 * PS);
    b.release();
    expect(ctx.charged).toBe(0);
  });

  it('shared object mapping: writable object pages, marked dirty on write', () => {
    const { ctx } = bareContext();
    const bytes = new Uint8Array(PS);
    const o = VmObject.create(ctx, { kind: 'pager', size: PS, pager: new BytesPager(bytes), name: 'o', user: true });
    const b = new ObjectBacking(ctx, { object: o, shared: true, offset: 0, size: PS, maxProt: RWX, pid: 1 });
    expect(page(b.fault(0, R)).writable).toBe(false);
    const w = page(b.fault(0, W));
    expect(w.writable).toBe(true);
    expect(w.pa).toBe(o.page(0));
    ctx.mem.write(w.pa, new Uint8Array([3]));
    b.release();
    o.release();
    expect(bytes[0]).toBe(3);
  });

  it('without an MMU: contiguous blocks, shared for an object, private copies for writable private mappings', () => {
    const { ctx } = bareContext(512, false);
    const o = VmObject.create(ctx, { kind: 'pager', size: 1024, pager: new BytesPager(pattern(1024, 6)), name: 'o', user: true });
    const ro1 = new ObjectBacking(ctx, { object: o, shared: false, offset: 0, size: 1024, maxProt: Prot.READ, pid: 1 });
    const ro2 = new ObjectBacking(ctx, { object: o, shared: false, offset: 512, size: 512, maxProt: Prot.READ, pid: 2 });
    const rw = new ObjectBacking(ctx, { object: o, shared: false, offset: 0, size: 2048, maxProt: RWX, pid: 3, copyOnMap: true });
    const a1 = ro1.contiguous(0, 1024);
    expect(ro2.contiguous(512, 512)).toBe(a1 + 512);
    const a3 = rw.contiguous(0, 2048);
    expect(a3).not.toBe(a1);
    expect(ctx.mem.read(a3, 1024)).toEqual(pattern(1024, 6));
    expect(ctx.mem.read(a3 + 1024, 1024).every((x) => x === 0)).toBe(true);
    expect(page(rw.fault(512, W)).pa).toBe(a3 + 512);
    const an = new ObjectBacking(ctx, { object: null, space: { size: 1024 }, shared: false, offset: 0, size: 1024, maxProt: RWX, pid: 1 });
    const blk = an.contiguous(0, 1024);
    expect(ctx.mem.read(blk, 1024).every((x) => x === 0)).toBe(true);
    const upper = an.split(512) as ObjectBacking;
    an.release();
    expect(ctx.alloc.get(blk)?.free).toBe(false);
    upper.release();
    expect(ctx.alloc.get(blk)?.free).toBe(true);
    for (const b of [ro1, ro2, rw]) b.release();
    o.release();
    expect(ctx.charged).toBe(0);
    expect(() => ro1.fork()).toThrow();
  });
});
