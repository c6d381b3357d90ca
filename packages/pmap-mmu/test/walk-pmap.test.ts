/*
 * The walkers agree with the existing pmaps on every mapping the pmaps build: random enter/protect/remove sequences
 * (user pages over table boundaries and aliasing TLB slots, and kernel pages reached through the user root's
 * shared kernel half), then every page of the set translated with every access code in both modes — through the
 * walker from the pmap's `root` (what satp.PPN × 4096 / CR3 would hold) and through the pmap's own `translate` —
 * with the same answer: the same physical address, or the same `FaultCode`. Both set A/D in the same RAM, so the
 * order of the two calls does not matter. The walker is configured as the pmap's hardware: Sv39 with Svadu,
 * SUM=0, MXR=0; ia32 with CR0.WP=1, no SMEP/SMAP, CR4.PSE as the format allows; AArch64 with TCR.HA and HD
 * (the pmap's hardware Access flag and dirty state), TTBR0 the user root, TTBR1 the kernel root, the user space's
 * ASID.
 */
import { PageOwner, PhysicalMemory } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aarch64 } from '../src/aarch64.js';
import { armv7a } from '../src/armv7a.js';
import { ia32 } from '../src/ia32.js';
import { sv39 } from '../src/sv39.js';
import type { MmuPmap } from '../src/mmu-pmap.js';
import { createWalker } from '../src/walk/create-walker.js';
import type { Aarch64Walker } from '../src/walk/aarch64.js';
import type { Armv7aWalker } from '../src/walk/armv7a.js';
import type { PageWalker, TranslateOptions } from '../src/walk/types.js';
import { bootSpaces } from './support/boot.js';

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

/**
 * How a format's walker is driven from a pmap: the address the walker takes for a pmap address (the ARM pmaps number
 * TTBR1's half upwards from 2^48, the walker takes the 64-bit address signed), the registers of each call (TTBR1,
 * the ASID), and the OS's flush of one page.
 */
interface Hooks {
  va(pmapVa: number): number;
  options(user: MmuPmap, kernel: MmuPmap): TranslateOptions | undefined;
  flush(walker: PageWalker, va: number): void;
}
// Comparisons that were translations (not faults), over all runs: a test that compared only faults proves little.
let translated = 0;
const DEFAULT_HOOKS: Hooks = { va: (v) => v, options: () => undefined, flush: (w, va) => flushPage(w, va) };

function run(factory: PmapFactory, makeWalker: (mem: PhysicalMemory) => PageWalker, cmds: Cmd[], hooks: Hooks = DEFAULT_HOOKS): number {
  const { mem, alloc, kernel, user } = bootSpaces(factory);
  // The running space: a format with ASIDs gives it one here.
  user.activate();
  const opts = hooks.options(user, kernel);
  const frames = Array.from({ length: 8 }, () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa);
  const walker = makeWalker(mem);
  const kbase = factory.kernelRange[0];
  // Kernel pages: the same offsets from the kernel base (the kernel half is 1 GiB on both formats).
  const KERNEL_PAGES = USER_PAGES.filter((p) => p < GiB).map((p) => kbase + p - PS);
  // The user pages the format's user range holds (armv7a's ends at 2 GiB).
  const userPages = USER_PAGES.filter((p) => p >= factory.userRange[0] && p + PS <= factory.userRange[1]);
  const pages = (k: boolean) => (k ? KERNEL_PAGES : userPages);
  let compared = 0;
  for (const c of cmds) {
    const pmap = c.kernel ? kernel : user;
    const set = pages(c.kernel);
    if (c.op === 'enter') {
      const va = set[c.page % set.length];
      expect(pmap.enter(frames[c.frame], va, c.attr)).toBe(0);
      // Entering over a mapping changes a PTE the TLB may hold: the OS flushes it.
      hooks.flush(walker, hooks.va(va));
    } else {
      const x = set[c.from % set.length];
      const y = set[c.to % set.length];
      const a = Math.min(x, y);
      const b = Math.max(x, y) + PS;
      if (c.op === 'remove') pmap.remove(a, b);
      else pmap.protect(a, b, c.attr);
      // The OS's part: a changed mapping is flushed from the TLB (sfence.vma / invlpg of every page).
      for (const va of set) if (va >= a && va < b) hooks.flush(walker, hooks.va(va));
    }
    for (const va of [...userPages, ...KERNEL_PAGES]) {
      for (const access of ACCESSES) {
        const off = (va / PS) % 4093;
        const viaWalker = walker.translate(user.root, hooks.va(va + off), access, opts);
        const viaPmap = user.translate(va + off, access);
        expect(viaWalker, `${factory.name} va=${va.toString(16)} access=${access}`).toBe(viaPmap);
        compared++;
        if (viaPmap >= 0) translated++;
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

  it('armv7a-short walker (TTBCR.N = 1, AFE = 0, PXN, every domain a client) over the armv7a pmap: TTBR0 the user table, TTBR1 the kernel\'s, the space\'s ASID', () => {
    const before = translated;
    const hooks: Hooks = {
      va: (v) => v,
      options: (user, kernel) => {
        expect(user.asid).toBeGreaterThan(0);
        return { asid: user.asid, ttbr1: kernel.root };
      },
      // TLBIMVAA: the page in every ASID (the pmap's flush of a changed PTE reaches every space too).
      flush: (w, va) => (w as Armv7aWalker).tlbimvaa(va),
    };
    let total = 0;
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 40 }), (cmds) => {
        total += run(armv7a, (mem) => createWalker('armv7a-short', mem, { ttbcrN: 1, afe: false, pxn: true }), cmds, hooks);
      }),
      { numRuns: 60, seed: 18 },
    );
    expect(total).toBeGreaterThan(10_000);
    expect(translated - before).toBeGreaterThan(1000);
  });

  it('aarch64 walker (48-bit halves, HA and HD, PAN = 0, WXN = 0) over the aarch64 pmap: TTBR0 the user root, TTBR1 the kernel\'s, the space\'s ASID', () => {
    const before = translated;
    // The pmap numbers TTBR1's half [2^48, 2^49); the walker takes it as the negative 64-bit address.
    const hooks: Hooks = {
      va: (v) => (v >= 2 ** 48 ? v - 2 ** 49 : v),
      options: (user, kernel) => {
        expect(user.asid).toBeGreaterThan(0);
        return { asid: user.asid, ttbr1: kernel.root };
      },
      flush: (w, va) => (w as Aarch64Walker).tlbiVaae1(va),
    };
    let total = 0;
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 40 }), (cmds) => {
        total += run(aarch64, (mem) => createWalker('aarch64', mem, { ha: true, hd: true }), cmds, hooks);
      }),
      { numRuns: 60, seed: 18 },
    );
    expect(total).toBeGreaterThan(10_000);
    expect(translated - before).toBeGreaterThan(1000);
  });
});
