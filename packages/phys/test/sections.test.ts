import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, PageAllocator, PhysicalMemory, boards } from '../src/index.js';
import { SECTION_FRAMES, SECTION_SHIFT } from '../src/frame-table.js';

const PAGE = 4096;
const MiB = 2 ** 20;
const TiB = 2 ** 40;
const SECTION = SECTION_FRAMES * PAGE;

interface Inner {
  frames: { metadataBytes: number; untouched: number };
}

const metadata = (a: PageAllocator) => (a as unknown as Inner).frames.metadataBytes;

/** riscv-virt-4g's map with 1 TiB of DRAM, and (optionally) the last page of RAM reserved too. */
function riscv1t(topReserved: boolean): BoardMemoryMap {
  const regions = boards
    .get('riscv-virt-4g')
    .regions.filter((r) => r.name !== 'dram')
    .concat([{ base: 0x8030_0000, size: TiB - 3 * MiB - (topReserved ? PAGE : 0), kind: 'ram', name: 'dram' }]);
  if (topReserved) regions.push({ base: 0x8000_0000 + TiB - PAGE, size: PAGE, kind: 'reserved', name: 'top' });
  return new BoardMemoryMap(regions, 'riscv-virt-1t');
}

describe('frame metadata per section (sparse)', () => {
  it('a 1 TiB board boots with the metadata of the sections holding reserved memory only, like riscv-virt-4g', () => {
    const small = new PageAllocator(new PhysicalMemory(boards.get('riscv-virt-4g')), { pageSize: PAGE });
    const big = new PageAllocator(new PhysicalMemory(riscv1t(false)), { pageSize: PAGE });
    expect(metadata(big)).toBe(metadata(small));
    expect(metadata(big)).toBeLessThanOrEqual(SECTION_FRAMES * 6);
    expect(big.info()).toMatchObject({ total: TiB, boot: 3 * MiB, free: TiB - 3 * MiB });
    big.check();
    // Untouched sections are free blocks of the section order.
    expect(big.freeBlocks()[SECTION_SHIFT]).toBe(TiB / SECTION - 1);
    expect(big.get(0x8000_0000 + TiB - 5 * PAGE)).toEqual({ pa: 0x8000_0000 + TiB - SECTION, order: SECTION_SHIFT, owner: 0, usage: 0, free: true });
    const map = big.pageMap();
    expect(map[0]).toEqual({ count: 768, marker: 'B', addr: 0x8000_0000 });
    expect(map.slice(1).reduce((s, r) => s + r.count, 0)).toBe((TiB - 3 * MiB) / PAGE);
  });

  it('allocates at both ends of a 1 TiB board and from untouched sections, and frees back to the boot blocks', () => {
    const a = new PageAllocator(new PhysicalMemory(riscv1t(true)), { pageSize: PAGE });
    a.check();
    const bootBlocks = a.freeBlocks();
    const bootInfo = a.info();
    const untouched = (a as unknown as Inner).frames.untouched;
    expect(untouched).toBe(TiB / SECTION - 2);
    // The bottom and the top sections hold reserved frames: their largest free blocks are half a section each.
    const halves = [a.allocPa(SECTION / 2), a.allocPa(SECTION / 2)].sort((x, y) => x - y);
    expect(halves).toEqual([0x8000_0000 + SECTION / 2, 0x8000_0000 + TiB - SECTION]);
    // A whole section comes from the lowest untouched one, which gets metadata then.
    const before = metadata(a);
    const whole = a.allocPa(SECTION);
    expect(whole).toBe(0x8000_0000 + SECTION);
    expect(metadata(a)).toBe(before + SECTION_FRAMES * 6);
    expect((a as unknown as Inner).frames.untouched).toBe(untouched - 1);
    // A page written to (its data is dropped on free), and the boot frame at the very top given back.
    const top = a.allocPa(PAGE);
    a.mem.write32(top, 0xfeed);
    a.free({ pa: 0x8000_0000 + TiB - PAGE, order: 0 });
    a.check();
    expect(a.info().boot).toBe(bootInfo.boot - PAGE);
    for (const pa of [...halves, whole, top]) a.freePa(pa);
    a.check();
    expect(a.mem.backedBytes).toBe(0);
    // The top page is free now, so the top section merged whole; everything else is as at boot.
    const blocks = a.freeBlocks();
    expect(blocks[SECTION_SHIFT]).toBe(bootBlocks[SECTION_SHIFT] + 1);
    expect(a.info()).toEqual({ ...bootInfo, free: bootInfo.free + PAGE, alloc: bootInfo.alloc - PAGE, boot: bootInfo.boot - PAGE });
  });

  it('exhausts a board of untouched sections page by page and merges back to the boot blocks', () => {
    const a = new PageAllocator(new PhysicalMemory(boards.ram(4 * SECTION)), { pageSize: PAGE });
    expect(metadata(a)).toBe(0);
    const boot = a.freeBlocks();
    expect(boot).toEqual([...new Array(SECTION_SHIFT).fill(0), 4]);
    const pas = new Float64Array(4 * SECTION_FRAMES);
    let n = 0;
    for (let pa = a.allocPa(PAGE); pa >= 0; pa = a.allocPa(PAGE)) pas[n++] = pa;
    expect(n).toBe(4 * SECTION_FRAMES);
    expect(new Set(pas).size).toBe(n);
    expect(a.info().free).toBe(0);
    a.check();
    for (let i = n - 1; i >= 0; i--) a.freePa(pas[i]);
    a.check();
    expect(a.freeBlocks()).toEqual(boot);
    expect(metadata(a)).toBe(4 * SECTION_FRAMES * 6);
  });

  it('banks far apart cost nothing between them; holes in a live section are no frames', () => {
    const board = new BoardMemoryMap([
      { base: 0, size: 64 * PAGE, kind: 'ram', name: 'low' },
      { base: 128 * PAGE, size: 64 * PAGE, kind: 'ram', name: 'mid' },
      { base: 2 ** 42, size: 16 * MiB, kind: 'ram', name: 'high' },
    ]);
    const a = new PageAllocator(new PhysicalMemory(board), { pageSize: PAGE });
    a.check();
    expect(metadata(a)).toBeLessThanOrEqual(2 * 6 * 4096);
    expect(a.get(100 * PAGE)).toBeUndefined();
    expect(a.get(2 ** 41)).toBeUndefined();
    expect(a.get(2 ** 42 + 5 * PAGE)).toMatchObject({ free: true, order: 12 });
    const big = a.allocPa(16 * MiB);
    expect(big).toBe(2 ** 42);
    expect(a.allocPa(128 * PAGE)).toBe(-1);
    a.freePa(big);
    a.check();
    expect(a.freeBlocks()).toEqual([0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1]);
  });
});
