import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, PageAllocator, PageOwner, PhysicalMemory, boards } from '../src/index.js';
import type { Frame, PageOwnerValue } from '../src/index.js';

/*
 * Reference model: one boolean per page of each bank. A buddy allocator that always merges free buddies can
 * satisfy a request of 2^k pages exactly when some naturally aligned run of 2^k pages inside one bank is free,
 * so the model predicts success and failure, not only accounting.
 */
class Model {
  readonly used: Map<number, boolean>[];
  readonly live = new Map<number, { pages: number; owner: PageOwnerValue; tag: number }>();

  constructor(
    readonly board: BoardMemoryMap,
    readonly page: number,
  ) {
    this.used = board.banks.map(() => new Map());
    for (const r of board.regions) if (r.kind === 'reserved') for (let a = r.base; a < r.base + r.size; a += page) this.mark(a, true);
  }

  bankIndex(pa: number): number {
    return this.board.banks.findIndex((b) => pa >= b.base && pa < b.base + b.size);
  }

  mark(pa: number, v: boolean): void {
    const m = this.used[this.bankIndex(pa)];
    if (v) m.set(pa, true);
    else m.delete(pa);
  }

  isUsed(pa: number): boolean {
    return this.used[this.bankIndex(pa)]?.get(pa) === true;
  }

  canAlloc(pages: number): boolean {
    const size = pages * this.page;
    return this.board.banks.some((b, i) => {
      for (let s = Math.ceil(b.base / size) * size; s + size <= b.base + b.size; s += size) {
        let free = true;
        for (let a = s; a < s + size && free; a += this.page) if (this.used[i].get(a)) free = false;
        if (free) return true;
      }
      return false;
    });
  }

  /** The lowest address where `pages` free pages lie in a row inside one bank, or -1. */
  lowestRun(pages: number): number {
    for (const [i, b] of this.board.banks.map((b, i) => [i, b] as const).sort((x, y) => x[1].base - y[1].base)) {
      let run = 0;
      for (let a = b.base; a < b.base + b.size; a += this.page) {
        run = this.used[i].get(a) ? 0 : run + 1;
        if (run === pages) return a - (pages - 1) * this.page;
      }
    }
    return -1;
  }

  usedBytes(): number {
    return this.used.reduce((s, m) => s + m.size, 0) * this.page;
  }
}

type Op = { kind: 'alloc'; pages: number; extra: number; owner: PageOwnerValue; exact: boolean } | { kind: 'free'; pick: number };

const BOARDS: [string, () => BoardMemoryMap, number][] = [
  ['riscv-virt-64m', () => boards.get('riscv-virt-64m'), 4096],
  ['ia32-pc-32m', () => boards.get('ia32-pc-32m'), 4096],
  ['stm32-512k (512 B pages)', () => boards.get('stm32-512k'), 512],
  [
    'two banks around a hole',
    () =>
      new BoardMemoryMap([
        { base: 0x1000, size: 0x3000, kind: 'reserved', name: 'fw' },
        { base: 0x4000, size: 0x7c000, kind: 'ram', name: 'low' },
        { base: 0x100000, size: 0x40000, kind: 'ram', name: 'high' },
      ]),
    4096,
  ],
];

function opsFor(ramPages: number): fc.Arbitrary<Op[]> {
  const maxPages = Math.max(1, Math.floor(ramPages / 4));
  const alloc = fc.record({
    kind: fc.constant('alloc' as const),
    // Bias toward small requests as real kernels make, but reach 1/4 of RAM.
    pages: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: maxPages })),
    extra: fc.integer({ min: 0, max: 4095 }),
    owner: fc.constantFrom<PageOwnerValue>(PageOwner.KERNEL, PageOwner.APP),
    // allocExact: the run is exactly the pages asked for, the rest of the power-of-two block free again.
    exact: fc.boolean(),
  });
  const free = fc.record({ kind: fc.constant('free' as const), pick: fc.nat() });
  return fc.array(fc.oneof({ arbitrary: alloc, weight: 3 }, { arbitrary: free, weight: 2 }), { maxLength: 40 });
}

describe.each(BOARDS)('buddy allocator vs model: %s', (_name, makeBoard, page) => {
  it('agrees on success, placement rules, accounting and contents; frees back to the boot blocks', () => {
    const board = makeBoard();
    const ramPages = board.ramSize / page;
    fc.assert(
      fc.property(opsFor(ramPages), fc.boolean(), (ops, firstFitAlways) => {
        const a = new PageAllocator(new PhysicalMemory(board), { pageSize: page, exactPlacement: firstFitAlways ? 'first-fit' : 'buddy' });
        const bootBlocks = a.freeBlocks();
        const bootInfo = a.info();
        const model = new Model(board, page);
        const frames: (Frame & { size?: number })[] = [];
        let tag = 1;
        for (const op of ops) {
          if (op.kind === 'alloc') {
            const size = Math.max(1, op.pages * page - (op.extra % page));
            let pages = 1;
            while (pages * page < size) pages *= 2;
            const want = Math.ceil(size / page);
            const aligned = model.canAlloc(pages);
            // allocExact: a free aligned power-of-two block if there is one, else the lowest run of free pages.
            // With exactPlacement 'first-fit', always the lowest run.
            const firstFit = op.exact && (firstFitAlways || (!aligned && want > 1)) ? model.lowestRun(want) : -1;
            const expectOk = op.exact && firstFitAlways ? firstFit >= 0 : aligned || firstFit >= 0;
            const pa = op.exact ? a.allocExact(size, { owner: op.owner }) : -2;
            const f = op.exact ? (pa < 0 ? null : { pa, order: -1, size }) : a.alloc(size, { owner: op.owner });
            expect(f !== null).toBe(expectOk);
            if (f) {
              if (!op.exact) expect(2 ** f.order).toBe(pages);
              if (firstFit >= 0) expect(f.pa).toBe(firstFit);
              else expect(f.pa % (pages * page)).toBe(0);
              const held = op.exact ? want : pages;
              for (let p = f.pa; p < f.pa + held * page; p += page) {
                expect(model.isUsed(p)).toBe(false);
                model.mark(p, true);
              }
              // Handed out zeroed, then stamped so a later overlap or a lost byte shows.
              expect(a.mem.read32(f.pa)).toBe(0);
              expect(a.mem.read32(f.pa + held * page - 4)).toBe(0);
              a.mem.write32(f.pa, tag);
              a.mem.write32(f.pa + held * page - 4, tag);
              model.live.set(f.pa, { pages: held, owner: op.owner, tag: tag++ });
              frames.push(f);
            }
          } else if (frames.length > 0) {
            const [f] = frames.splice(op.pick % frames.length, 1);
            const m = model.live.get(f.pa)!;
            expect(a.mem.read32(f.pa)).toBe(m.tag);
            expect(a.mem.read32(f.pa + m.pages * page - 4)).toBe(m.tag);
            if (f.size !== undefined) a.freeExact(f.pa, f.size);
            else a.free(f);
            model.live.delete(f.pa);
            for (let p = f.pa; p < f.pa + m.pages * page; p += page) model.mark(p, false);
          }
          a.check();
          const info = a.info();
          expect(info.alloc).toBe(model.usedBytes());
          const byOwner = (o: number) => [...model.live.values()].filter((l) => l.owner === o).reduce((s, l) => s + l.pages * page, 0);
          expect(info.kernel).toBe(byOwner(PageOwner.KERNEL));
          expect(info.app).toBe(byOwner(PageOwner.APP));
          expect(info.boot).toBe(bootInfo.boot);
        }
        for (const f of frames) {
          if (f.size !== undefined) a.freeExact(f.pa, f.size);
          else a.free(f);
        }
        a.check();
        expect(a.freeBlocks()).toEqual(bootBlocks);
        expect(a.info()).toEqual(bootInfo);
        expect(a.mem.backedBytes).toBe(0);
      }),
      { numRuns: ramPages > 8192 ? 30 : 60 },
    );
  });
});
