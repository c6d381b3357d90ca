import { describe, expect, it } from 'vitest';
import { PageAllocator, PhysicalMemory, boards } from '../src/index.js';
import { PCP_BATCH, PCP_HIGH, PCP_HIGH_MAX, PCP_ORDERS } from '../src/buddy.js';

const PAGE = 4096;

// The per-CPU lists, as the allocator keeps them.
interface Inner {
  pcpCount: number;
  pcpHiCount: Int32Array;
  pcpHigh0: number;
}

function boot(size: number) {
  const alloc = new PageAllocator(new PhysicalMemory(boards.ram(size)), { pageSize: PAGE });
  return { alloc, inner: alloc as unknown as Inner };
}

describe('per-CPU page lists', () => {
  it('batch and high are Linux-sized: 63 pages, 6 × batch (up to 8 × that after bursts), orders 0-4', () => {
    expect(PCP_BATCH).toBeGreaterThanOrEqual(31);
    expect(PCP_BATCH).toBeLessThanOrEqual(63);
    expect(PCP_HIGH).toBe(6 * PCP_BATCH);
    expect(PCP_HIGH_MAX).toBe(8 * PCP_HIGH);
    expect(PCP_ORDERS).toBe(5);
  });

  it('refills a batch from the buddy, handing out ascending addresses; listed frames are free', () => {
    const { alloc, inner } = boot(4 << 20);
    const first = alloc.allocPa(PAGE);
    expect(first).toBe(0);
    expect(inner.pcpCount).toBe(PCP_BATCH - 1);
    expect(alloc.allocPa(PAGE)).toBe(PAGE);
    expect(alloc.info()).toMatchObject({ alloc: 2 * PAGE, free: (4 << 20) - 2 * PAGE });
    expect(alloc.get(2 * PAGE)).toEqual({ pa: 2 * PAGE, order: 0, owner: 0, usage: 0, free: true });
    alloc.check();
    const order2 = alloc.allocPa(4 * PAGE);
    expect(inner.pcpHiCount[2]).toBe((PCP_BATCH >> 2) - 1);
    expect(alloc.get(order2 + 4 * PAGE)).toMatchObject({ pa: order2 + 4 * PAGE, order: 2, free: true });
    alloc.check();
  });

  it('drains a batch when a free takes it above high, and never holds more than high', () => {
    const { alloc, inner } = boot(4 << 20);
    const pas: number[] = [];
    for (let i = 0; i < 600; i++) pas.push(alloc.allocPa(PAGE));
    const counts: number[] = [];
    for (const pa of pas) {
      alloc.freePa(pa);
      counts.push(inner.pcpCount);
      expect(inner.pcpCount).toBeLessThanOrEqual(PCP_HIGH);
    }
    const drop = counts.findIndex((n, i) => i > 0 && n < counts[i - 1]);
    // 1/8 of this board's free memory is below PCP_HIGH: high is never raised here.
    expect(inner.pcpHigh0).toBe(PCP_HIGH);
    expect(counts[drop - 1]).toBe(PCP_HIGH);
    expect(counts[drop]).toBe(PCP_HIGH + 1 - PCP_BATCH);
    alloc.check();
  });

  it('a burst of frees raises high (at most PCP_HIGH_MAX, 1/8 of free memory); refills lower it; a drain resets it', () => {
    const { alloc, inner } = boot(64 << 20);
    const boot0 = alloc.freeBlocks();
    const pas: number[] = [];
    for (let i = 0; i < 4096; i++) pas.push(alloc.allocPa(PAGE));
    let highest = 0;
    for (const pa of pas) {
      alloc.freePa(pa);
      const free = alloc.info().free / PAGE;
      expect(inner.pcpCount).toBeLessThanOrEqual(inner.pcpHigh0);
      expect(inner.pcpHigh0).toBeLessThanOrEqual(Math.max(PCP_HIGH, Math.min(PCP_HIGH_MAX, free / 8)));
      highest = Math.max(highest, inner.pcpHigh0);
    }
    expect(highest).toBeGreaterThan(PCP_HIGH);
    expect(inner.pcpHigh0).toBe(highest);
    expect(inner.pcpCount).toBeGreaterThan(PCP_HIGH);
    alloc.check();
    // The same burst again is served from the list until it runs dry; each refill then lowers high a batch.
    const parked = inner.pcpCount;
    pas.length = 0;
    for (let i = 0; i < parked; i++) pas.push(alloc.allocPa(PAGE));
    expect(inner.pcpCount).toBe(0);
    expect(inner.pcpHigh0).toBe(highest);
    pas.push(alloc.allocPa(PAGE));
    expect(inner.pcpHigh0).toBe(highest - PCP_BATCH);
    for (const pa of pas) alloc.freePa(pa);
    alloc.check();
    // Everything parked is still free for a request the buddy alone could serve: the whole board in one block.
    const all = alloc.allocPa(64 << 20);
    expect(all).toBe(0);
    expect(inner.pcpCount).toBe(0);
    expect(inner.pcpHigh0).toBe(PCP_HIGH);
    alloc.freePa(all);
    expect(alloc.freeBlocks()).toEqual(boot0);
    alloc.check();
  });

  it('is drained whole before a request is refused: blocks parked on any list still merge', () => {
    const { alloc, inner } = boot(256 * 1024);
    // 64 frames, all taken as order-1 blocks, all freed: they sit on the order-1 list, none merged.
    const blocks: number[] = [];
    for (let pa = alloc.allocPa(2 * PAGE); pa >= 0; pa = alloc.allocPa(2 * PAGE)) blocks.push(pa);
    expect(blocks.length).toBe(32);
    for (const pa of blocks) alloc.freePa(pa);
    expect(inner.pcpHiCount[1]).toBe(32);
    // The whole of RAM is one free block again once drained.
    const all = alloc.allocPa(64 * PAGE);
    expect(all).toBe(0);
    expect(inner.pcpHiCount[1]).toBe(0);
    alloc.freePa(all);
    // Single pages parked on the order-0 list serve a 32-page request.
    const pages: number[] = [];
    for (let pa = alloc.allocPa(PAGE); pa >= 0; pa = alloc.allocPa(PAGE)) pages.push(pa);
    expect(pages.length).toBe(64);
    for (const pa of pages.slice(0, 32)) alloc.freePa(pa);
    expect(inner.pcpCount).toBe(32);
    expect(alloc.allocPa(32 * PAGE)).toBe(0);
    alloc.check();
    // An order-0 request when only order-1 blocks are parked: drained, merged, split.
    for (const pa of pages.slice(32)) alloc.freePa(pa);
    alloc.freePa(0);
    const two: number[] = [];
    for (let pa = alloc.allocPa(2 * PAGE); pa >= 0; pa = alloc.allocPa(2 * PAGE)) two.push(pa);
    for (const pa of two) alloc.freePa(pa);
    expect(alloc.allocPa(PAGE)).toBe(0);
    alloc.check();
  });

  it('refuses only after the drain, and a refusal leaves everything free and merged', () => {
    const { alloc, inner } = boot(256 * 1024);
    const pages: number[] = [];
    for (let pa = alloc.allocPa(PAGE); pa >= 0; pa = alloc.allocPa(PAGE)) pages.push(pa);
    // Every other page free: no two free pages are buddies, so 2 pages cannot be had.
    for (let i = 0; i < 64; i += 2) alloc.freePa(pages[i]);
    expect(inner.pcpCount).toBe(32);
    expect(alloc.allocPa(2 * PAGE)).toBe(-1);
    expect(inner.pcpCount).toBe(0);
    expect(alloc.freeBlocks()[0]).toBe(32);
    alloc.check();
  });

  it('freeBlocks drains first: the figures are what they would be without the lists', () => {
    const { alloc, inner } = boot(1 << 20);
    const boot0 = alloc.freeBlocks();
    const pas = [alloc.allocPa(PAGE), alloc.allocPa(2 * PAGE), alloc.allocPa(8 * PAGE), alloc.allocPa(PAGE)];
    for (const pa of pas) alloc.freePa(pa);
    expect(inner.pcpCount + inner.pcpHiCount[1] + inner.pcpHiCount[3]).toBeGreaterThan(0);
    expect(alloc.freeBlocks()).toEqual(boot0);
    expect(inner.pcpCount).toBe(0);
    alloc.check();
  });
});
