/*
 * The exported fast path (`MmuPmap.tlbView()`): the hit rule documented in the README and in `TlbView`, written out
 * here as a caller inlines it, must never disagree with `translate` — for random pages and access codes, across
 * enter/protect/remove (user and kernel half), flushTlb, frames above 4 GiB and destroy — and the view must stay
 * the same arrays for the life of the address space.
 */
import { Access, FaultCode, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TLB_SIZE, ia32, sv39 } from '../src/index.js';
import type { MmuPmap, TlbView } from '../src/index.js';

const PS = 4096;
const { PRESENT, READ, WRITE, EXEC, USER } = PageAttr;

/** The documented rule: the physical address on a hit, undefined on a miss (the caller then calls translate). */
function viewHit(view: TlbView, va: number, access: number): number | undefined {
  const { entries, mask } = view;
  const need = (access & 7) << (access & 8);
  const k = ((va >>> 12) & mask) << 2;
  const w = entries[k + 1];
  return entries[k] === Math.floor(va / 4096) && (w & need) === need ? ((w & -4096) | (va & 4095)) >>> 0 : undefined;
}

/** The ia32 form of the same rule: 32-bit addresses, page number `va >>> 12`. */
function viewHit32(view: TlbView, va: number, access: number): number | undefined {
  const { entries, mask } = view;
  const need = (access & 7) << (access & 8);
  const k = ((va >>> 12) & mask) << 2;
  const w = entries[k + 1];
  return entries[k] === va >>> 12 && (w & need) === need ? ((w & -4096) | (va & 4095)) >>> 0 : undefined;
}

function boot(factory: PmapFactory, boardName = factory.defaultBoard) {
  const board = boards.get(boardName);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const frame = () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  return { mem, alloc, kernel, frame };
}

const ATTRS = [
  PRESENT | READ | WRITE | USER,
  PRESENT | READ | USER,
  PRESENT | EXEC | USER,
  PRESENT | READ | WRITE,
  PRESENT | READ,
  USER | READ, // entered without PRESENT
];

describe.each([sv39, ia32])('$name tlbView', (factory) => {
  it('agrees with translate for random pages and accesses across enter, protect, remove, flushes and destroy', () => {
    const userPages = [0x40_0000, 0x40_0000 + PS, 0x40_0000 + TLB_SIZE * PS, 0x80_0000, 0x4000_0000 - PS];
    const kernelPages = [factory.kernelRange[0], factory.kernelRange[0] + PS, factory.kernelRange[0] + TLB_SIZE * PS];
    const all = [...userPages, ...kernelPages];
    const cmd = fc.oneof(
      fc.record({ op: fc.constant('enter' as const), kernel: fc.boolean(), page: fc.nat(9), frame: fc.nat(2), attr: fc.nat(ATTRS.length - 1) }),
      fc.record({ op: fc.constant('protect' as const), kernel: fc.boolean(), page: fc.nat(9), n: fc.integer({ min: 1, max: 300 }), attr: fc.nat(ATTRS.length - 1) }),
      fc.record({ op: fc.constant('remove' as const), kernel: fc.boolean(), page: fc.nat(9), n: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ op: fc.constant('flush' as const) }),
      fc.record({ op: fc.constant('access' as const), page: fc.nat(all.length - 1), offset: fc.nat(PS - 1), access: fc.integer({ min: 1, max: 15 }) }),
    );
    let hits = 0;
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 10, maxLength: 60 }), (cmds) => {
        const { alloc, kernel, frame } = boot(factory);
        const frames = [frame(), frame(), frame()];
        const user = factory.createUser(kernel) as MmuPmap;
        const view = user.tlbView();
        const entries = view.entries;
        // Every page and access code: where the rule hits, translate (asked after, so its own hit or walk is not
        // helped by the rule) answers the same address.
        const agree = () => {
          for (const va0 of all) {
            for (const off of [0, 8, PS - 4]) {
              const va = va0 + off;
              for (let access = 1; access < 16; access++) {
                if ((access & 7) === 0) continue;
                const hit = viewHit(view, va, access);
                if (factory === ia32) expect(viewHit32(view, va, access)).toBe(hit);
                if (hit === undefined) continue;
                hits++;
                expect(user.translate(va, access)).toBe(hit);
              }
            }
          }
        };
        for (const c of cmds) {
          if (c.op === 'flush') user.flushTlb();
          else if (c.op === 'access') {
            const va = all[c.page] + (c.offset & ~3);
            const hit = viewHit(view, va, c.access);
            const pa = user.translate(va, c.access);
            if (hit !== undefined) expect(pa).toBe(hit);
            // A translation that succeeded is now cached for its access (a write's fill sets D first): the rule hits.
            const again = viewHit(view, va, c.access);
            if (pa >= 0) expect(again).toBe(pa);
            else expect(again).toBeUndefined();
          } else {
            const space = c.kernel ? kernel : user;
            const pages = c.kernel ? kernelPages : userPages;
            const va = pages[c.page % pages.length];
            if (c.op === 'enter') space.enter(frames[c.frame], va, ATTRS[c.attr]);
            else {
              const end = Math.min(va + c.n * PS, space.range[1]);
              if (c.op === 'remove') space.remove(va, end);
              else space.protect(va, end, ATTRS[c.attr]);
            }
          }
          agree();
          // The same arrays for the life of the space.
          expect(user.tlbView()).toBe(view);
          expect(user.tlbView().entries).toBe(entries);
        }
        user.check();
        user.destroy();
        // After destroy every slot is empty: the rule never hits, and translate refuses.
        expect(user.tlbView().entries).toBe(entries);
        for (const va of all) {
          for (const access of [1, 2, 4, 9, 10, 12]) {
            expect(viewHit(view, va, access)).toBeUndefined();
            expect(user.translate(va, access)).toBeLessThan(0);
          }
        }
        kernel.destroy();
        for (const f of frames) alloc.free({ pa: f, order: 0 });
        expect(alloc.info().alloc).toBe(alloc.info().boot);
      }),
      { numRuns: 40, seed: 13 },
    );
    expect(hits).toBeGreaterThan(0);
  });

  it('describes its slots: mask and page shift, empty slots allowing nothing', () => {
    const { kernel } = boot(factory);
    const user = factory.createUser(kernel) as MmuPmap;
    const view = user.tlbView();
    expect(view.mask).toBe(TLB_SIZE - 1);
    expect(view.pageShift).toBe(12);
    expect(view.entries.length).toBe(4 * TLB_SIZE);
    for (let s = 0; s < TLB_SIZE; s++) {
      expect(view.entries[4 * s]).toBe(-1);
      expect(view.entries[4 * s + 1]).toBe(0);
      expect(view.entries[4 * s + 2]).toBe(0);
    }
    expect(Object.isFrozen(view)).toBe(true);
  });
});

describe('sv39 tlbView above 4 GiB', () => {
  it('never hits a frame above 4 GiB: translate serves it from the same slot', () => {
    const { kernel } = boot(sv39, 'riscv-virt-4g');
    const user = sv39.createUser(kernel) as MmuPmap;
    // The top frame of RAM on this board (DRAM at 2 GiB, 4 GiB of it), mapped without being allocated: the
    // translation is all this test asks about.
    const pa = 0x1_7fff_f000;
    expect(user.enter(pa, 0x40_0000, PRESENT | READ | WRITE | USER)).toBe(0);
    const view = user.tlbView();
    const va = 0x40_0000 + 0x123;
    expect(viewHit(view, va, Access.READ | Access.USER)).toBeUndefined();
    expect(user.translate(va, Access.READ | Access.USER)).toBe(pa + 0x123);
    // Cached (words 2–3 hold the frame, bits 32–47 above bit 16), but its hit word allows nothing: the rule
    // leaves it to translate, which answers from the slot without a walk.
    const s0 = user.stats();
    expect(view.entries[((0x400 & view.mask) << 2) + 1]).toBe(0);
    expect(viewHit(view, va, Access.READ | Access.USER)).toBeUndefined();
    expect(viewHit32(view, va, Access.READ | Access.USER)).toBeUndefined();
    expect(user.translate(va, Access.READ | Access.USER)).toBe(pa + 0x123);
    expect(user.stats().tlbHits - s0.tlbHits).toBe(1);
    expect(user.stats().walks).toBe(s0.walks);
    user.remove(0x40_0000, 0x40_1000);
    expect(viewHit(view, va, Access.READ | Access.USER)).toBeUndefined();
    expect(user.translate(va, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
  });
});
