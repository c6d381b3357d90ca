/*
 * The pmap conformance suite (`@vmlayers/phys/testing`). The only module of phys that imports vitest, an optional
 * peer dependency: import it from test files only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { boards } from './board.js';
import type { BoardMemoryMap } from './board.js';
import { PageAllocator } from './buddy.js';
import type { Frame } from './buddy.js';
import { Access, FaultCode, PageAttr, PageOwner } from './constants.js';
import { isVmError } from './errors.js';
import type { Errno } from './errors.js';
import { PhysicalMemory } from './physical-memory.js';
import type { Pmap, PmapFactory } from './pmap.js';

/** Options of {@link describePmapConformance}. */
export interface PmapConformanceOptions {
  /** The board to boot on. Default: `boards.get(factory.defaultBoard)`. */
  board?: BoardMemoryMap;
  /** Title of the `describe` block. Default: `pmap conformance: <factory.name>`. */
  title?: string;
}

const { PRESENT, READ, WRITE, EXEC, USER } = PageAttr;
const RW = PRESENT | READ | WRITE;
const RO = PRESENT | READ;
const RX = PRESENT | READ | EXEC;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Rig {
  board: BoardMemoryMap;
  mem: PhysicalMemory;
  alloc: PageAllocator;
  kernel: Pmap;
  ps: number;
  /** A zeroed application frame; kept allocated until the test ends. */
  frame(): number;
}

interface Mapping {
  va: number;
  pa: number;
}

function expectErrno(code: Errno, fn: () => unknown, what?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  const label = what === undefined ? '' : `${what}: `;
  expect(thrown, `${label}expected VmError ${code}`).toBeDefined();
  expect(isVmError(thrown, code), `${label}expected VmError ${code}, got ${String(thrown)}`).toBe(true);
}

function expectEinval(fn: () => unknown, what?: string): void {
  expectErrno('EINVAL', fn, what);
}

/**
 * Registers a vitest suite that checks `factory` against the `Pmap`/`PmapFactory` contract (DESIGN §3): round
 * trips, protection per access kind and mode, ranges crossing table boundaries, re-enter, protect, the shared
 * kernel half, table frames returned by `destroy`, `NO_MEMORY` with nothing changed, argument validation, a
 * `translate` that never throws and answers junk with `BAD_ADDRESS`, `tables()` spans, `check()` catching corrupt
 * leaves, and `grant`. After every case it calls `check()` on every pmap the case made, destroyed ones included.
 * It branches only on `factory.capabilities`, never on the name:
 *
 * - `hasMmu`: page tables exist, and `grant` must be absent. Without it the pmap is one identity-mapped space:
 *   mappings use `va = pa` (RAM frames), `enter` must return 0 and allocate nothing, the table-specific checks are
 *   skipped, and `grant` is tested when the pmap offers it (skipped by the runner otherwise).
 * - `execProtect`: an access with `Access.EXEC` to a page entered without `PageAttr.EXEC` faults.
 * - `supervisorReadsUser`: supervisor accesses to `USER` pages succeed (else they fault, as Sv39 without SUM).
 * - `sharedKernelHalf`: a kernel mapping is seen by every user address space, and its removal too.
 * - `accessedDirty`: `referenced`/`dirty` answer the accessed and dirty bits — clear after `enter`, set by a
 *   successful `translate` (A by any access, D by a write), cleared by `clear === true` in a way no TLB hides (the
 *   access after a clear, a TLB hit before it, sets the bit again), kept by `protect`, gone with `remove`, shared
 *   and shot down in every space for a kernel page — and refuse junk with `EINVAL`, nothing changed. Without it
 *   both throw `ENOSYS`, whatever the arguments.
 *
 * Boards come from `factory.defaultBoard` through `boards.get` (or `options.board`), pages from `factory.pageSize`.
 * Call it at the top level of a test file: `describePmapConformance(myFactory)`.
 */
export function describePmapConformance(factory: PmapFactory, options: PmapConformanceOptions = {}): void {
  const caps = factory.capabilities;
  const mmu = caps.hasMmu;
  const ad = caps.accessedDirty;
  const ps = factory.pageSize;
  const [userStart, userEnd] = factory.userRange;
  const [kernelStart, kernelEnd] = factory.kernelRange;
  // A point in user space where every common table span (2 MiB, 4 MiB, 1 GiB) has a boundary: pages on both
  // sides of it live in different tables.
  const boundaryOf = (span: number): number => Math.ceil((userStart + 64 * ps) / span) * span;
  const B = boundaryOf(4 * MiB);
  const G = boundaryOf(GiB) < userEnd - 64 * ps ? boundaryOf(GiB) : B;

  // Every pmap a case made: afterEach runs its check(), destroyed ones included.
  const made: Pmap[] = [];
  function createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): Pmap {
    const k = factory.createKernel(mem, alloc, board);
    made.push(k);
    return k;
  }
  function createUser(kernel: Pmap): Pmap {
    const u = factory.createUser(kernel);
    made.push(u);
    return u;
  }
  // A page-aligned physical address past every region of the board, when the 32-bit space has one: neither RAM
  // nor a device window.
  const board0 = options.board ?? boards.get(factory.defaultBoard);
  const top = Math.ceil(Math.max(...board0.regions.map((x) => x.base + x.size)) / ps) * ps;
  const offBoard = top + ps <= 2 ** 32 ? top : -1;

  function rig(): Rig {
    const board = options.board ?? boards.get(factory.defaultBoard);
    const mem = new PhysicalMemory(board);
    const alloc = new PageAllocator(mem, { pageSize: ps });
    const kernel = createKernel(mem, alloc, board);
    const frames: Frame[] = [];
    return {
      board,
      mem,
      alloc,
      kernel,
      ps,
      frame() {
        const f = alloc.alloc(ps, { owner: PageOwner.APP });
        if (f === null) throw new Error('conformance suite: board too small for the test frames');
        frames.push(f);
        return f.pa;
      },
    };
  }

  // Maps a fresh frame at user page `va` (ignored without an MMU, where va = pa).
  function map(r: Rig, space: Pmap, va: number, attr: number): Mapping {
    const pa = r.frame();
    const at = mmu ? va : pa;
    expect(space.enter(pa, at, attr)).toBe(0);
    return { va: at, pa };
  }

  // Everything a failed call must leave as it was.
  function snapshot(r: Rig, space: Pmap, probes: number[]) {
    return {
      info: r.alloc.info(),
      tableFrames: space.stats().tableFrames,
      tables: space.tables(),
      resolved: probes.map((va) => space.resolve(va)),
    };
  }

  describe(options.title ?? `pmap conformance: ${factory.name}`, () => {
    afterEach(() => {
      for (const p of made.splice(0)) p.check();
    });

    it('describes itself: page size, ranges, board, capabilities', () => {
      expect(Number.isSafeInteger(ps) && ps >= 512 && (ps & (ps - 1)) === 0).toBe(true);
      expect(userStart % ps).toBe(0);
      expect(userEnd).toBeGreaterThan(userStart);
      expect(kernelEnd).toBeGreaterThan(kernelStart);
      expect(typeof factory.name).toBe('string');
      expect(() => boards.get(factory.defaultBoard)).not.toThrow();
      for (const k of ['hasMmu', 'execProtect', 'supervisorReadsUser', 'sharedKernelHalf', 'accessedDirty'] as const) {
        expect(typeof caps[k]).toBe('boolean');
      }
    });

    it('enter, resolve, translate and remove round-trip', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const vas = [B - 2 * ps, B - ps, B, B + ps, G - ps, G, G + 5 * ps];
      const maps = vas.map((va) => map(r, u, va, RW | USER));
      for (const m of maps) {
        expect(u.resolve(m.va)).toBe(m.pa);
        expect(u.resolve(m.va + 5)).toBe(m.pa + 5);
        if (mmu) {
          expect(u.translate(m.va + 8, Access.READ | Access.USER)).toBe(m.pa + 8);
          expect(u.translate(m.va + 12, Access.WRITE | Access.USER)).toBe(m.pa + 12);
          expect(u.translate(m.va + ps - 4, Access.READ | Access.WRITE | Access.USER)).toBe(m.pa + ps - 4);
        } else {
          expect(u.translate(m.va + 8, Access.READ)).toBe(m.va + 8);
        }
      }
      for (const m of maps) u.remove(m.va, m.va + ps);
      if (mmu) {
        for (const m of maps) {
          expect(u.resolve(m.va)).toBe(-1);
          expect(u.translate(m.va, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
        }
        expect(u.resolve(B + 7 * ps)).toBe(-1);
        expect(u.translate(B + 7 * ps, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
      }
    });

    it.runIf(mmu)('enforces protection per access kind and mode', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const ro = map(r, u, B, RO | USER);
      const rw = map(r, u, B + ps, RW | USER);
      const rx = map(r, u, B + 2 * ps, RX | USER);
      const sup = map(r, u, B + 3 * ps, RW);
      const supRo = map(r, u, B + 4 * ps, RO);
      const supRx = map(r, u, B + 5 * ps, RX);
      const U = Access.USER;
      const denied = FaultCode.PROTECTION;
      // user mode
      expect(u.translate(ro.va, Access.READ | U)).toBe(ro.pa);
      expect(u.translate(ro.va, Access.WRITE | U)).toBe(denied);
      expect(u.translate(rw.va, Access.WRITE | U)).toBe(rw.pa);
      expect(u.translate(rx.va, Access.EXEC | U)).toBe(rx.pa);
      expect(u.translate(rx.va, Access.WRITE | U)).toBe(denied);
      expect(u.translate(rw.va, Access.EXEC | U)).toBe(caps.execProtect ? denied : rw.pa);
      expect(u.translate(sup.va, Access.READ | U)).toBe(denied);
      expect(u.translate(sup.va, Access.WRITE | U)).toBe(denied);
      expect(u.translate(supRx.va, Access.EXEC | U)).toBe(denied);
      // supervisor mode
      expect(u.translate(sup.va, Access.READ)).toBe(sup.pa);
      expect(u.translate(sup.va, Access.WRITE)).toBe(sup.pa);
      expect(u.translate(sup.va, Access.EXEC)).toBe(caps.execProtect ? denied : sup.pa);
      expect(u.translate(supRo.va, Access.READ)).toBe(supRo.pa);
      expect(u.translate(supRo.va, Access.WRITE)).toBe(denied);
      expect(u.translate(supRx.va, Access.EXEC)).toBe(supRx.pa);
      expect(u.translate(ro.va, Access.READ)).toBe(caps.supervisorReadsUser ? ro.pa : denied);
      expect(u.translate(rw.va, Access.WRITE)).toBe(caps.supervisorReadsUser ? rw.pa : denied);
      expect(u.translate(ro.va, Access.WRITE)).toBe(denied);
      // a TLB must not widen rights: ask again after the entries are cached
      expect(u.translate(ro.va, Access.WRITE | U)).toBe(denied);
      expect(u.translate(sup.va, Access.READ | U)).toBe(denied);
    });

    it.runIf(mmu)('a mapping entered without PRESENT faults on every access (PROT_NONE)', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const pa = r.frame();
      expect(u.enter(pa, B, USER)).toBe(0);
      expect(u.translate(B, Access.READ | Access.USER)).toBeLessThan(0);
      expect(u.translate(B, Access.READ)).toBeLessThan(0);
      expect(u.resolve(B)).toBe(-1);
      u.destroy();
    });

    it.runIf(mmu)('removes ranges crossing table boundaries, and only them', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const near = [-3, -2, -1, 0, 1, 2].map((i) => map(r, u, B + i * ps, RW | USER));
      const far = [-2, -1, 0, 1].map((i) => map(r, u, G + i * ps, RW | USER));
      for (const m of [...near, ...far]) expect(u.translate(m.va, Access.READ | Access.USER)).toBe(m.pa);
      u.remove(B - 2 * ps, B + 2 * ps);
      expect(near.map((m) => u.resolve(m.va) === m.pa)).toEqual([true, false, false, false, false, true]);
      expect(near.map((m) => u.translate(m.va, Access.READ | Access.USER) === m.pa)).toEqual([
        true, false, false, false, false, true,
      ]);
      u.remove(G - ps, G + ps);
      expect(far.map((m) => u.resolve(m.va) === m.pa)).toEqual([true, false, false, true]);
      // A range holding nothing, and an empty one.
      u.remove(B + 64 * ps, B + 128 * ps);
      u.remove(B, B);
      u.remove(userStart, userEnd);
      for (const m of [...near, ...far]) {
        expect(u.resolve(m.va)).toBe(-1);
        expect(u.translate(m.va, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
      }
      u.destroy();
    });

    it.runIf(mmu)('re-entering a page replaces the mapping, even when it was cached', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const old = map(r, u, B, RO | USER);
      expect(u.translate(B + 4, Access.READ | Access.USER)).toBe(old.pa + 4);
      const pa2 = r.frame();
      expect(u.enter(pa2, B, RW | USER)).toBe(0);
      expect(u.resolve(B)).toBe(pa2);
      expect(u.translate(B + 4, Access.READ | Access.USER)).toBe(pa2 + 4);
      expect(u.translate(B + 4, Access.WRITE | Access.USER)).toBe(pa2 + 4);
      expect(u.enter(old.pa, B, RO | USER)).toBe(0);
      expect(u.translate(B + 4, Access.WRITE | Access.USER)).toBe(FaultCode.PROTECTION);
      expect(u.translate(B + 4, Access.READ | Access.USER)).toBe(old.pa + 4);
    });

    it.runIf(mmu)('protect changes the rights of present pages and keeps their frames', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const a = map(r, u, B - ps, RW | USER);
      const b = map(r, u, B, RW | USER);
      expect(u.translate(a.va, Access.WRITE | Access.USER)).toBe(a.pa);
      expect(u.translate(b.va, Access.WRITE | Access.USER)).toBe(b.pa);
      u.protect(B - ps, B + ps, RO | USER);
      expect(u.translate(a.va, Access.WRITE | Access.USER)).toBe(FaultCode.PROTECTION);
      expect(u.translate(b.va, Access.READ | Access.USER)).toBe(b.pa);
      expect(u.resolve(a.va)).toBe(a.pa);
      u.protect(B - ps, B, RW);
      expect(u.translate(a.va, Access.READ | Access.USER)).toBe(FaultCode.PROTECTION);
      expect(u.translate(a.va, Access.WRITE)).toBe(a.pa);
      u.protect(B - ps, B + ps, RW | USER);
      expect(u.translate(b.va, Access.WRITE | Access.USER)).toBe(b.pa);
      // protect maps nothing new
      u.protect(B + ps, B + 8 * ps, RW | USER);
      expect(u.resolve(B + ps)).toBe(-1);
    });

    it.runIf(mmu && caps.sharedKernelHalf)('shares the kernel half with every user address space', () => {
      const r = rig();
      const kva = kernelStart + 16 * ps;
      const u1 = createUser(r.kernel);
      const pa = r.frame();
      expect(r.kernel.enter(pa, kva, RW)).toBe(0);
      const u2 = createUser(r.kernel);
      for (const s of [r.kernel, u1, u2]) {
        expect(s.resolve(kva)).toBe(pa);
        expect(s.translate(kva + 4, Access.READ)).toBe(pa + 4);
        expect(s.translate(kva + 4, Access.WRITE)).toBe(pa + 4);
        expect(s.translate(kva, Access.READ | Access.USER)).toBe(FaultCode.PROTECTION);
      }
      r.kernel.protect(kva, kva + ps, RO);
      for (const s of [r.kernel, u1, u2]) expect(s.translate(kva, Access.WRITE)).toBe(FaultCode.PROTECTION);
      const pa2 = r.frame();
      expect(r.kernel.enter(pa2, kva, RW)).toBe(0);
      for (const s of [r.kernel, u1, u2]) expect(s.translate(kva + 8, Access.WRITE)).toBe(pa2 + 8);
      r.kernel.remove(kva, kva + ps);
      for (const s of [r.kernel, u1, u2]) {
        expect(s.resolve(kva)).toBe(-1);
        expect(s.translate(kva, Access.READ)).toBe(FaultCode.NOT_MAPPED);
      }
      // user pmaps do not map kernel addresses themselves
      expectEinval(() => u1.enter(pa, kva, RW));
      u1.destroy();
      u2.destroy();
    });

    it('destroy returns every table frame to the allocator', () => {
      const r = rig();
      const frames = Array.from({ length: 24 }, () => r.frame());
      const before = r.alloc.info();
      const u = createUser(r.kernel);
      const vas = [
        ...[-2, -1, 0, 1].map((i) => B + i * ps),
        ...[-1, 0].map((i) => G + i * ps),
        B + 40 * MiB,
        userEnd - ps,
        userStart,
      ];
      vas.forEach((va, i) => expect(u.enter(frames[i], mmu ? va : frames[i], RW | USER)).toBe(0));
      if (mmu) expect(u.stats().tableFrames).toBeGreaterThan(1);
      u.remove(B - ps, B + ps);
      u.destroy();
      expect(r.alloc.info()).toEqual(before);
      expectEinval(() => u.enter(frames[0], mmu ? B : frames[0], RW | USER));
      expect(u.resolve(mmu ? B - 2 * ps : frames[0])).toBe(-1);
      expect(u.translate(mmu ? B - 2 * ps : frames[0], Access.READ | Access.USER)).toBeLessThan(0);
      // and a whole kernel, once its users are gone
      const board = options.board ?? boards.get(factory.defaultBoard);
      const mem = new PhysicalMemory(board);
      const alloc = new PageAllocator(mem, { pageSize: ps });
      const boot = alloc.info();
      const k = createKernel(mem, alloc, board);
      const v = createUser(k);
      const f = alloc.alloc(ps, { owner: PageOwner.APP })!;
      expect(v.enter(f.pa, mmu ? B : f.pa, RW | USER)).toBe(0);
      v.destroy();
      k.destroy();
      alloc.free(f);
      expect(alloc.info()).toEqual(boot);
    });

    it.runIf(mmu)('enter returns NO_MEMORY with nothing changed when a table frame fails (ptable fault site)', () => {
      const r = rig();
      let sawNoMemory = false;
      for (let n = 1; n <= 4; n++) {
        const u = createUser(r.kernel);
        const kept = map(r, u, B, RW | USER);
        expect(u.translate(kept.va, Access.WRITE | Access.USER)).toBe(kept.pa);
        const target = G + 8 * MiB + 3 * ps;
        const pa = r.frame();
        const before = snapshot(r, u, [kept.va, target]);
        r.alloc.faults.failAt('ptable', n);
        const res = u.enter(pa, target, RW | USER);
        r.alloc.faults.reset();
        if (res === FaultCode.NO_MEMORY) {
          sawNoMemory = true;
          expect(snapshot(r, u, [kept.va, target])).toEqual(before);
          expect(u.translate(target, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
          expect(u.enter(pa, target, RW | USER)).toBe(0);
        } else {
          expect(res).toBe(0);
        }
        expect(u.resolve(target)).toBe(pa);
        expect(u.translate(kept.va, Access.WRITE | Access.USER)).toBe(kept.pa);
        expect(u.translate(target, Access.WRITE | Access.USER)).toBe(pa);
        u.destroy();
      }
      expect(sawNoMemory).toBe(true);
    });

    it.runIf(mmu)('enter returns NO_MEMORY with nothing changed when the allocator is empty', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const kept = map(r, u, B, RW | USER);
      const pa = r.frame();
      const target = G + 8 * MiB;
      const drained: Frame[] = [];
      for (let f = r.alloc.alloc(ps); f !== null; f = r.alloc.alloc(ps)) drained.push(f);
      const before = snapshot(r, u, [kept.va, target]);
      expect(u.enter(pa, target, RW | USER)).toBe(FaultCode.NO_MEMORY);
      expect(snapshot(r, u, [kept.va, target])).toEqual(before);
      expect(u.translate(kept.va, Access.READ | Access.USER)).toBe(kept.pa);
      // a page whose tables exist needs no frame
      expect(u.enter(pa, B + ps, RW | USER)).toBe(0);
      expect(u.resolve(B + ps)).toBe(pa);
      for (const f of drained) r.alloc.free(f);
      expect(u.enter(pa, target, RW | USER)).toBe(0);
      expect(u.resolve(target)).toBe(pa);
      u.destroy();
    });

    it.runIf(!mmu)('without an MMU, enter, remove and protect allocate nothing', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const pa = r.frame();
      const drained: Frame[] = [];
      for (let f = r.alloc.alloc(ps); f !== null; f = r.alloc.alloc(ps)) drained.push(f);
      r.alloc.faults.failAt('ptable', 1);
      const before = r.alloc.info();
      const ptable = r.alloc.faults.counts().ptable;
      expect(u.enter(pa, pa, RW | USER)).toBe(0);
      u.protect(pa, pa + ps, RO | USER);
      u.remove(pa, pa + ps);
      expect(r.alloc.info()).toEqual(before);
      expect(r.alloc.faults.counts().ptable).toBe(ptable);
      expect(u.stats().tableFrames).toBe(0);
      expect(u.resolve(pa)).toBe(pa);
      r.alloc.faults.reset();
      for (const f of drained) r.alloc.free(f);
    });

    it.runIf(ad)('referenced and dirty read A and D; a clear is not hidden by the TLB', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      const R = Access.READ | Access.USER;
      const W = Access.WRITE | Access.USER;
      const ro = mmu ? map(r, u, B + ps, RO | USER) : null;
      const info = r.alloc.info();
      // enter writes A = D = 0
      expect(u.referenced(m.va)).toBe(false);
      expect(u.dirty(m.va)).toBe(false);
      expect(u.referenced(m.va, false)).toBe(false);
      // a read sets A only, for the whole page (va need not be aligned)
      expect(u.translate(m.va + 8, R)).toBe(m.pa + 8);
      expect(u.referenced(m.va)).toBe(true);
      expect(u.referenced(m.va + ps - 1)).toBe(true);
      expect(u.dirty(m.va)).toBe(false);
      u.check();
      // cached now: the next access is a TLB hit
      const s0 = u.stats();
      expect(u.translate(m.va + 12, R)).toBe(m.pa + 12);
      if (mmu) expect(u.stats().tlbHits).toBeGreaterThan(s0.tlbHits);
      // clear A: answered true, then false, and nothing else changed
      const s1 = u.stats();
      expect(u.referenced(m.va + 4, true)).toBe(true);
      if (mmu) expect(u.stats().tlbFlushes).toBeGreaterThan(s1.tlbFlushes);
      expect(u.referenced(m.va)).toBe(false);
      expect(u.referenced(m.va, true)).toBe(false);
      expect(u.dirty(m.va)).toBe(false);
      expect(u.resolve(m.va + 4)).toBe(m.pa + 4);
      u.check();
      // the access that hit the TLB before the clear walks again and sets A again
      const s2 = u.stats();
      expect(u.translate(m.va + 16, R)).toBe(m.pa + 16);
      if (mmu) expect(u.stats().tlbMisses).toBe(s2.tlbMisses + 1);
      expect(u.referenced(m.va)).toBe(true);
      expect(u.dirty(m.va)).toBe(false);
      // a write sets D (and A)
      expect(u.translate(m.va + 20, W)).toBe(m.pa + 20);
      expect(u.dirty(m.va)).toBe(true);
      expect(u.referenced(m.va)).toBe(true);
      expect(u.translate(m.va + 24, W)).toBe(m.pa + 24);
      u.check();
      // clear D: A stays, the page stays writable, and the next write (a TLB hit before) sets D again
      expect(u.dirty(m.va, true)).toBe(true);
      expect(u.dirty(m.va)).toBe(false);
      expect(u.referenced(m.va)).toBe(true);
      u.check();
      expect(u.translate(m.va + 28, R)).toBe(m.pa + 28);
      expect(u.dirty(m.va)).toBe(false);
      expect(u.translate(m.va + 32, W)).toBe(m.pa + 32);
      expect(u.dirty(m.va)).toBe(true);
      // both cleared, then one write sets both
      expect(u.referenced(m.va, true)).toBe(true);
      expect(u.dirty(m.va, true)).toBe(true);
      expect(u.referenced(m.va) || u.dirty(m.va)).toBe(false);
      u.check();
      expect(u.translate(m.va + 36, W)).toBe(m.pa + 36);
      expect(u.referenced(m.va) && u.dirty(m.va)).toBe(true);
      // a denied access sets nothing
      if (ro !== null) {
        expect(u.translate(ro.va, W)).toBe(FaultCode.PROTECTION);
        expect(u.referenced(ro.va) || u.dirty(ro.va)).toBe(false);
        expect(u.translate(ro.va, R)).toBe(ro.pa);
        expect(u.referenced(ro.va)).toBe(true);
        expect(u.dirty(ro.va)).toBe(false);
        expect(u.translate(ro.va, W)).toBe(FaultCode.PROTECTION);
        expect(u.dirty(ro.va)).toBe(false);
      }
      // nothing allocated by any of it (translate allocates nothing either)
      expect(r.alloc.info()).toEqual(info);
      u.check();
    });

    it.runIf(ad)('referenced and dirty: false where nothing is entered, gone with remove, kept by protect', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const R = Access.READ | Access.USER;
      const W = Access.WRITE | Access.USER;
      const m = map(r, u, B, RW | USER);
      expect(u.translate(m.va, W)).toBe(m.pa);
      const n = map(r, u, B + ps, RW | USER);
      expect(u.translate(n.va, R)).toBe(n.pa);
      // never entered: no table at all, a table without that entry, page 0, an empty kernel page
      const nowhere = mmu ? [G + 32 * MiB, B + 7 * ps, 0, kernelStart + 40 * ps] : [];
      for (const va of nowhere) {
        expect(u.referenced(va), `referenced(${va})`).toBe(false);
        expect(u.dirty(va, true), `dirty(${va}, true)`).toBe(false);
        expect(u.resolve(va)).toBe(-1);
      }
      u.check();
      // protect keeps A and D, present or not (a page written before it was made inaccessible is still dirty)
      u.protect(m.va, m.va + ps, RO | USER);
      expect(u.referenced(m.va) && u.dirty(m.va)).toBe(true);
      expect(u.translate(m.va, W)).toBe(FaultCode.PROTECTION);
      if (mmu) {
        u.protect(m.va, m.va + ps, USER);
        expect(u.translate(m.va, R)).toBeLessThan(0);
        expect(u.resolve(m.va)).toBe(-1);
        expect(u.referenced(m.va)).toBe(true);
        expect(u.dirty(m.va, true)).toBe(true);
        expect(u.dirty(m.va)).toBe(false);
        u.check();
        u.protect(m.va, m.va + ps, RW | USER);
        expect(u.dirty(m.va)).toBe(false);
        expect(u.referenced(m.va)).toBe(true);
        expect(u.translate(m.va, W)).toBe(m.pa);
        expect(u.dirty(m.va)).toBe(true);
      }
      // re-entering writes A = D = 0
      expect(u.enter(m.pa, m.va, RW | USER)).toBe(0);
      expect(u.referenced(m.va) || u.dirty(m.va)).toBe(false);
      expect(u.translate(m.va, W)).toBe(m.pa);
      // remove: both gone, and a clear of nothing answers false
      u.remove(m.va, m.va + 2 * ps);
      for (const va of [m.va, n.va]) {
        expect(u.referenced(va)).toBe(false);
        expect(u.dirty(va)).toBe(false);
        expect(u.referenced(va, true)).toBe(false);
      }
      u.check();
      // entered again: fresh bits
      if (mmu) {
        expect(u.enter(m.pa, m.va, RW | USER)).toBe(0);
        expect(u.referenced(m.va) || u.dirty(m.va)).toBe(false);
      }
      u.destroy();
    });

    it.runIf(ad && mmu && caps.sharedKernelHalf)(
      'referenced and dirty of a kernel page: every space reads the shared bits, and a clear is shot down in every TLB',
      () => {
        const r = rig();
        const kva = kernelStart + 24 * ps;
        const u1 = createUser(r.kernel);
        const u2 = createUser(r.kernel);
        const pa = r.frame();
        expect(r.kernel.enter(pa, kva, RW)).toBe(0);
        const all = [r.kernel, u1, u2];
        for (const s of all) expect(s.referenced(kva) || s.dirty(kva)).toBe(false);
        // u1 reads it (and caches it): every space sees A
        expect(u1.translate(kva + 4, Access.READ)).toBe(pa + 4);
        expect(u1.translate(kva + 8, Access.READ)).toBe(pa + 8);
        for (const s of all) {
          expect(s.referenced(kva)).toBe(true);
          expect(s.dirty(kva)).toBe(false);
        }
        // cleared through u2: gone for all, and u1's cached entry is gone too
        expect(u2.referenced(kva, true)).toBe(true);
        for (const s of all) expect(s.referenced(kva)).toBe(false);
        r.kernel.check();
        u1.check();
        expect(u1.translate(kva + 12, Access.READ)).toBe(pa + 12);
        for (const s of all) expect(s.referenced(kva)).toBe(true);
        // D: u1 and the kernel write (both cache a writable entry), the kernel clears it
        expect(u1.translate(kva, Access.WRITE)).toBe(pa);
        expect(r.kernel.translate(kva, Access.WRITE)).toBe(pa);
        expect(u1.translate(kva + 4, Access.WRITE)).toBe(pa + 4);
        for (const s of all) expect(s.dirty(kva)).toBe(true);
        const before = u1.stats().tlbFlushes;
        expect(r.kernel.dirty(kva, true)).toBe(true);
        expect(u1.stats().tlbFlushes).toBeGreaterThan(before);
        for (const s of all) {
          expect(s.dirty(kva)).toBe(false);
          expect(s.referenced(kva)).toBe(true);
          s.check();
        }
        expect(u1.translate(kva + 8, Access.WRITE)).toBe(pa + 8);
        for (const s of all) expect(s.dirty(kva)).toBe(true);
        expect(u2.dirty(kva, true)).toBe(true);
        expect(r.kernel.translate(kva + 8, Access.WRITE)).toBe(pa + 8);
        expect(u1.dirty(kva)).toBe(true);
        // the kernel pmap holds no user page
        const m = map(r, u1, B, RW | USER);
        expect(u1.translate(m.va, Access.WRITE | Access.USER)).toBe(m.pa);
        expect(u1.referenced(m.va) && u1.dirty(m.va)).toBe(true);
        expect(r.kernel.referenced(m.va) || r.kernel.dirty(m.va)).toBe(false);
        expect(u2.referenced(m.va)).toBe(false);
        r.kernel.remove(kva, kva + ps);
        for (const s of all) expect(s.referenced(kva) || s.dirty(kva)).toBe(false);
        u1.destroy();
        u2.destroy();
      },
    );

    it.runIf(ad)('referenced and dirty reject bad arguments with EINVAL and change nothing', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      expect(u.translate(m.va, Access.WRITE | Access.USER)).toBe(m.pa);
      const n = map(r, u, B + ps, RW | USER);
      const before = snapshot(r, u, [m.va, n.va]);
      const stats = u.stats();
      const notAnAddress: unknown[] = [
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -1,
        -ps,
        m.va + 0.5,
        BigInt(m.va),
        String(m.va),
        '0x1000',
        undefined,
        null,
        [m.va],
        {},
        kernelEnd,
        kernelEnd + ps,
        2 ** 53,
        2 ** 60,
      ];
      const notAClear: unknown[] = [1, 0, 'true', '', null, BigInt(1), {}, [true], Number.NaN];
      const show = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? `'${v}'` : String(v));
      for (const op of ['referenced', 'dirty'] as const) {
        for (const va of notAnAddress) {
          expectEinval(() => u[op](va as number), `${op}(${show(va)})`);
          expectEinval(() => u[op](va as number, true), `${op}(${show(va)}, true)`);
        }
        for (const clear of notAClear) expectEinval(() => u[op](m.va, clear as boolean), `${op}(va, ${show(clear)})`);
      }
      expect(u.stats()).toEqual(stats);
      expect(snapshot(r, u, [m.va, n.va])).toEqual(before);
      // truthy junk cleared nothing
      expect(u.referenced(m.va) && u.dirty(m.va)).toBe(true);
      u.check();
      expect(u.translate(m.va + 4, Access.WRITE | Access.USER)).toBe(m.pa + 4);
      // after destroy, as enter/remove/protect
      u.destroy();
      for (const op of ['referenced', 'dirty'] as const) {
        expectEinval(() => u[op](m.va), `${op} after destroy`);
        expectEinval(() => u[op](m.va, true), `${op}(va, true) after destroy`);
      }
      u.check();
    });

    it.runIf(!ad)('without accessedDirty, referenced and dirty throw ENOSYS whatever the arguments', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      expect(u.translate(m.va, Access.WRITE | Access.USER)).toBe(m.pa);
      const before = snapshot(r, u, [m.va]);
      for (const s of [u, r.kernel]) {
        for (const op of ['referenced', 'dirty'] as const) {
          expect(typeof s[op]).toBe('function');
          for (const args of [[m.va], [m.va, true], [m.va, false], [Number.NaN], [m.va, 'yes'], [-1, true]] as unknown[][]) {
            expectErrno('ENOSYS', () => (s[op] as (...a: unknown[]) => unknown)(...args), `${op}(${args.map(String).join(', ')})`);
          }
        }
      }
      expect(snapshot(r, u, [m.va])).toEqual(before);
      u.destroy();
      expectErrno('ENOSYS', () => u.referenced(m.va));
      expectErrno('ENOSYS', () => u.dirty(m.va, true));
    });

    it('rejects bad arguments with EINVAL and changes nothing', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      const pa = r.frame();
      const va = mmu ? B + ps : pa;
      const before = snapshot(r, u, [m.va, va]);
      const bad: Array<() => unknown> = [
        () => u.enter(pa, va + 1, RW),
        () => u.enter(pa + 1, va, RW),
        () => u.enter(pa, userEnd, RW),
        () => u.enter(pa, Number.NaN, RW),
        () => u.enter(pa, -ps, RW),
        () => u.enter(pa, va + 0.5, RW),
        () => u.enter(pa, 2 ** 53, RW),
        () => u.enter(Number.NaN, va, RW),
        () => u.enter(pa, va, 0x100),
        () => u.enter(pa, va, -1),
        () => u.enter(pa, va, 1.5),
        () => u.remove(m.va + 1, m.va + ps),
        () => u.remove(m.va, m.va + ps + 1),
        () => u.remove(m.va + ps, m.va),
        () => u.remove(userEnd, userEnd + ps),
        () => u.protect(m.va + 1, m.va + ps, RO),
        () => u.protect(m.va, m.va + ps, 0x100),
        // bits at or above 2^32, which a 32-bit AND would drop
        () => u.enter(pa, va, 2 ** 32 + RW),
        () => u.enter(pa, va, 2 ** 40),
        () => u.protect(m.va, m.va + ps, 2 ** 32 + RO),
        () => u.protect(m.va, m.va + ps, 2 ** 40),
        // values that are not numbers, however number-like
        () => u.enter(pa, BigInt(va) as unknown as number, RW),
        () => u.enter(pa, String(va) as unknown as number, RW),
        () => u.enter(String(pa) as unknown as number, va, RW),
        () => u.enter(pa, va, BigInt(RW) as unknown as number),
        () => u.enter(pa, va, String(RW) as unknown as number),
        () => u.enter(pa, [va] as unknown as number, RW),
        () => u.remove(BigInt(m.va) as unknown as number, m.va + ps),
        () => u.remove(m.va, String(m.va + ps) as unknown as number),
        () => u.protect(m.va, m.va + ps, null as unknown as number),
        () => r.kernel.enter(pa, kernelEnd, RW),
        () => r.kernel.enter(pa, kernelStart + 1, RW),
      ];
      if (userStart >= ps) bad.push(() => u.enter(pa, userStart - ps, RW));
      for (const fn of bad) expectEinval(fn);
      expect(snapshot(r, u, [m.va, va])).toEqual(before);
      if (mmu) expect(u.translate(m.va, Access.WRITE | Access.USER)).toBe(m.pa);
    });

    it('translate never throws: junk answers BAD_ADDRESS, even for a page the TLB holds', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      const ok = Access.READ | Access.USER;
      // The page is cached first, so junk that looks like it (a string, a BigInt, a fraction) meets a TLB hit.
      expect(u.translate(m.va, ok)).toBe(m.pa);
      expect(u.translate(m.va + 4, ok)).toBe(m.pa + 4);
      const notAnAddress: unknown[] = [
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        m.va + 0.5,
        BigInt(m.va),
        String(m.va),
        '0x1000',
        undefined,
        null,
        [m.va],
        {},
      ];
      const notAnAccess: unknown[] = [
        0,
        -1,
        Access.USER,
        16,
        16 | Access.READ,
        0xff,
        2 ** 32 + Access.READ,
        2 ** 40,
        1.5,
        Number.NaN,
        BigInt(Access.READ),
        String(Access.READ),
        null,
        undefined,
      ];
      const show = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? `'${v}'` : String(v));
      for (const va of notAnAddress) {
        expect(u.translate(va as number, ok), `translate(${show(va)}, ${ok})`).toBe(FaultCode.BAD_ADDRESS);
        expect(u.resolve(va as number), `resolve(${show(va)})`).toBe(-1);
      }
      for (const access of notAnAccess) {
        expect(u.translate(m.va, access as number), `translate(va, ${show(access)})`).toBe(FaultCode.BAD_ADDRESS);
      }
      // integer addresses no space holds: some negative FaultCode
      for (const va of [-ps, 2 ** 60, 2 ** 53]) {
        const res = u.translate(va, ok);
        expect(typeof res).toBe('number');
        expect(res, `translate(${va})`).toBeLessThan(0);
      }
      expect(u.resolve(-1)).toBe(-1);
      // the cached translation is intact
      expect(u.translate(m.va + 8, ok)).toBe(m.pa + 8);
    });

    it('check() holds on a fresh kernel and user space, while mapped, and after destroy', () => {
      const r = rig();
      r.kernel.check();
      const u = createUser(r.kernel);
      u.check();
      const m = map(r, u, B, RW | USER);
      u.translate(m.va, mmu ? Access.WRITE | Access.USER : Access.READ);
      u.check();
      r.kernel.check();
      u.destroy();
      u.check();
    });

    it.runIf(mmu)('check() catches a present leaf mapping a freed frame, and passes again once it is removed', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      expect(u.translate(m.va, Access.READ | Access.USER)).toBe(m.pa);
      u.check();
      r.alloc.freePa(m.pa);
      expect(() => u.check()).toThrow();
      u.remove(m.va, m.va + ps);
      u.check();
    });

    it.runIf(mmu)('check() catches a present leaf mapping a page table', () => {
      const r = rig();
      const u = createUser(r.kernel);
      map(r, u, B, RW | USER);
      const tables = u.tables();
      const leafTable = tables[tables.length - 1].pa;
      expect(u.enter(leafTable, B + ps, RW | USER)).toBe(0);
      expect(() => u.check()).toThrow();
      u.remove(B + ps, B + 2 * ps);
      u.check();
    });

    it.runIf(mmu && offBoard >= 0)('check() catches a present leaf mapping neither RAM nor a device window', () => {
      const r = rig();
      const u = createUser(r.kernel);
      expect(u.enter(offBoard, B, RW | USER)).toBe(0);
      expect(() => u.check()).toThrow();
      u.remove(B, B + ps);
      u.check();
    });

    it.runIf(mmu)('an MMU pmap offers no grant: its tables say what is reachable', () => {
      const r = rig();
      expect(createUser(r.kernel).grant).toBeUndefined();
      expect(r.kernel.grant).toBeUndefined();
    });

    it.runIf(!mmu)('grant gives a space a physical range, idempotently, and refuses ranges outside board maps', ({ skip }) => {
      const r = rig();
      const u = createUser(r.kernel);
      // grant is optional without an MMU too: a pmap that does not offer it is skipped, not passed
      if (u.grant === undefined) skip('this pmap offers no grant');
      const grant = u.grant!.bind(u);
      const pa = r.frame();
      grant(pa, ps);
      grant(pa, ps);
      grant(pa + 8, 8);
      expect(u.translate(pa + 4, Access.READ | Access.USER)).toBe(pa + 4);
      expect(u.translate(pa + 4, Access.READ)).toBe(pa + 4);
      const before = snapshot(r, u, [pa]);
      const bad: Array<() => unknown> = [
        () => grant(pa, 0),
        () => grant(pa, -ps),
        () => grant(Number.NaN, ps),
        () => grant(pa + 0.5, ps),
        () => grant(BigInt(pa) as unknown as number, ps),
        () => grant(String(pa) as unknown as number, ps),
        () => grant(pa, 2 ** 53),
      ];
      if (offBoard >= 0) bad.push(() => grant(offBoard, ps), () => grant(top - ps, 2 * ps));
      for (const fn of bad) expectEinval(fn);
      expect(snapshot(r, u, [pa])).toEqual(before);
      u.destroy();
      expectEinval(() => grant(pa, ps));
    });

    it('keeps counters and lists its tables', () => {
      const r = rig();
      const u = createUser(r.kernel);
      const m = map(r, u, B, RW | USER);
      const access = mmu ? Access.READ | Access.USER : Access.READ;
      u.translate(m.va, access);
      const s0 = u.stats();
      u.translate(m.va + 4, access);
      const s1 = u.stats();
      for (const k of ['tableFrames', 'tlbHits', 'tlbMisses', 'tlbFlushes', 'walks'] as const) {
        expect(Number.isSafeInteger(s1[k]) && s1[k] >= 0, k).toBe(true);
      }
      const t = u.tables();
      expect(Array.isArray(t)).toBe(true);
      for (const row of t) {
        expect(Number.isSafeInteger(row.level) && row.level >= 0).toBe(true);
        expect(Number.isSafeInteger(row.pa) && Number.isSafeInteger(row.va) && Number.isSafeInteger(row.entries)).toBe(true);
        // span: bytes one entry maps, a power of two
        expect(Number.isSafeInteger(row.span) && row.span > 0 && 2 ** Math.round(Math.log2(row.span)) === row.span).toBe(true);
      }
      if (mmu) {
        // a TLB serves the second access to a page
        expect(s1.tlbHits).toBeGreaterThan(s0.tlbHits);
        expect(s1.tableFrames).toBeGreaterThanOrEqual(2);
        expect(t[0].level).toBe(0);
        expect(t.length).toBe(s1.tableFrames);
        // the deeper the table, the less one entry maps; a leaf-table entry maps one page
        for (const row of t) {
          expect(row.span).toBeGreaterThanOrEqual(ps);
          expect(row.level === 0 || row.span < t[0].span).toBe(true);
        }
        expect(Math.min(...t.map((row) => row.span))).toBe(ps);
        expect(r.alloc.get(t[0].pa)?.free).toBe(false);
      } else {
        expect(s1.tableFrames).toBe(0);
      }
      u.activate();
      r.kernel.activate();
    });
  });
}
