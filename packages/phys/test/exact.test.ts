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
});
