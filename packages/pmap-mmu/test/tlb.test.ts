import { Access, FaultCode, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TLB_SIZE, Tlb, ia32, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';
import { expected } from './support/arch-model.js';

const PS = 4096;
const { PRESENT, READ, WRITE, USER } = PageAttr;
const RWU = PRESENT | READ | WRITE | USER;

function boot(factory: typeof sv39) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const frame = () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  return { mem, alloc, kernel, frame };
}

describe('Tlb', () => {
  it('is direct-mapped on the low bits of the page number and invalidates precisely', () => {
    const t = new Tlb(8);
    t.fill(3, 0x1000, 1);
    t.fill(11, 0x2000, 1); // same slot as 3: evicts it
    expect(t.page(3)).toBe(11 * 4096);
    expect(t.physical(11 * 4096)).toBe(0x2000);
    t.fill(4, 0x3000, 1);
    t.invalidatePage(3);
    expect(t.page(3)).toBe(11 * 4096);
    t.invalidatePage(11);
    expect(t.page(3)).toBe(-1);
    t.fill(5, 0, 1);
    t.fill(6, 0, 1);
    t.invalidateRange(0, 100); // wider than the TLB: scans slots
    expect(t.occupied()).toBe(0);
  });

  it('keeps a frame below 4 GiB in the hit word alone, one above in words 2–3 with no hit word', () => {
    const t = new Tlb(8);
    const rw = 0xe; // codes 1, 2, 3: supervisor READ, WRITE, both
    t.fill(1, 0x7000, rw);
    expect(t.word(1)).toBe(0x7000 | 3); // frame | supervisor kinds R W
    expect(t.perm(1)).toBe(rw);
    expect(t.physical(4096)).toBe(0x7000);
    t.fill(2, 2 ** 33 + 0x3000, rw << 8); // the same codes in user mode, a frame above 4 GiB
    expect(t.word(2)).toBe(0);
    expect(t.perm(2)).toBe(rw << 8);
    expect(t.physical(2 * 4096)).toBe(2 ** 33 + 0x3000);
    t.fill(10, 0x9000, rw << 8); // same slot as 2: a frame below 4 GiB replaces it
    expect(t.word(2)).toBe(0x9000 | (3 << 8));
    expect(t.perm(2)).toBe(rw << 8);
    expect(t.physical(10 * 4096)).toBe(0x9000);
    t.flush();
    for (let s = 0; s < 8; s++) expect([t.page(s), t.word(s), t.perm(s)]).toEqual([-1, 0, 0]);
  });
});

describe.each([sv39, ia32])('$name TLB', (factory) => {
  it('serves repeated accesses from the TLB and walks once per page', () => {
    const { kernel, frame } = boot(factory);
    const u = factory.createUser(kernel) as MmuPmap;
    const pa = frame();
    u.enter(pa, 0x40_0000, RWU);
    u.translate(0x40_0000, Access.WRITE | Access.USER);
    const s0 = u.stats();
    for (let i = 0; i < 100; i++) expect(u.translate(0x40_0000 + i * 8, Access.READ | Access.USER)).toBe(pa + i * 8);
    const s1 = u.stats();
    expect(s1.tlbHits - s0.tlbHits).toBe(100);
    expect(s1.tlbMisses).toBe(s0.tlbMisses);
    expect(s1.walks).toBe(s0.walks);
  });

  it('counts every hit exactly, across slots, flushes and destroy (hits are counted per slot)', () => {
    const { kernel, frame } = boot(factory);
    const u = factory.createUser(kernel) as MmuPmap;
    const pages = 40;
    for (let p = 0; p < pages; p++) u.enter(frame(), 0x40_0000 + p * PS, RWU);
    const s0 = u.stats();
    for (let round = 0; round < 3; round++) {
      // 7 and 40 are coprime: the first 40 accesses touch every page once (40 misses), the other 460 hit.
      for (let i = 0; i < 500; i++) {
        const p = (i * 7) % pages;
        expect(u.translate(0x40_0000 + p * PS + 4 * (i % 1024), Access.READ | Access.USER)).toBeGreaterThan(0);
      }
      u.flushTlb();
    }
    const s1 = u.stats();
    expect(s1.tlbMisses - s0.tlbMisses).toBe(3 * pages);
    expect(s1.tlbHits - s0.tlbHits).toBe(3 * (500 - pages));
    u.destroy();
    expect(u.stats().tlbHits).toBe(s1.tlbHits);
  });

  it('caches the dirty state: the first write after a read fill takes the slow path and sets D', () => {
    const { kernel, frame } = boot(factory);
    const u = factory.createUser(kernel) as MmuPmap;
    const pa = frame();
    u.enter(pa, 0x40_0000, RWU);
    expect(u.translate(0x40_0000, Access.READ | Access.USER)).toBe(pa);
    const m0 = u.stats().tlbMisses;
    expect(u.translate(0x40_0004, Access.WRITE | Access.USER)).toBe(pa + 4);
    expect(u.stats().tlbMisses).toBe(m0 + 1);
    expect(u.translate(0x40_0008, Access.WRITE | Access.USER)).toBe(pa + 8);
    expect(u.stats().tlbMisses).toBe(m0 + 1);
    u.check();
  });

  it('invalidates only the pages a remove, protect or re-enter touches', () => {
    const { kernel, frame } = boot(factory);
    const u = factory.createUser(kernel) as MmuPmap;
    const pa = frame();
    for (let i = 0; i < 16; i++) u.enter(pa, 0x40_0000 + i * PS, RWU);
    for (let i = 0; i < 16; i++) u.translate(0x40_0000 + i * PS, Access.WRITE | Access.USER);
    expect(u.tlbOccupancy()).toBe(16);
    const f0 = u.stats().tlbFlushes;
    u.remove(0x40_0000, 0x40_0000 + 2 * PS);
    expect(u.tlbOccupancy()).toBe(14);
    u.protect(0x40_0000 + 2 * PS, 0x40_0000 + 3 * PS, PRESENT | READ | USER);
    expect(u.tlbOccupancy()).toBe(13);
    u.enter(frame(), 0x40_0000 + 3 * PS, RWU);
    expect(u.tlbOccupancy()).toBe(12);
    // entering where nothing was mapped needs no invalidation
    u.enter(pa, 0x40_0000, RWU);
    expect(u.stats().tlbFlushes - f0).toBe(3);
    u.check();
  });

  it('sees kernel-half changes made through another address space (shootdown)', () => {
    const { kernel, frame } = boot(factory);
    const a = factory.createUser(kernel) as MmuPmap;
    const b = factory.createUser(kernel) as MmuPmap;
    const kva = factory.kernelRange[0] + 5 * PS;
    const p1 = frame();
    const p2 = frame();
    kernel.enter(p1, kva, PRESENT | READ | WRITE);
    expect(a.translate(kva, Access.WRITE)).toBe(p1);
    expect(b.translate(kva, Access.WRITE)).toBe(p1);
    kernel.enter(p2, kva, PRESENT | READ);
    expect(a.translate(kva, Access.READ)).toBe(p2);
    expect(b.translate(kva, Access.WRITE)).toBe(FaultCode.PROTECTION);
    const flushes = b.stats().tlbFlushes;
    kernel.remove(kva, kva + PS);
    expect(b.stats().tlbFlushes).toBe(flushes + 1);
    expect(a.translate(kva, Access.READ)).toBe(FaultCode.NOT_MAPPED);
    // a destroyed space is no longer shot at
    b.destroy();
    kernel.enter(p1, kva, PRESENT | READ);
    expect(a.translate(kva, Access.READ)).toBe(p1);
    a.check();
  });

  it('never returns a stale translation (model of kernel and two user spaces, aliasing TLB slots)', () => {
    const userPages = [0x40_0000, 0x40_0000 + TLB_SIZE * PS, 0x40_0000 + PS, 0x80_0000, 0x4000_0000];
    const kPages = [factory.kernelRange[0], factory.kernelRange[0] + TLB_SIZE * PS, factory.kernelRange[0] + PS];
    const attrs = [RWU, PRESENT | READ | USER, PRESENT | READ | WRITE, PRESENT | READ, USER, PRESENT | PageAttr.EXEC | USER];
    const spaceArb = fc.nat(2); // 0 = kernel, 1 and 2 = users
    const cmd = fc.oneof(
      fc.record({ op: fc.constant('enter' as const), space: spaceArb, page: fc.nat(4), frame: fc.nat(3), attr: fc.nat(attrs.length - 1) }),
      fc.record({ op: fc.constant('remove' as const), space: spaceArb, page: fc.nat(4), n: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ op: fc.constant('protect' as const), space: spaceArb, page: fc.nat(4), n: fc.integer({ min: 1, max: 300 }), attr: fc.nat(attrs.length - 1) }),
      fc.record({ op: fc.constant('translate' as const), space: spaceArb, page: fc.nat(7), access: fc.constantFrom(1, 2, 4, 9, 10, 12) }),
    );
    let hits = 0;
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 20, maxLength: 80, size: "max" }), (cmds) => {
        const { alloc, kernel, frame } = boot(factory);
        const frames = [frame(), frame(), frame(), frame()];
        const spaces = [kernel, factory.createUser(kernel) as MmuPmap, factory.createUser(kernel) as MmuPmap];
        const kmodel = new Map<number, { pa: number; attr: number }>();
        const umodel = [kmodel, new Map<number, { pa: number; attr: number }>(), new Map<number, { pa: number; attr: number }>()];
        const pageOf = (space: number, i: number) => (space === 0 ? kPages[i % kPages.length] : userPages[i % userPages.length]);
        for (const c of cmds) {
          const s = spaces[c.space];
          const m = umodel[c.space];
          if (c.op === 'enter') {
            const va = pageOf(c.space, c.page);
            expect(s.enter(frames[c.frame], va, attrs[c.attr])).toBe(0);
            m.set(va, { pa: frames[c.frame], attr: attrs[c.attr] });
          } else if (c.op === 'remove' || c.op === 'protect') {
            const va = pageOf(c.space, c.page);
            const end = Math.min(va + c.n * PS, s.range[1]);
            if (c.op === 'remove') s.remove(va, end);
            else s.protect(va, end, attrs[c.attr]);
            for (const [p, e] of [...m]) {
              if (p < va || p >= end) continue;
              if (c.op === 'remove') m.delete(p);
              else e.attr = attrs[c.attr];
            }
          } else {
            const all = [...userPages, ...kPages];
            const va = all[c.page % all.length];
            const isKernelVa = va >= factory.kernelRange[0];
            if (c.space === 0 && !isKernelVa) continue;
            const e = isKernelVa ? kmodel.get(va) : umodel[c.space].get(va);
            const want = expected(factory.name as 'sv39', e, c.access);
            // twice: the second answer comes from the TLB when the first filled it
            expect(s.translate(va + 12, c.access)).toBe(want < 0 ? want : want + 12);
            expect(s.translate(va + 40, c.access)).toBe(want < 0 ? want : want + 40);
          }
          for (const sp of spaces) sp.check();
        }
        for (const sp of spaces) hits += sp.stats().tlbHits;
        spaces[1].destroy();
        spaces[2].destroy();
        kernel.destroy();
        for (const f of frames) alloc.free({ pa: f, order: 0 });
        expect(alloc.info().alloc).toBe(alloc.info().boot);
      }),
      { numRuns: 120, seed: 7 },
    );
    expect(hits).toBeGreaterThan(0);
  });
});
