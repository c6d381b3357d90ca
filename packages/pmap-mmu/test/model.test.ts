/*
 * Random enter/remove/protect/translate/referenced/dirty sequences against a Map<page, {pa, attr, a, d}> model, for
 * every format (aarch64 with 48-bit addresses and hardware A/D, and with 39-bit addresses and A/D faults served in
 * software): translations and the accessed/dirty bits (set by a successful access, a write for D; cleared by
 * `referenced`/`dirty` with `clear`; gone with the page); the pmap's own check() (tables reachable once, frame
 * count, every TLB slot agreeing with a fresh walk, none hiding a cleared bit) after every step, and all table
 * frames back at the end.
 */
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aarch64, armv7a, createAarch64, ia32, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';
import { expected } from './support/arch-model.js';
import type { Entry, ModelArch } from './support/arch-model.js';

const PS = 4096;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const { PRESENT, READ, WRITE, EXEC, USER } = PageAttr;

// Pages spread over table boundaries (2 MiB, 4 MiB, 1 GiB) and over aliasing TLB slots (256 pages apart).
const PAGES = [
  PS,
  2 * PS,
  4 * MiB - PS,
  4 * MiB,
  4 * MiB + PS,
  4 * MiB + 256 * PS,
  4 * MiB + 512 * PS,
  6 * MiB,
  GiB - PS,
  GiB,
  GiB + 256 * PS,
  2 * GiB + 8 * MiB,
  3 * GiB - PS,
];
// AArch64 adds pages past 2^43 (page numbers past 2^31, tagged apart in the TLB), aliasing there too, and the top
// of the user half.
const HIGH_PAGES = [2 ** 44, 2 ** 44 + 256 * PS, 2 ** 44 + 2 * MiB, 2 ** 48 - PS];
const HIGH_PAGES_39 = [2 ** 38, 2 ** 38 + 256 * PS, 2 ** 39 - PS];
// ARMv7-A: the user half ends at 2 GiB; 1 MiB boundaries between the four level-2 tables of one frame.
const ARMV7A_PAGES = [...PAGES.filter((p) => p < 2 * GiB), MiB - PS, MiB, 3 * MiB + PS, 2 * GiB - PS];
const ACCESSES = [1, 2, 4, 3, 5, 9, 10, 12, 11];

type Cmd =
  | { op: 'enter'; page: number; frame: number; attr: number }
  | { op: 'remove'; from: number; to: number }
  | { op: 'protect'; from: number; to: number; attr: number }
  | { op: 'translate'; page: number; off: number; access: number }
  | { op: 'referenced' | 'dirty'; page: number; off: number; clear: boolean | undefined };

const attrArb = fc.integer({ min: 0, max: 31 });
const cmdArbOver = (n: number): fc.Arbitrary<Cmd> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('enter' as const), page: fc.nat(n - 1), frame: fc.nat(7), attr: attrArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), from: fc.nat(n - 1), to: fc.nat(n) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('protect' as const), from: fc.nat(n - 1), to: fc.nat(n), attr: attrArb }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('translate' as const),
      page: fc.nat(n - 1),
      off: fc.nat(PS - 1),
      access: fc.constantFrom(...ACCESSES),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constantFrom('referenced' as const, 'dirty' as const),
      page: fc.nat(n - 1),
      off: fc.nat(PS - 1),
      clear: fc.constantFrom(true, false, undefined),
    }),
  },
);

interface ModelEntry extends Entry {
  a: boolean;
  d: boolean;
}

function run(factory: typeof sv39, cmds: Cmd[], PAGES: number[]): void {
  const arch: ModelArch = factory.name.startsWith('aarch64') ? 'aarch64' : (factory.name as ModelArch);
  // ARMv7-A short descriptors have no accessed or dirty bit: referenced/dirty throw ENOSYS there.
  const ad = factory.capabilities.accessedDirty;
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board);
  const frames = Array.from({ length: 8 }, () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa);
  const before = alloc.info();
  const u = factory.createUser(kernel) as MmuPmap;
  const model = new Map<number, ModelEntry>();
  const range = (from: number, to: number): [number, number] => {
    const a = PAGES[from];
    const b = to >= PAGES.length ? Math.min(factory.userRange[1], PAGES[PAGES.length - 1] + PS) : PAGES[to];
    return a <= b ? [a, b] : [b, a];
  };
  for (const c of cmds) {
    if (c.op === 'enter') {
      expect(u.enter(frames[c.frame], PAGES[c.page], c.attr)).toBe(0);
      model.set(PAGES[c.page], { pa: frames[c.frame], attr: c.attr, a: false, d: false });
    } else if (c.op === 'remove') {
      const [a, b] = range(c.from, c.to);
      u.remove(a, b);
      for (const va of [...model.keys()]) if (va >= a && va < b) model.delete(va);
    } else if (c.op === 'protect') {
      const [a, b] = range(c.from, c.to);
      u.protect(a, b, c.attr);
      for (const [va, e] of model) if (va >= a && va < b) e.attr = c.attr;
    } else if (c.op === 'translate') {
      const va = PAGES[c.page];
      const e = model.get(va);
      const want = expected(arch, e, c.access);
      expect(u.translate(va + c.off, c.access)).toBe(want < 0 ? want : want + c.off);
      if (want >= 0 && e !== undefined) {
        e.a = true;
        if (c.access & Access.WRITE) e.d = true;
      }
    } else {
      const va = PAGES[c.page];
      const e = model.get(va);
      const k = c.op === 'referenced' ? 'a' : 'd';
      const info = alloc.info();
      if (!ad) {
        expect(() => u[c.op](va + c.off, c.clear)).toThrow(/ENOSYS/);
        continue;
      }
      expect(u[c.op](va + c.off, c.clear), `${c.op}(${va}, ${String(c.clear)})`).toBe(e?.[k] ?? false);
      expect(alloc.info()).toEqual(info);
      if (e !== undefined && c.clear === true) e[k] = false;
    }
    u.check();
    for (const va of PAGES) {
      const e = model.get(va);
      if (ad) {
        expect(u.referenced(va), `referenced(${va})`).toBe(e?.a ?? false);
        expect(u.dirty(va), `dirty(${va})`).toBe(e?.d ?? false);
      }
      expect(u.resolve(va)).toBe(e && e.attr & PRESENT ? e.pa : -1);
    }
  }
  // Removing everything frees every table below the root at once; destroy gives the root back.
  u.remove(PS, factory.userRange[1]);
  expect(u.stats().tableFrames).toBe(1);
  expect(u.tables()).toHaveLength(1);
  u.destroy();
  expect(alloc.info()).toEqual(before);
}

describe.each([sv39, ia32, aarch64, createAarch64({ vaBits: 39, hardwareAccessFlag: false }), armv7a])('$name against a Map model', (factory) => {
  const pages =
    factory.name === 'aarch64'
      ? [...PAGES, ...HIGH_PAGES]
      : factory.name.startsWith('aarch64-va39')
        ? [...PAGES, ...HIGH_PAGES_39]
        : factory.name === 'armv7a'
          ? ARMV7A_PAGES
          : PAGES;
  const cmdArb = cmdArbOver(pages.length);
  it('agrees with the model on random enter/remove/protect/translate/referenced/dirty sequences', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 60, size: "max" }), (cmds) => run(factory, cmds, pages)),
      { numRuns: 150, seed: 4 },
    );
  });
});
