import { describe, expect, it } from 'vitest';
import { PageAllocator, PageOwner, PhysicalMemory, boards } from '../src/index.js';
import { code } from './support.js';

function fresh(board = 'riscv-virt-64m', pageSize = 4096) {
  const a = new PageAllocator(new PhysicalMemory(boards.get(board)), { pageSize });
  return a;
}

describe('allocExact / freeExact (alloc_pages_exact)', () => {
  it('holds exactly the pages asked for, as aligned blocks of decreasing orders, the tail free again', () => {
    const a = fresh();
    const before = a.info();
    const pa = a.allocExact(5 * 4096 - 100, { owner: PageOwner.APP });
    expect(pa % (8 * 4096)).toBe(0);
    expect(a.info().app).toBe(5 * 4096);
    expect(a.info().free).toBe(before.free - 5 * 4096);
    expect(a.get(pa)).toMatchObject({ pa, order: 2, free: false, owner: PageOwner.APP });
    expect(a.get(pa + 3 * 4096)).toMatchObject({ pa, order: 2, free: false });
    expect(a.get(pa + 4 * 4096)).toMatchObject({ pa: pa + 4 * 4096, order: 0, free: false });
    expect(a.get(pa + 5 * 4096)?.free).toBe(true);
    expect(a.get(pa + 6 * 4096)?.free).toBe(true);
    a.check();
    a.freeExact(pa, 5 * 4096 - 100);
    a.check();
    expect(a.info()).toEqual(before);
  });

  it('a power of two is one block; the pages read as zeros and keep what is written', () => {
    const a = fresh();
    const pa = a.allocExact(4 * 4096);
    expect(a.get(pa)).toMatchObject({ order: 2 });
    expect(a.mem.read32(pa + 4 * 4096 - 4)).toBe(0);
    a.mem.write32(pa + 4 * 4096 - 4, 0xdeadbeef);
    expect(a.mem.read32(pa + 4 * 4096 - 4)).toBe(0xdeadbeef);
    a.freeExact(pa, 4 * 4096);
    expect(a.mem.backedBytes).toBe(0);
  });

  it('a 512-byte-page board: 2560 bytes take 5 pages, not 8', () => {
    const a = fresh('stm32-512k', 512);
    const before = a.info().free;
    const pa = a.allocExact(2560);
    expect(a.info().free).toBe(before - 2560);
    a.freeExact(pa, 2560);
    expect(a.info().free).toBe(before);
  });

  it('refuses what is not a run it gave, freeing nothing', () => {
    const a = fresh();
    const pa = a.allocExact(3 * 4096);
    const info = a.info();
    expect(code(() => a.freeExact(pa, 4 * 4096))).toBe('EINVAL'); // a 4-page block is not there
    expect(code(() => a.freeExact(pa, 1 * 4096))).toBe('EINVAL'); // the head block is order 1, not 0
    expect(code(() => a.freeExact(pa + 4096, 2 * 4096))).toBe('EINVAL');
    expect(code(() => a.freeExact(pa + 1, 3 * 4096))).toBe('EINVAL');
    for (const bad of [-4096, NaN, '0', null, 2 ** 60]) expect(code(() => a.freeExact(bad as number, 4096))).toBe('EINVAL');
    for (const bad of [0, -1, 1.5, '4096', 2 ** 60]) expect(code(() => a.freeExact(pa, bad as number))).toBe('EINVAL');
    expect(a.info()).toEqual(info);
    a.check();
    a.freeExact(pa, 3 * 4096);
    expect(code(() => a.freeExact(pa, 3 * 4096))).toBe('EINVAL'); // double free
    for (const bad of [0, -1, 1.5, '4096', null]) expect(code(() => a.allocExact(bad as number))).toBe('EINVAL');
    a.check();
  });

  it('a pinned frame anywhere in the run refuses the free (EBUSY), nothing freed', () => {
    const a = fresh();
    const pa = a.allocExact(3 * 4096);
    a.pin(pa + 2 * 4096, 4096);
    const info = a.info();
    expect(code(() => a.freeExact(pa, 3 * 4096))).toBe('EBUSY');
    expect(a.info()).toEqual(info);
    a.unpin(pa + 2 * 4096, 4096);
    a.freeExact(pa, 3 * 4096);
    a.check();
  });

  it('the fault injector and exhaustion return -1 with nothing taken', () => {
    const a = fresh();
    const info = a.info();
    a.faults.failAt('frame', 1);
    expect(a.allocExact(3 * 4096)).toBe(-1);
    expect(a.info()).toEqual(info);
    expect(a.allocExact(2 ** 40)).toBe(-1);
    expect(a.info()).toEqual(info);
    a.check();
  });

  it('fragmented RAM: the lowest run of free frames at any alignment (first fit), cut into aligned blocks', () => {
    const a = fresh('stm32-512k', 512);
    const held: number[] = [];
    for (let pa = a.allocPa(512); pa >= 0; pa = a.allocPa(512)) held.push(pa);
    held.sort((x, y) => x - y);
    const info = a.info();
    // Free frames 3–7 and 9–10 of what is held: no aligned 8-frame block anywhere, a run of 5 at frame 3.
    for (const i of [3, 4, 5, 6, 7, 9, 10]) a.freePa(held[i]);
    a.check();
    expect(a.allocExact(8 * 512)).toBe(-1); // no run of 8 free frames in a row
    const pa = a.allocExact(2500, { owner: PageOwner.APP });
    expect(pa).toBe(held[3]);
    expect(a.get(pa)).toMatchObject({ pa, order: 0, free: false, owner: PageOwner.APP });
    expect(a.get(pa + 512)).toMatchObject({ pa: pa + 512, order: 2, free: false });
    a.check();
    // The next run of 2 is frames 9–10.
    const pb = a.allocExact(1024);
    expect(pb).toBe(held[9]);
    a.check();
    a.freeExact(pa, 2500);
    a.freeExact(pb, 1024);
    for (const i of [3, 4, 5, 6, 7, 9, 10]) held[i] = -1;
    a.check();
    for (const h of held) if (h >= 0) a.freePa(h);
    a.check();
    expect(a.info().free).toBe(info.free + info.alloc - info.boot);
  });

  it('first fit joins free blocks of a run and gives back what the last one holds past it', () => {
    const a = fresh('stm32-512k', 512);
    const held: number[] = [];
    for (let pa = a.allocPa(512); pa >= 0; pa = a.allocPa(512)) held.push(pa);
    held.sort((x, y) => x - y);
    // Frames 6–12 free: blocks [6,8), [8,12) and [12]; no aligned 8-frame block, so a run of 5 starts at 6 and
    // ends inside [8,12).
    for (let i = 6; i < 13; i++) a.freePa(held[i]);
    const before = a.info().free;
    const pa = a.allocExact(5 * 512);
    expect(pa).toBe(held[6]);
    expect(a.info().free).toBe(before - 5 * 512);
    for (let i = 11; i < 13; i++) expect(a.get(held[i])?.free).toBe(true);
    a.check();
    a.freeExact(pa, 5 * 512);
    expect(a.info().free).toBe(before);
    a.check();
  });

  it("exactPlacement 'first-fit' packs runs from the bottom of RAM, back to back", () => {
    const a = new PageAllocator(new PhysicalMemory(boards.get('stm32-512k')), { pageSize: 512, exactPlacement: 'first-fit' });
    const info = a.info();
    const runs = [2560, 1536, 512, 5 * 1024, 640].map((size) => ({ size, pa: a.allocExact(size) }));
    for (let i = 1; i < runs.length; i++) expect(runs[i].pa).toBe(runs[i - 1].pa + Math.ceil(runs[i - 1].size / 512) * 512);
    a.check();
    a.freeExact(runs[1].pa, runs[1].size);
    // The hole of 3 frames is the lowest run: a 2-frame request lands there.
    expect(a.allocExact(1024)).toBe(runs[1].pa);
    a.check();
    expect(code(() => new PageAllocator(new PhysicalMemory(boards.get('stm32-512k')), { pageSize: 512, exactPlacement: 'best' as never }))).toBe('EINVAL');
    a.faults.failAt('frame', 1);
    const before = a.info();
    expect(a.allocExact(512)).toBe(-1);
    expect(a.info()).toEqual(before);
    for (const bad of [0, -1, 1.5, '512', null]) expect(code(() => a.allocExact(bad as number))).toBe('EINVAL');
    expect(code(() => a.allocExact(512, { owner: 9 as never }))).toBe('EINVAL');
    expect(info.free).toBeGreaterThan(0);
  });
});
