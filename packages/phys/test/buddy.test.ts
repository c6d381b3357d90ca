import { describe, expect, it } from 'vitest';
import {
  BoardMemoryMap,
  PageAllocator,
  PageOwner,
  PageUsage,
  PhysicalMemory,
  boards,
  formatPageMap,
} from '../src/index.js';
import type { Frame } from '../src/index.js';
import { code } from './support.js';

const PAGE = 4096;
const MiB = 1 << 20;

function boot(board: BoardMemoryMap, pageSize = PAGE): PageAllocator {
  const a = new PageAllocator(new PhysicalMemory(board), { pageSize });
  a.check();
  return a;
}

// Everything observable about the allocator, to prove a refused call changed nothing.
function snapshot(a: PageAllocator) {
  return { info: a.info(), blocks: a.freeBlocks(), map: a.pageMap(), faults: a.faults.counts() };
}

describe('PageAllocator: boot', () => {
  it('cuts one bank into maximal naturally aligned blocks', () => {
    const a = boot(boards.ram(3 * MiB + 5 * PAGE));
    // 3 MiB + 5 pages = 768 + 5 pages: blocks of 512, 256, 4, 1 pages.
    const blocks = a.freeBlocks();
    expect(blocks[9]).toBe(1);
    expect(blocks[8]).toBe(1);
    expect(blocks[2]).toBe(1);
    expect(blocks[0]).toBe(1);
    expect(blocks.reduce((s, n) => s + n, 0)).toBe(4);
    expect(a.info()).toEqual({ total: 3 * MiB + 5 * PAGE, free: 3 * MiB + 5 * PAGE, alloc: 0, boot: 0, kernel: 0, app: 0 });
  });

  it('owns reserved regions as BOOT frames and counts them', () => {
    const a = boot(boards.get('riscv-virt-64m'));
    expect(a.info()).toEqual({ total: 64 * MiB, free: 61 * MiB, alloc: 3 * MiB, boot: 3 * MiB, kernel: 0, app: 0 });
    expect(a.get(0x8000_0000)).toEqual({ pa: 0x8000_0000, order: 0, owner: PageOwner.BOOT, usage: PageUsage.NONE, free: false });
    expect(a.pageMap()).toEqual([
      { count: 768, marker: 'B', addr: 0x8000_0000 },
      { count: (61 * MiB) / PAGE, marker: '.', addr: 0x8030_0000 },
    ]);
  });

  it('refuses a board not aligned to the page size', () => {
    const board = new BoardMemoryMap([{ base: 0x200, size: 0x10000, kind: 'ram', name: 'odd' }]);
    expect(code(() => new PageAllocator(new PhysicalMemory(board), { pageSize: PAGE }))).toBe('EINVAL');
    expect(code(() => new PageAllocator(new PhysicalMemory(board), { pageSize: 3000 }))).toBe('EINVAL');
    expect(boot(board, 512).info().total).toBe(0x10000);
  });
});

describe('PageAllocator: alloc and free', () => {
  it('rounds sizes up to a power-of-two number of pages and splits the smallest block that fits', () => {
    const a = boot(boards.ram(1 * MiB));
    const f = a.alloc(3 * PAGE + 1, { owner: PageOwner.APP });
    expect(f).toEqual({ pa: 0, order: 2 });
    a.check();
    // 256 pages split down to order 2: one free block each of orders 2..7.
    expect(a.freeBlocks()).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 0]);
    expect(a.alloc(1)).toEqual({ pa: 4 * PAGE, order: 0 });
    expect(a.alloc(PAGE)).toEqual({ pa: 5 * PAGE, order: 0 });
    a.check();
    expect(a.info()).toMatchObject({ alloc: 6 * PAGE, kernel: 2 * PAGE, app: 4 * PAGE });
  });

  it('merges buddies back into the boot blocks', () => {
    const a = boot(boards.get('ia32-pc-32m'));
    const before = snapshot(a);
    const frames: Frame[] = [];
    for (const size of [PAGE, 2 * PAGE, 64 * 1024, PAGE, 1 * MiB, 3 * PAGE]) {
      const f = a.alloc(size);
      expect(f).not.toBeNull();
      frames.push(f!);
      a.check();
    }
    for (const f of [frames[2], frames[0], frames[5], frames[1], frames[4], frames[3]]) {
      a.free(f);
      a.check();
    }
    expect(snapshot(a)).toEqual({ ...before, faults: { ...before.faults, frame: 6 } });
  });

  it('never merges across a hole between banks (the original does)', () => {
    // Two 8-page banks with an 8-page hole: buddy arithmetic on frame numbers would join 0x0 and 0x10000.
    const board = new BoardMemoryMap([
      { base: 0x0, size: 8 * PAGE, kind: 'ram', name: 'a' },
      { base: 0x10000, size: 8 * PAGE, kind: 'ram', name: 'b' },
    ]);
    const a = boot(board);
    expect(a.freeBlocks()).toEqual([0, 0, 0, 2]);
    expect(a.alloc(16 * PAGE)).toBeNull();
    const f = a.alloc(8 * PAGE)!;
    a.free(f);
    a.check();
    expect(a.freeBlocks()).toEqual([0, 0, 0, 2]);
  });

  it('merges a block with a buddy across a region boundary inside a bank', () => {
    const board = new BoardMemoryMap([
      { base: 0x0, size: 4 * PAGE, kind: 'reserved', name: 'boot' },
      { base: 4 * PAGE, size: 4 * PAGE, kind: 'ram', name: 'ram' },
    ]);
    const a = boot(board);
    for (let i = 0; i < 4; i++) a.free({ pa: i * PAGE, order: 0 });
    a.check();
    expect(a.freeBlocks()).toEqual([0, 0, 0, 1]);
    expect(a.info().boot).toBe(0);
  });

  it('hands out zeroed frames: freed data is gone', () => {
    const a = boot(boards.ram(64 * 1024));
    const f = a.alloc(2 * PAGE)!;
    a.mem.write(f.pa + 100, Uint8Array.of(1, 2, 3));
    a.mem.write32(f.pa + PAGE, 0xffffffff);
    a.free(f);
    expect(a.mem.backedBytes).toBe(0);
    const g = a.alloc(2 * PAGE)!;
    expect(g.pa).toBe(f.pa);
    expect(a.mem.read(g.pa, 2 * PAGE).every((b) => b === 0)).toBe(true);
    a.check();
  });

  it('zeroes freed 512-byte frames inside a shared host chunk', () => {
    const a = boot(boards.ram(64 * 1024), 512);
    const f = a.alloc(512)!;
    const g = a.alloc(512)!;
    a.mem.write(f.pa, new Uint8Array(512).fill(9));
    a.mem.write(g.pa, new Uint8Array(512).fill(7));
    a.free(f);
    a.check();
    expect(a.mem.read(f.pa, 512).every((b) => b === 0)).toBe(true);
    expect(a.mem.read(g.pa, 512).every((b) => b === 7)).toBe(true);
  });

  it('returns null when no block is large enough, and when the fault injector says so', () => {
    const a = boot(boards.ram(64 * 1024));
    expect(a.alloc(128 * 1024)).toBeNull();
    expect(a.alloc(2 ** 40)).toBeNull();
    const before = snapshot(a);
    a.faults.failAt('frame', 1);
    expect(a.alloc(PAGE)).toBeNull();
    expect(a.info()).toEqual(before.info);
    expect(a.freeBlocks()).toEqual(before.blocks);
    expect(a.alloc(PAGE)).not.toBeNull();
  });

  it('counts page-table frames at site ptable only', () => {
    const a = boot(boards.ram(64 * 1024));
    a.alloc(PAGE, { owner: PageOwner.KERNEL, usage: PageUsage.PTABLE });
    a.alloc(PAGE);
    expect(a.faults.counts()).toMatchObject({ frame: 1, ptable: 1 });
    a.faults.failAt('ptable', 1);
    expect(a.alloc(PAGE)).not.toBeNull();
    expect(a.alloc(PAGE, { usage: PageUsage.PTABLE })).toBeNull();
  });

  it('exhausts cleanly and recovers', () => {
    const a = boot(boards.ram(256 * 1024));
    const got: Frame[] = [];
    for (let f = a.alloc(PAGE); f; f = a.alloc(PAGE)) got.push(f);
    expect(got.length).toBe(64);
    expect(new Set(got.map((f) => f.pa)).size).toBe(64);
    expect(a.info().free).toBe(0);
    a.check();
    for (const f of got) a.free(f);
    a.check();
    expect(a.freeBlocks()).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });
});

describe('PageAllocator: bad input changes nothing', () => {
  const a = boot(boards.get('ia32-pc-32m'));
  const live = a.alloc(4 * PAGE, { owner: PageOwner.APP })!;
  const freed = a.alloc(PAGE)!;
  a.free(freed);

  it.each<[string, () => unknown]>([
    ['alloc size 0', () => a.alloc(0)],
    ['alloc negative size', () => a.alloc(-PAGE)],
    ['alloc NaN', () => a.alloc(NaN)],
    ['alloc fractional', () => a.alloc(1.5)],
    ['alloc unknown owner', () => a.alloc(PAGE, { owner: 7 as 0 })],
    ['alloc unknown usage', () => a.alloc(PAGE, { usage: 9 as 0 })],
    ['double free', () => a.free(freed)],
    ['free a non-head frame', () => a.free({ pa: live.pa + PAGE, order: 0 })],
    ['free with the wrong order', () => a.free({ pa: live.pa, order: 1 })],
    ['free outside RAM (device hole)', () => a.free({ pa: 0xa0000, order: 0 })],
    ['free past the end of RAM', () => a.free({ pa: 64 * MiB, order: 0 })],
    ['free an unaligned address', () => a.free({ pa: live.pa + 1, order: 2 })],
    ['free null', () => a.free(null as unknown as Frame)],
    ['free NaN', () => a.free({ pa: NaN, order: 0 })],
  ])('%s → EINVAL', (_what, call) => {
    const before = snapshot(a);
    expect(code(call)).toBe('EINVAL');
    expect(snapshot(a)).toEqual(before);
    a.check();
  });
});

describe('PageAllocator: pins', () => {
  it('a pinned frame cannot be freed until every pin is undone; free frames and bad ranges cannot be pinned', () => {
    const mem = new PhysicalMemory(boards.get('riscv-virt-64m'));
    const alloc = new PageAllocator(mem, { pageSize: 4096 });
    const pa = alloc.allocPa(4 * 4096);
    alloc.pin(pa + 4096, 4096);
    alloc.pin(pa + 4096, 8192);
    expect(alloc.pinned(pa + 4096)).toBe(true);
    expect(alloc.pinned(pa)).toBe(false);
    const info = alloc.info();
    expect(code(() => alloc.freePa(pa))).toBe('EBUSY');
    expect(alloc.info()).toEqual(info);
    alloc.check();
    alloc.unpin(pa + 4096, 4096);
    expect(code(() => alloc.freePa(pa))).toBe('EBUSY');
    alloc.unpin(pa + 4096, 8192);
    expect(code(() => alloc.unpin(pa + 4096, 4096))).toBe('EINVAL');
    alloc.freePa(pa);
    for (const [a, n] of [[pa, 4096], [pa + 1, 4096], [pa, 0], [0, 4096], ['x', 4096], [pa, 2 ** 60]] as const) {
      expect(code(() => alloc.pin(a as number, n as number))).toBe('EINVAL');
    }
    alloc.check();
    expect(alloc.info().free).toBe(info.free + 4 * 4096);
  });
});

describe('PageAllocator: get, pageMap, markers', () => {
  it('get(pa) reports the block containing any address', () => {
    const a = boot(boards.ram(1 * MiB));
    const f = a.alloc(8 * PAGE, { owner: PageOwner.KERNEL, usage: PageUsage.HEAP })!;
    const info = { pa: f.pa, order: 3, owner: PageOwner.KERNEL, usage: PageUsage.HEAP, free: false };
    expect(a.get(f.pa)).toEqual(info);
    expect(a.get(f.pa + 5 * PAGE + 123)).toEqual(info);
    expect(a.get(8 * PAGE)).toEqual({ pa: 8 * PAGE, order: 3, owner: 0, usage: 0, free: true });
    expect(a.get(1 * MiB)).toBeUndefined();
    expect(a.get(-1)).toBeUndefined();
  });

  it('marks frames as the original: . B A and kernel usage letters', () => {
    const a = boot(
      new BoardMemoryMap([
        { base: 0, size: PAGE, kind: 'reserved', name: 'boot' },
        { base: PAGE, size: 31 * PAGE, kind: 'ram', name: 'ram' },
        { base: 64 * PAGE, size: 16 * PAGE, kind: 'ram', name: 'high' },
      ]),
    );
    const usages = [
      PageUsage.NONE,
      PageUsage.SYSPAGE,
      PageUsage.CPU,
      PageUsage.PTABLE,
      PageUsage.PMAP,
      PageUsage.STACK,
      PageUsage.HEAP,
    ];
    for (const usage of usages) a.alloc(PAGE, { owner: PageOwner.KERNEL, usage });
    a.alloc(2 * PAGE, { owner: PageOwner.APP });
    a.check();
    const runs = a.pageMap();
    expect(runs.map((r) => r.marker).join('')).toBe('BKYCPMSHA..');
    expect(runs.at(-1)).toEqual({ count: 16, marker: '.', addr: 64 * PAGE });
    expect(formatPageMap(runs, PAGE)).toBe('vm: BKYCPMSH[2A][22.][32x][16.]');
  });

  it('wraps the console page map at 80 columns', () => {
    const runs = Array.from({ length: 40 }, (_, i) => ({ count: 10, marker: i % 2 ? 'A' : '.', addr: i * 10 * PAGE }));
    const lines = formatPageMap(runs, PAGE).split('\n');
    expect(lines.length).toBe(3);
    for (const l of lines) {
      expect(l.startsWith('vm: ')).toBe(true);
      expect(l.length).toBeLessThanOrEqual(80);
    }
  });
});

describe('PageAllocator: metadata', () => {
  it('keeps at most 16 bytes of typed-array metadata per frame', () => {
    const a = boot(boards.get('riscv-virt-4g'));
    const table = (a as unknown as { frames: Record<string, unknown> }).frames;
    const bytes = Object.values(table)
      .filter((v): v is ArrayBufferView => ArrayBuffer.isView(v))
      .reduce((s, v) => s + v.byteLength, 0);
    const frames = a.info().total / PAGE;
    expect(frames).toBe(1 << 20);
    expect(bytes / frames).toBeLessThanOrEqual(16);
  });
});
