/*
 * The walkers agree with the existing pmaps on every mapping the pmaps build: random enter/protect/remove sequences
 * (user pages over table boundaries and aliasing TLB slots, and kernel pages reached through the user root's
 * shared kernel half), then every page of the set translated with every access code in both modes — through the
 * walker from the pmap's `root` (what satp.PPN × 4096 / CR3 would hold) and through the pmap's own `translate` —
 * with the same answer: the same physical address, or the same `FaultCode`. Both set A/D in the same RAM, so the
 * order of the two calls does not matter. The walker is configured as the pmap's hardware: Sv39 with Svadu,
 * SUM=0, MXR=0; ia32 with CR0.WP=1, no SMEP/SMAP, CR4.PSE as the format allows.
 */
import { PageAllocator, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ia32 } from '../src/ia32.js';
import { sv39 } from '../src/sv39.js';
import type { MmuPmap } from '../src/mmu-pmap.js';
import { createWalker } from '../src/walk/create-walker.js';
import type { PageWalker } from '../src/walk/types.js';

const PS = 4096;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

// User pages over 2 MiB / 4 MiB / 1 GiB table boundaries and 256 pages apart (TLB slot aliases).
const USER_PAGES = [PS, 2 * PS, 4 * MiB - PS, 4 * MiB, 4 * MiB + 256 * PS, 6 * MiB, GiB - PS, GiB, 2 * GiB + 8 * MiB];
const ACCESSES = [1, 2, 3, 4, 9, 10, 11, 12];

type Cmd =
  | { op: 'enter'; kernel: boolean; page: number; frame: number; attr: number }
  | { op: 'remove' | 'protect'; kernel: boolean; from: number; to: number; attr: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('enter' as const),
      kernel: fc.boolean(),
      page: fc.nat(USER_PAGES.length - 1),
      frame: fc.nat(7),
      attr: fc.nat(0xff),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('remove' as const, 'protect' as const),
      kernel: fc.boolean(),
      from: fc.nat(USER_PAGES.length - 1),
      to: fc.nat(USER_PAGES.length - 1),
      attr: fc.nat(0xff),
    }),
  },
);

function run(factory: PmapFactory, makeWalker: (mem: PhysicalMemory) => PageWalker, cmds: Cmd[]): number {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const user = factory.createUser(kernel) as MmuPmap;
  const frames = Array.from({ length: 8 }, () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa);
  const walker = makeWalker(mem);
  const kbase = factory.kernelRange[0];
  // Kernel pages: the same offsets from the kernel base (the kernel half is 1 GiB on both formats).
  const KERNEL_PAGES = USER_PAGES.filter((p) => p < GiB).map((p) => kbase + p - PS);
  const pages = (k: boolean) => (k ? KERNEL_PAGES : USER_PAGES);
  let compared = 0;
  for (const c of cmds) {
    const pmap = c.kernel ? kernel : user;
    const set = pages(c.kernel);
    if (c.op === 'enter') {
      const va = set[c.page % set.length];
      expect(pmap.enter(frames[c.frame], va, c.attr)).toBe(0);
      // Entering over a mapping changes a PTE the TLB may hold: the OS flushes it.
      flushPage(walker, va);
    } else {
      const x = set[c.from % set.length];
      const y = set[c.to % set.length];
      const a = Math.min(x, y);
      const b = Math.max(x, y) + PS;
      if (c.op === 'remove') pmap.remove(a, b);
      else pmap.protect(a, b, c.attr);
      // The OS's part: a changed mapping is flushed from the TLB (sfence.vma / invlpg of every page).
      for (const va of set) if (va >= a && va < b) flushPage(walker, va);
    }
    for (const va of [...USER_PAGES, ...KERNEL_PAGES]) {
      for (const access of ACCESSES) {
        const off = (va / PS) % 4093;
        const viaWalker = walker.translate(user.root, va + off, access);
        const viaPmap = user.translate(va + off, access);
        expect(viaWalker, `${factory.name} va=${va.toString(16)} access=${access}`).toBe(viaPmap);
        compared++;
      }
    }
  }
  return compared;
}

function flushPage(walker: PageWalker, va: number): void {
  if ('sfenceVma' in walker && typeof walker.sfenceVma === 'function') (walker.sfenceVma as (va: number) => void)(va);
  else if ('invlpg' in walker && typeof walker.invlpg === 'function') (walker.invlpg as (va: number) => void)(va);
  else walker.flushAll();
}

describe('walkers agree with the pmaps on every mapping the pmaps build', () => {
  it('sv39 walker (Svadu, SUM=0, MXR=0) over the sv39 pmap', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 40 }), (cmds) => {
        total += run(sv39, (mem) => createWalker('sv39', mem, { ad: 'svadu' }), cmds);
      }),
      { numRuns: 60, seed: 18 },
    );
    expect(total).toBeGreaterThan(10_000);
  });

  it('ia32 walker (CR0.WP=1, no SMEP/SMAP, CR4.PSE, CR4.PGE) over the ia32 pmap', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 40 }), (cmds) => {
        total += run(ia32, (mem) => createWalker('ia32', mem, { wp: true, smep: false, smap: false, pse: true, pge: true }), cmds);
      }),
      { numRuns: 60, seed: 18 },
    );
    expect(total).toBeGreaterThan(10_000);
  });
});
