import { armv7m } from '@vmlayers/pmap-nommu';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BytesPager, createVm, opt } from '../src/index.js';
import type { ReclaimPolicy, VmEvent } from '../src/index.js';
import { MMU_ARCHS, PRIVATE, RW, errnoOf, pattern } from './helpers.js';

const BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];

/** Page faults served while process `p` writes one byte to each page of the reference string. */
function faultsFor(arch: (typeof MMU_ARCHS)[number], policy: string, frames: number, refs: number[]): number {
  let faults = 0;
  const vm = createVm({ arch, swap: { pages: 64 }, reclaim: { policy, limit: frames }, onEvent: (e: VmEvent) => void (e.type === 'fault' && e.result === undefined && faults++) });
  const p = vm.spawn();
  const ps = arch.pageSize;
  const base = p.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE });
  for (const r of refs) {
    p.write(base + r * ps, new Uint8Array([r]));
    vm.check();
  }
  const n = faults;
  // Every page still holds what was written last.
  for (const r of new Set(refs)) expect(p.read(base + r * ps, 1)[0]).toBe(r);
  return n;
}

describe.each(MMU_ARCHS.map((a) => [a.name, a] as const))('reclaim on %s', (_, arch) => {
  const ps = arch.pageSize;

  it("FIFO shows Belady's anomaly: 9 faults with 3 frames, 10 with 4", () => {
    expect(faultsFor(arch, 'fifo', 3, BELADY)).toBe(9);
    expect(faultsFor(arch, 'fifo', 4, BELADY)).toBe(10);
  });

  // Without accessed bits (armv7a) no page is known to be hot: clock and lru age every page alike, as fifo does.
  it.runIf(arch.capabilities.accessedDirty)('clock and lru keep the hot pages of a loop: fewer faults than fifo on a hot/cold mix', () => {
    // Page 0 is used between every cold page: a policy that sees the accessed bit keeps it.
    const refs = [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 1, 0, 2, 0, 3];
    const f = faultsFor(arch, 'fifo', 3, refs);
    expect(faultsFor(arch, 'clock', 3, refs)).toBeLessThan(f);
    expect(faultsFor(arch, 'lru', 3, refs)).toBeLessThan(f);
  });

  it('a working set twice the RAM runs to completion with the bytes it wrote (swap), with direct reclaim', () => {
    const ram = arch.name === 'ia32' ? 4 << 20 : 2 << 20;
    const events: VmEvent[] = [];
    const vm = createVm({ arch, ramSize: ram, swap: { pages: (3 * ram) / ps }, onEvent: (e) => void events.push(e) });
    const p = vm.spawn();
    const pages = (2 * ram) / ps;
    const base = p.mmap({ size: pages * ps, prot: RW, flags: PRIVATE });
    for (let i = 0; i < pages; i++) p.write(base + i * ps, pattern(64, i));
    vm.check();
    const m = vm.meminfo();
    expect(m.reclaim!.swapOuts).toBeGreaterThan(pages / 2);
    expect(m.swap!.total).toBe(3 * ram);
    for (let i = 0; i < pages; i++) expect(p.read(base + i * ps, 64)).toEqual(pattern(64, i));
    expect(vm.meminfo().reclaim!.swapIns).toBeGreaterThan(0);
    // /proc/<pid>/status: the pages it maps, what is in swap, and the faults (major ones read swap).
    const st = vm.status(p.pid);
    expect(st.majorFaults).toBe(vm.meminfo().reclaim!.swapIns);
    expect(st.minorFaults).toBe(pages);
    expect(st.swap).toBe(vm.meminfo().swap!.total - vm.meminfo().swap!.free);
    expect(st.rss).toBeGreaterThan(0);
    expect(st.rss + st.swap).toBe(pages * ps);
    expect(events.some((e) => e.type === 'swap-out')).toBe(true);
    expect(events.some((e) => e.type === 'swap-in' && e.pid === p.pid)).toBe(true);
    vm.check();
    p.exit();
    vm.check();
    // Every swap slot and every frame is back.
    expect(vm.meminfo().swap!.free).toBe(3 * ram);
    expect(vm.meminfo().reclaim!.resident).toBe(0);
  });

  it('fork while pages are swapped out: both sides keep their meaning; copy-on-write after swap-in', () => {
    const vm = createVm({ arch, swap: { pages: 64 }, reclaim: { policy: 'fifo', limit: 4 } });
    const p = vm.spawn();
    const base = p.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE });
    for (let i = 0; i < 8; i++) p.write(base + i * ps, pattern(32, i));
    expect(vm.meminfo().reclaim!.resident).toBeLessThanOrEqual(4);
    const c = p.fork();
    vm.check();
    for (let i = 0; i < 8; i++) expect(c.read(base + i * ps, 32)).toEqual(pattern(32, i));
    c.write(base + 2 * ps, pattern(32, 100));
    vm.check();
    for (let i = 0; i < 8; i++) expect(p.read(base + i * ps, 32)).toEqual(pattern(32, i));
    expect(c.read(base + 2 * ps, 32)).toEqual(pattern(32, 100));
    // An access spanning more pages than the limit completes, a page at a time.
    const long = pattern(6 * ps, 7);
    p.write(base + 1, long);
    expect(p.read(base + 1, long.length)).toEqual(long);
    vm.check();
    c.exit();
    p.exit();
    vm.check();
    expect(vm.meminfo().swap!.free).toBe(64 * ps);
  });

  it('without swap nothing anonymous can go: ENOMEM at the limit, as before; vm.reclaim() evicts to a target', () => {
    const vm = createVm({ arch, reclaim: { limit: 2 } });
    const p = vm.spawn();
    const base = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(base, new Uint8Array([1]));
    p.write(base + ps, new Uint8Array([2]));
    expect(errnoOf(() => p.write(base + 2 * ps, new Uint8Array([3])))).toBe('ENOMEM');
    expect(p.read(base + ps, 1)[0]).toBe(2);
    vm.check();
    const w = createVm({ arch, swap: { pages: 16 } });
    const q = w.spawn();
    const b2 = q.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    for (let i = 0; i < 4; i++) q.write(b2 + i * ps, new Uint8Array([i + 1]));
    const free = w.alloc.freePages();
    expect(w.reclaim(free + 3)).toBe(3);
    expect(w.meminfo().reclaim!.evictions).toBe(3);
    for (let i = 0; i < 4; i++) expect(q.read(b2 + i * ps, 1)[0]).toBe(i + 1);
    w.check();
  });

  it('refuses bad options with EINVAL and a full swap device fails like exhaustion (fault injector at swap)', () => {
    for (const bad of [{ swap: { pages: 0 } }, { swap: null }, { swap: { pages: 1.5 } }, { reclaim: { limit: 0 } }, { reclaim: { policy: 'mru' } }, { reclaim: 7 }]) {
      expect(errnoOf(() => createVm({ arch, ...(bad as object) })), JSON.stringify(bad)).toBe('EINVAL');
    }
    const vm = createVm({ arch, swap: { pages: 8 }, reclaim: { limit: 2 } });
    for (const bad of [-1, null, '8', 8n, 1.5]) expect(errnoOf(() => vm.reclaim(bad as number)), String(bad)).toBe('EINVAL');
    const p = vm.spawn();
    const base = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(base, new Uint8Array([1]));
    p.write(base + ps, new Uint8Array([2]));
    vm.faults.failAt('swap', 1);
    expect(errnoOf(() => p.write(base + 2 * ps, new Uint8Array([3])))).toBe('ENOMEM');
    vm.check();
    p.write(base + 2 * ps, new Uint8Array([3]));
    expect([0, 1, 2].map((i) => p.read(base + i * ps, 1)[0])).toEqual([1, 2, 3]);
    vm.check();
    expect(errnoOf(() => createVm({ arch }).reclaim())).toBe('ENOSYS');
  });
});

describe('reclaim without an MMU', () => {
  it('is refused with ENOSYS', () => {
    expect(errnoOf(() => createVm({ arch: armv7m, swap: { pages: 8 } }))).toBe('ENOSYS');
    expect(errnoOf(() => createVm({ arch: armv7m, reclaim: { policy: 'fifo' } }))).toBe('ENOSYS');
  });
});

describe('opt (Belady)', () => {
  const arch = MMU_ARCHS[0];
  const ps = arch.pageSize;

  /** Faults of one process writing the reference string, under `make(vm, base, position)`'s policy. */
  function run(refs: number[], frames: number, make: (where: { pos: number; base: number; vm: ReturnType<typeof createVm> }) => ReclaimPolicy | string): number {
    let faults = 0;
    const where = { pos: 0, base: 0, vm: null as unknown as ReturnType<typeof createVm> };
    const policy = make(where);
    const vm = createVm({ arch, swap: { pages: 64 }, reclaim: { policy, limit: frames }, onEvent: (e: VmEvent) => void (e.type === 'fault' && e.result === undefined && faults++) });
    where.vm = vm;
    const p = vm.spawn();
    where.base = p.mmap({ size: 16 * ps, prot: RW, flags: PRIVATE });
    for (let i = 0; i < refs.length; i++) {
      where.pos = i;
      p.write(where.base + refs[i] * ps, new Uint8Array([refs[i]]));
    }
    vm.check();
    return faults;
  }

  const optFor = (refs: number[]) => (w: { pos: number; base: number; vm: ReturnType<typeof createVm> }) =>
    opt((pa) => {
      // The page in frame pa: its virtual address through the reverse map, then its next reference after now.
      const m = w.vm.kmap.rmap!.mappings(pa)[0];
      if (m === undefined) return Infinity;
      const page = (m.va - w.base) / ps;
      const next = refs.indexOf(page, w.pos + 1);
      return next < 0 ? Infinity : next;
    });

  it('makes the textbook counts on the classic string, and never faults more than fifo, clock or lru', () => {
    expect(run(BELADY, 3, optFor(BELADY))).toBe(7);
    expect(run(BELADY, 4, optFor(BELADY))).toBe(6);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5 }), (refs, frames) => {
        const o = run(refs, frames, optFor(refs));
        for (const name of ['fifo', 'clock', 'lru']) expect(o).toBeLessThanOrEqual(run(refs, frames, () => name));
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a missing nextUse with EINVAL', () => {
    expect(errnoOf(() => opt(undefined as never))).toBe('EINVAL');
  });
});

describe.each(MMU_ARCHS.map((a) => [a.name, a] as const))('reclaim of object pages on %s', (_, arch) => {
  const ps = arch.pageSize;
  const SHARED = 0x100;

  it('clean pages of a pager are dropped and read again; dirty ones written back first, every byte kept', () => {
    const bytes = new Uint8Array(8 * ps);
    for (let i = 0; i < 8; i++) bytes.set(pattern(32, i), i * ps);
    const events: VmEvent[] = [];
    const vm = createVm({ arch, reclaim: { policy: 'fifo', limit: 2 }, onEvent: (e) => void events.push(e) });
    const o = vm.createObject(new BytesPager(bytes));
    const p = vm.spawn();
    const va = p.mmap({ size: 8 * ps, prot: RW, flags: SHARED, object: o });
    for (let i = 0; i < 8; i++) expect(p.read(va + i * ps, 32)).toEqual(pattern(32, i));
    expect(vm.meminfo().reclaim!.resident).toBeLessThanOrEqual(2);
    expect(vm.meminfo().reclaim!.evictions).toBe(6);
    expect(events.filter((e) => e.type === 'evict' && e.object === o.name).length).toBe(6);
    vm.check();
    // Written through the shared mapping: each page, evicted, goes back to the pager's bytes.
    for (let i = 0; i < 8; i++) p.write(va + i * ps, pattern(32, 50 + i));
    for (let i = 0; i < 6; i++) expect(bytes.subarray(i * ps, i * ps + 32)).toEqual(pattern(32, 50 + i));
    for (let i = 0; i < 8; i++) expect(p.read(va + i * ps, 32)).toEqual(pattern(32, 50 + i));
    vm.check();
    // A private mapping reads the object's pages and copies on write, the page copied from held meanwhile.
    const q = vm.spawn();
    const vb = q.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE, object: o });
    q.write(vb + 3 * ps, new Uint8Array([9]));
    expect(q.read(vb + 3 * ps, 2)).toEqual(new Uint8Array([9, pattern(32, 53)[1]]));
    expect(p.read(va + 3 * ps, 1)).toEqual(new Uint8Array([pattern(32, 53)[0]]));
    vm.check();
    p.exit();
    q.exit();
    o.release();
    vm.check();
    expect(vm.meminfo().reclaim!.resident).toBe(0);
  });

  it('a dirty page whose pager cannot write stays: with nothing else to evict, ENOMEM at the limit', () => {
    const data = new Uint8Array(4 * ps);
    const readOnly = { size: () => data.length, read: (off: number, into: Uint8Array) => into.set(data.subarray(off, off + into.length)) };
    const vm = createVm({ arch, reclaim: { limit: 2 } });
    const o = vm.createObject(readOnly);
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: SHARED, object: o });
    p.write(va, new Uint8Array([1]));
    p.write(va + ps, new Uint8Array([2]));
    expect(errnoOf(() => p.read(va + 2 * ps, 1))).toBe('ENOMEM');
    expect(p.read(va, 1)[0]).toBe(1);
    vm.check();
  });
});

describe.each(MMU_ARCHS.map((a) => [a.name, a] as const))('shared anonymous memory under reclaim on %s', (_, arch) => {
  const ps = arch.pageSize;
  it('goes to swap like private pages and keeps its meaning across fork: both sides see each other\'s writes', () => {
    const vm = createVm({ arch, swap: { pages: 32 }, reclaim: { policy: 'fifo', limit: 2 } });
    const p = vm.spawn();
    const va = p.mmap({ size: 6 * ps, prot: RW, flags: 0x100 });
    for (let i = 0; i < 6; i++) p.write(va + i * ps, pattern(16, i));
    const c = p.fork();
    for (let i = 0; i < 6; i++) expect(c.read(va + i * ps, 16)).toEqual(pattern(16, i));
    c.write(va + 4 * ps, pattern(16, 40));
    for (let i = 0; i < 6; i++) p.read(va + ((i + 1) % 6) * ps, 1);
    expect(p.read(va + 4 * ps, 16)).toEqual(pattern(16, 40));
    expect(vm.meminfo().reclaim!.swapIns).toBeGreaterThan(0);
    vm.check();
    c.exit();
    p.exit();
    vm.check();
    expect(vm.meminfo().swap!.free).toBe(32 * ps);
  });
});

describe('a custom policy that misbehaves', () => {
  const arch = MMU_ARCHS[0];
  const ps = arch.pageSize;

  function withPolicy(victim: () => number, added?: () => void) {
    const order: number[] = [];
    const policy: ReclaimPolicy = {
      name: 'hostile',
      added: (pa) => {
        added?.();
        order.push(pa);
      },
      removed: (pa) => void (order.includes(pa) && order.splice(order.indexOf(pa), 1)),
      victim,
      size: () => order.length,
    };
    const vm = createVm({ arch, swap: { pages: 16 }, reclaim: { policy, limit: 2 } });
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([1]));
    p.write(va + ps, new Uint8Array([2]));
    return { vm, p, va };
  }

  it('a victim it was never given, or a victim() that throws: nothing is evicted, the access fails, state intact', () => {
    for (const victim of [() => 0xdead000, () => 2 ** 60, () => NaN, () => { throw new TypeError('policy bug'); }]) {
      const { vm, p, va } = withPolicy(victim);
      const err = (() => {
        try {
          p.write(va + 2 * ps, new Uint8Array([3]));
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(err).not.toBeNull();
      expect(p.read(va, 1)[0]).toBe(1);
      expect(p.read(va + ps, 1)[0]).toBe(2);
      expect(vm.meminfo().reclaim!.evictions).toBe(0);
      vm.check();
    }
  });
});
