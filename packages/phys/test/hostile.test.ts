/*
 * Hostile input (DESIGN §4): values that are not what a signature says — BigInt, numeric strings, null, arrays,
 * NaN, fractions, negatives, 2^53 and up, lengths of terabytes — are refused with a VmError and the right code,
 * before anything changes or any buffer is allocated; never a TypeError or RangeError, never a coerced success.
 */
import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, MAX_FRAMES, PageAllocator, PageOwner, PageUsage, PhysicalMemory, boards, hex } from '../src/index.js';
import type { Frame, MemoryRegion } from '../src/index.js';
import { code } from './support.js';

const PAGE = 4096;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

/** Values that are no address: each would coerce to something plausible (page 0 for most) without a type check. */
const NOT_AN_ADDRESS: unknown[] = [
  '0',
  '4096',
  null,
  [],
  [0],
  false,
  {},
  0n,
  4096n,
  Number.NaN,
  0.5,
  4096.5,
  -PAGE,
  2 ** 53,
  2 ** 53 + PAGE,
  Number.POSITIVE_INFINITY,
  undefined,
];

function full() {
  const alloc = new PageAllocator(new PhysicalMemory(boards.ram(1 << 20)), { pageSize: PAGE });
  const frames: Frame[] = [];
  for (let f = alloc.alloc(PAGE); f !== null; f = alloc.alloc(PAGE)) frames.push(f);
  expect(alloc.get(0)).toMatchObject({ free: false });
  return { alloc, frames };
}

describe('PageAllocator with hostile input', () => {
  it('free and freePa refuse anything but a block head with EINVAL, never freeing frame 0, state unchanged', () => {
    const { alloc } = full();
    const before = alloc.info();
    const blocks = alloc.freeBlocks();
    for (const pa of NOT_AN_ADDRESS) {
      expect(code(() => alloc.freePa(pa as number)), `freePa(${hex(pa)})`).toBe('EINVAL');
      expect(code(() => alloc.free({ pa: pa as number, order: 0 })), `free({ pa: ${hex(pa)} })`).toBe('EINVAL');
    }
    for (const order of [-1, '0', 0n, 0.5, Number.NaN, null, undefined, 2 ** 32]) {
      expect(code(() => alloc.free({ pa: 0, order: order as number })), `free({ order: ${hex(order)} })`).toBe('EINVAL');
    }
    for (const frame of [null, undefined, 0, '0', 0n, []]) {
      expect(code(() => alloc.free(frame as unknown as Frame)), `free(${hex(frame)})`).toBe('EINVAL');
    }
    expect(alloc.info()).toEqual(before);
    expect(alloc.freeBlocks()).toEqual(blocks);
    expect(alloc.get(0)).toMatchObject({ free: false });
    alloc.check();
  });

  it('get answers undefined for anything that is not an address', () => {
    const { alloc } = full();
    for (const pa of NOT_AN_ADDRESS) expect(alloc.get(pa as number), hex(pa)).toBeUndefined();
    expect(alloc.get(0)).toBeDefined();
  });

  it('alloc and allocPa refuse bad sizes and options with EINVAL before the fault injector counts', () => {
    const alloc = new PageAllocator(new PhysicalMemory(boards.ram(1 << 20)), { pageSize: PAGE });
    const before = alloc.info();
    const sizes: unknown[] = [0, -1, 0.5, PAGE + 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 4096n, '4096', null, [PAGE], {}];
    const options: unknown[] = [
      null,
      5,
      'kernel',
      4096n,
      { owner: 1n },
      { owner: '1' },
      { owner: 3 },
      { owner: -1 },
      { owner: 1.5 },
      { owner: Number.NaN },
      { usage: 3n },
      { usage: '3' },
      { usage: 7 },
      { usage: -1 },
      { usage: 2 ** 32 + PageUsage.PTABLE },
    ];
    for (const size of sizes) {
      expect(code(() => alloc.alloc(size as number)), `alloc(${hex(size)})`).toBe('EINVAL');
      expect(code(() => alloc.allocPa(size as number)), `allocPa(${hex(size)})`).toBe('EINVAL');
    }
    for (const o of options) {
      expect(code(() => alloc.alloc(PAGE, o as never)), `alloc(options ${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))})`).toBe('EINVAL');
      expect(code(() => alloc.allocPa(PAGE, o as never))).toBe('EINVAL');
    }
    expect(alloc.faults.counts()).toMatchObject({ frame: 0, ptable: 0, failed: 0 });
    expect(alloc.info()).toEqual(before);
    // A size no block can hold is exhaustion, not bad input.
    expect(alloc.alloc(2 ** 53 - 1)).toBeNull();
    expect(alloc.allocPa(TiB)).toBe(-1);
    expect(alloc.alloc(PAGE, undefined)).not.toBeNull();
    expect(alloc.alloc(PAGE, { owner: PageOwner.APP, usage: PageUsage.HEAP })).not.toBeNull();
    alloc.check();
  });

  it('the constructor refuses what is not a PhysicalMemory or options, with EINVAL', () => {
    const mem = new PhysicalMemory(boards.ram(1 << 20));
    for (const [m, o] of [
      [null, { pageSize: PAGE }],
      [{}, { pageSize: PAGE }],
      [mem, null],
      [mem, undefined],
      [mem, { pageSize: 4096n }],
      [mem, { pageSize: '4096' }],
      [mem, { pageSize: 2 ** 32 + PAGE }],
    ] as Array<[unknown, unknown]>) {
      expect(code(() => new PageAllocator(m as PhysicalMemory, o as { pageSize: number }))).toBe('EINVAL');
    }
  });
});

describe('PhysicalMemory with hostile input', () => {
  const mem = new PhysicalMemory(boards.get('riscv-virt-4g'));
  const pa = 0x8000_0000;

  it('refuses non-number addresses with EINVAL, number non-addresses with EFAULT, at every width', () => {
    const calls: Array<[string, (a: unknown) => unknown]> = [
      ['read8', (a) => mem.read8(a as number)],
      ['read16', (a) => mem.read16(a as number)],
      ['read32', (a) => mem.read32(a as number)],
      ['write8', (a) => mem.write8(a as number, 1)],
      ['write16', (a) => mem.write16(a as number, 1)],
      ['write32', (a) => mem.write32(a as number, 1)],
      ['read', (a) => mem.read(a as number, 4)],
      ['write', (a) => mem.write(a as number, Uint8Array.of(1))],
      ['zero', (a) => mem.zero(a as number, 4)],
      ['copy to', (a) => mem.copy(a as number, pa, 4)],
      ['copy from', (a) => mem.copy(pa, a as number, 4)],
    ];
    for (const [name, f] of calls) {
      for (const v of [BigInt(pa), String(pa), null, [pa], {}]) expect(code(() => f(v)), `${name}(${hex(v)})`).toBe('EINVAL');
      for (const v of [Number.NaN, pa + 0.5, -4, 2 ** 53, Number.POSITIVE_INFINITY]) expect(code(() => f(v)), `${name}(${hex(v)})`).toBe('EFAULT');
    }
    // Zero bytes touch nothing, but the address must still be a number.
    for (const v of [BigInt(pa), String(pa), null] as unknown[]) {
      expect(code(() => mem.read(v as number, 0))).toBe('EINVAL');
      expect(code(() => mem.write(v as number, new Uint8Array(0)))).toBe('EINVAL');
      expect(code(() => mem.zero(v as number, 0))).toBe('EINVAL');
      expect(code(() => mem.copy(v as number, pa, 0))).toBe('EINVAL');
      expect(code(() => mem.copy(pa, v as number, 0))).toBe('EINVAL');
    }
    expect(mem.backedBytes).toBe(0);
  });

  it('refuses lengths that are not sizes with EINVAL, and huge ones with EFAULT before allocating', () => {
    for (const len of [4n, '4', -1, 0.5, Number.NaN, null, 2 ** 53]) {
      expect(code(() => mem.read(pa, len as number)), `read len ${hex(len)}`).toBe('EINVAL');
      expect(code(() => mem.zero(pa, len as number)), `zero len ${hex(len)}`).toBe('EINVAL');
      expect(code(() => mem.copy(pa, pa + 64, len as number)), `copy len ${hex(len)}`).toBe('EINVAL');
    }
    for (const len of [TiB, 2 ** 32 + 1, 2 ** 53 - 1]) {
      expect(code(() => mem.read(pa, len)), `read ${hex(len)}`).toBe('EFAULT');
      expect(code(() => mem.zero(pa, len))).toBe('EFAULT');
      expect(code(() => mem.copy(pa, pa + PAGE, len))).toBe('EFAULT');
    }
    expect(code(() => mem.read(0x1000_0000, TiB))).toBe('EFAULT');
  });

  it('refuses values that are not numbers with EINVAL, and keeps the C-cast truncation of numbers', () => {
    for (const v of [1n, '1', null, [1], {}]) {
      expect(code(() => mem.write8(pa, v as number))).toBe('EINVAL');
      expect(code(() => mem.write16(pa, v as number))).toBe('EINVAL');
      expect(code(() => mem.write32(pa, v as number))).toBe('EINVAL');
    }
    expect(mem.backedBytes).toBe(0);
    mem.write32(pa, 2 ** 32 + 5);
    expect(mem.read32(pa)).toBe(5);
    mem.write32(pa, 0);
  });

  it('isRam is a predicate: false for anything that is not an address', () => {
    for (const v of [BigInt(pa), String(pa), null, Number.NaN, pa + 0.5, -1]) expect(mem.isRam(v as number)).toBe(false);
    expect(mem.isRam(pa, 4n as unknown as number)).toBe(false);
    expect(mem.isRam(pa)).toBe(true);
  });

  it('a read larger than the host can allocate is ENOMEM, not a RangeError', () => {
    const big = new PhysicalMemory(boards.ram(4 * TiB));
    expect(code(() => big.read(0, 2 * TiB))).toBe('ENOMEM');
  });
});

describe('boards and RAM of any size', () => {
  it('a board of several TiB is a board; PhysicalMemory backs it lazily, even at its top', () => {
    for (const size of [4 * TiB, 2 ** 52]) {
      const board = boards.ram(size);
      const t0 = performance.now();
      const mem = new PhysicalMemory(board);
      expect(performance.now() - t0).toBeLessThan(100);
      const top = size - PAGE;
      mem.write32(top, 0xdead_beef);
      mem.write8(TiB + 3, 7);
      expect(mem.read32(top)).toBe(0xdead_beef);
      expect(mem.read8(TiB + 3)).toBe(7);
      expect(mem.backedBytes).toBe(2 * 4096);
      expect([...mem.backedChunks()]).toEqual([TiB, top]);
      mem.zero(top, PAGE);
      mem.zero(TiB, PAGE);
      expect(mem.backedBytes).toBe(0);
      expect(code(() => mem.read8(size))).toBe('EFAULT');
    }
  });

  it('refuses with EINVAL what cannot be represented: past 2^53, fractions, BigInt, strings', () => {
    expect(code(() => boards.ram(2 ** 53))).toBe('EINVAL');
    expect(code(() => boards.ram(2 ** 52, 2 ** 52))).toBe('EINVAL');
    expect(code(() => boards.ram(4096n as unknown as number))).toBe('EINVAL');
    expect(code(() => boards.ram('4096' as unknown as number))).toBe('EINVAL');
    expect(code(() => boards.ram(PAGE + 0.5))).toBe('EINVAL');
    expect(code(() => boards.ram(PAGE, 4096n as unknown as number))).toBe('EINVAL');
    const region = (r: Partial<Record<keyof MemoryRegion, unknown>>) => [{ base: 0, size: PAGE, kind: 'ram', name: 'r', ...r }] as MemoryRegion[];
    for (const r of [{ size: 4096n }, { base: 0n }, { size: '4096' }, { base: null }, { size: 2 ** 53 }]) {
      expect(code(() => new BoardMemoryMap(region(r)))).toBe('EINVAL');
    }
    for (const b of [null, undefined, {}, { banks: [] }, 'riscv-virt-64m']) {
      expect(code(() => new PhysicalMemory(b as unknown as BoardMemoryMap))).toBe('EINVAL');
    }
  });

  it('the allocator takes any RAM whose page numbers fit in 31 bits (MAX_FRAMES), and refuses the rest with EINVAL', () => {
    expect(MAX_FRAMES).toBe(2 ** 31);
    // Frame metadata is per touched section: 4 TiB and 8 TiB (the last page number is 2^31 - 1) boot at once.
    for (const size of [4 * TiB, 8 * TiB]) {
      const t0 = performance.now();
      const big = new PageAllocator(new PhysicalMemory(boards.ram(size)), { pageSize: PAGE });
      expect(performance.now() - t0).toBeLessThan(100);
      expect(big.info().total).toBe(size);
      const block = big.allocPa(PAGE << 15);
      expect(block).toBe(0);
      big.freePa(block);
    }
    expect(code(() => new PageAllocator(new PhysicalMemory(boards.ram(8 * TiB + PAGE)), { pageSize: PAGE }))).toBe('EINVAL');
    expect(code(() => new PageAllocator(new PhysicalMemory(boards.ram(MAX_FRAMES * 512 + 512)), { pageSize: 512 }))).toBe('EINVAL');
    // RAM whose page numbers leave 31 bits is unrepresentable, however little of it there is.
    expect(code(() => new PageAllocator(new PhysicalMemory(boards.ram(1 << 20, 2 ** 44)), { pageSize: PAGE }))).toBe('EINVAL');
    expect(code(() => new PageAllocator(new PhysicalMemory(boards.ram(2 ** 52)), { pageSize: PAGE }))).toBe('EINVAL');
  });

  it('boots riscv-virt-4g fast', () => {
    const t0 = performance.now();
    const alloc = new PageAllocator(new PhysicalMemory(boards.get('riscv-virt-4g')), { pageSize: PAGE });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(alloc.info().total).toBe(4 * GiB);
  });
});
