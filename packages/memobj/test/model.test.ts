import fc from 'fast-check';
import { MapFlags, Prot } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import type { Process, VmObject } from '../src/index.js';
import { ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

// A random mix of spawn/fork/mmap/write/read/munmap/mprotect/exit over several processes, against a model where
// every process is a map from page address to { bytes, prot }. Private pages are cloned on fork, shared pages are
// the same bytes object in every process that maps them. vm.check() after every step.

type Kind = 'anon' | 'shared-anon' | 'object' | 'shared-object';
type Op =
  | { op: 'spawn' }
  | { op: 'fork'; p: number }
  | { op: 'mmap'; p: number; kind: Kind; pages: number; writable: boolean; at: number }
  | { op: 'write'; p: number; page: number; off: number; len: number; seed: number }
  | { op: 'read'; p: number; page: number; off: number; len: number }
  | { op: 'munmap'; p: number; page: number; pages: number }
  | { op: 'mprotect'; p: number; page: number; pages: number; writable: boolean }
  | { op: 'fixed'; p: number; page: number; pages: number; object: boolean }
  | { op: 'exit'; p: number };

const opArb = fc.oneof(
  { arbitrary: fc.constant({ op: 'spawn' as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('fork' as const), p: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      p: fc.nat(),
      kind: fc.constantFrom<Kind>('anon', 'anon', 'shared-anon', 'object', 'shared-object'),
      pages: fc.integer({ min: 1, max: 4 }),
      writable: fc.boolean(),
      at: fc.nat(3),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant('write' as const), p: fc.nat(), page: fc.nat(), off: fc.nat(), len: fc.integer({ min: 1, max: 700 }), seed: fc.nat(255) }),
    weight: 5,
  },
  { arbitrary: fc.record({ op: fc.constant('read' as const), p: fc.nat(), page: fc.nat(), off: fc.nat(), len: fc.integer({ min: 1, max: 700 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('munmap' as const), p: fc.nat(), page: fc.nat(), pages: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('mprotect' as const), p: fc.nat(), page: fc.nat(), pages: fc.integer({ min: 1, max: 3 }), writable: fc.boolean() }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ op: fc.constant('fixed' as const), p: fc.nat(), page: fc.nat(), pages: fc.integer({ min: 1, max: 2 }), object: fc.boolean() }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('exit' as const), p: fc.nat() }), weight: 1 },
);

interface Data {
  bytes: Uint8Array;
}
interface MPage {
  data: Data;
  prot: number;
  shared: boolean;
  maxProt: number;
  /** No MMU: the object page whose block this page is (mapping it twice in one process is EEXIST). */
  block?: string;
}
interface MProc {
  proc: Process;
  pages: Map<number, MPage>;
}

function run(arch: PmapFactory, ops: Op[]): void {
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;
  const vm = smallVm(arch);
  const base = footprint(vm);
  const text = pattern(2 * ps, 11);
  const initData = pattern(ps + 33, 12);
  const objPriv = vm.createObject(pattern(4 * ps, 13));
  const sharedBytes = pattern(4 * ps, 14);
  const objShared = vm.createObject(sharedBytes.slice());
  // The shared object's pages as every SHARED mapping sees them.
  const sharedObjPages: Data[] = [0, 1, 2, 3].map((i) => ({ bytes: sharedBytes.slice(i * ps, (i + 1) * ps) }));
  const procs: MProc[] = [];

  const spawn = (): void => {
    const p = vm.spawn({
      segments: [
        { vaddr: 0x10000, size: 2 * ps, prot: Prot.READ | Prot.EXEC, data: text },
        { vaddr: 0x20000, size: 3 * ps, prot: RW, data: initData },
      ],
    });
    const m: MProc = { proc: p, pages: new Map() };
    const maps = vm.maps(p.pid);
    const textVa = mmu ? 0x10000 : maps.find((x) => x.prot & Prot.EXEC)!.start;
    const dataVa = mmu ? 0x20000 : maps.find((x) => x.prot & Prot.WRITE)!.start;
    for (let i = 0; i < 2; i++) m.pages.set(textVa + i * ps, { data: { bytes: text.slice(i * ps, (i + 1) * ps) }, prot: Prot.READ | Prot.EXEC, shared: false, maxProt: mmu ? 7 : 5 });
    for (let i = 0; i < 3; i++) {
      const b = new Uint8Array(ps);
      b.set(initData.subarray(i * ps, (i + 1) * ps));
      m.pages.set(dataVa + i * ps, { data: { bytes: b }, prot: RW, shared: false, maxProt: 7 });
    }
    procs.push(m);
  };

  const pick = (n: number): MProc | undefined => (procs.length === 0 ? undefined : procs[n % procs.length]);
  const pickPage = (m: MProc, n: number): number | undefined => {
    if (m.pages.size === 0) return undefined;
    const keys = [...m.pages.keys()].sort((a, b) => a - b);
    return keys[n % keys.length];
  };

  // The errno a user access of [va, va+len) gets, by the first page that refuses it; undefined when allowed.
  const accessCode = (m: MProc, va: number, len: number, write: boolean): string | undefined => {
    for (let pg = va - (va % ps); pg < va + len; pg += ps) {
      const e = m.pages.get(pg);
      if (e === undefined) return 'EFAULT';
      if (write ? !(e.prot & Prot.WRITE) : !(e.prot & (Prot.READ | Prot.WRITE))) return 'EACCES';
    }
    return undefined;
  };

  spawn();
  for (const o of ops) {
    switch (o.op) {
      case 'spawn':
        if (procs.length < 5) spawn();
        break;
      case 'fork': {
        const m = pick(o.p);
        if (!m || procs.length >= 6) break;
        if (!mmu) {
          expect(errnoOf(() => m.proc.fork())).toBe('ENOSYS');
          break;
        }
        const c = m.proc.fork();
        const pages = new Map<number, MPage>();
        for (const [va, e] of m.pages) pages.set(va, { ...e, data: e.shared ? e.data : { bytes: e.data.bytes.slice() } });
        procs.push({ proc: c, pages });
        break;
      }
      case 'mmap': {
        const m = pick(o.p);
        if (!m) break;
        const shared = o.kind === 'shared-anon' || o.kind === 'shared-object';
        const object: VmObject | undefined = o.kind === 'object' ? objPriv : o.kind === 'shared-object' ? objShared : undefined;
        const offset = object === undefined ? undefined : Math.min(o.at, 4 - o.pages) * ps;
        const prot = o.writable ? RW : Prot.READ;
        const sharesBlock = !mmu && (o.kind === 'shared-object' || (o.kind === 'object' && !o.writable));
        const keys = sharesBlock ? Array.from({ length: o.pages }, (_, i) => `${o.kind}:${offset! / ps + i}`) : [];
        const taken = new Set([...m.pages.values()].map((e) => e.block));
        if (keys.some((k) => taken.has(k))) {
          // Without an MMU a block has one address: a process cannot map the same memory twice.
          expect(errnoOf(() => m.proc.mmap({ size: o.pages * ps, prot, flags: shared ? SHARED : PRIVATE, object, offset }))).toBe('EEXIST');
          break;
        }
        const va = m.proc.mmap({ size: o.pages * ps, prot, flags: shared ? SHARED : PRIVATE, object, offset });
        // Without an MMU a private read-only object mapping shares the object's block and can never be written.
        const maxProt = !mmu && o.kind === 'object' && !o.writable ? 5 : 7;
        for (let i = 0; i < o.pages; i++) {
          let data: Data;
          if (o.kind === 'shared-object') data = sharedObjPages[offset! / ps + i];
          else if (o.kind === 'object') data = { bytes: pattern(4 * ps, 13).slice(offset! + i * ps, offset! + (i + 1) * ps) };
          else data = { bytes: new Uint8Array(ps) };
          expect(m.pages.has(va + i * ps)).toBe(false);
          m.pages.set(va + i * ps, { data, prot, shared, maxProt, block: sharesBlock ? keys[i] : undefined });
        }
        break;
      }
      case 'write': {
        const m = pick(o.p);
        const pg = m && pickPage(m, o.page);
        if (!m || pg === undefined) break;
        const va = pg + (o.off % ps);
        const bytes = pattern(o.len, o.seed);
        const code = accessCode(m, va, o.len, true);
        expect(errnoOf(() => m.proc.write(va, bytes))).toBe(code);
        if (code !== undefined) break;
        for (let i = 0; i < o.len; i++) {
          const a = va + i;
          m.pages.get(a - (a % ps))!.data.bytes[a % ps] = bytes[i];
        }
        break;
      }
      case 'read': {
        const m = pick(o.p);
        const pg = m && pickPage(m, o.page);
        if (!m || pg === undefined) break;
        const va = pg + (o.off % ps);
        const code = accessCode(m, va, o.len, false);
        if (code !== undefined) {
          expect(errnoOf(() => m.proc.read(va, o.len))).toBe(code);
          break;
        }
        const want = new Uint8Array(o.len);
        for (let i = 0; i < o.len; i++) {
          const a = va + i;
          want[i] = m.pages.get(a - (a % ps))!.data.bytes[a % ps];
        }
        expect(m.proc.read(va, o.len)).toEqual(want);
        break;
      }
      case 'munmap': {
        const m = pick(o.p);
        const pg = m && pickPage(m, o.page);
        if (!m || pg === undefined) break;
        m.proc.munmap(pg, o.pages * ps);
        for (let i = 0; i < o.pages; i++) m.pages.delete(pg + i * ps);
        break;
      }
      case 'mprotect': {
        const m = pick(o.p);
        const pg = m && pickPage(m, o.page);
        if (!m || pg === undefined) break;
        const prot = o.writable ? RW : Prot.READ;
        let code: string | undefined;
        // In address order, as the mapper validates: a hole is ENOMEM, more than the mapping allows EACCES.
        for (let i = 0; i < o.pages && code === undefined; i++) {
          const e = m.pages.get(pg + i * ps);
          if (e === undefined) code = 'ENOMEM';
          else if (prot & ~e.maxProt) code = 'EACCES';
        }
        expect(errnoOf(() => m.proc.mprotect(pg, o.pages * ps, prot))).toBe(code);
        if (code === undefined) for (let i = 0; i < o.pages; i++) m.pages.get(pg + i * ps)!.prot = prot;
        break;
      }
      case 'fixed': {
        // MapFlags.FIXED over what is mapped (with an MMU): the old pages go, in one step.
        const m = pick(o.p);
        const pg = m && pickPage(m, o.page);
        if (!m || pg === undefined || !mmu) break;
        const va = m.proc.mmap({ addr: pg, size: o.pages * ps, prot: RW, flags: PRIVATE | MapFlags.FIXED, object: o.object ? objPriv : undefined, offset: o.object ? ps : undefined });
        expect(va).toBe(pg);
        for (let i = 0; i < o.pages; i++) {
          const data = { bytes: o.object ? pattern(4 * ps, 13).slice((1 + i) * ps, (2 + i) * ps) : new Uint8Array(ps) };
          m.pages.set(pg + i * ps, { data, prot: RW, shared: false, maxProt: 7 });
        }
        break;
      }
      case 'exit': {
        const m = pick(o.p);
        if (!m) break;
        m.proc.exit();
        procs.splice(procs.indexOf(m), 1);
        break;
      }
    }
    vm.check();
  }
  // Every page reads what the model says.
  for (const m of procs) {
    for (const [va, e] of m.pages) {
      if (e.prot & (Prot.READ | Prot.WRITE)) expect(m.proc.read(va, ps)).toEqual(e.data.bytes);
    }
  }
  for (const m of procs) m.proc.exit();
  objPriv.release();
  objShared.release();
  vm.check();
  expect(footprint(vm)).toEqual(base);
  expect(vm.objects()).toEqual([]);
}

describe.each(ARCHS.map((a) => [a.name, a] as const))('model test on %s', (_n, arch) => {
  it('random processes against a per-process byte-array model, check() after every step, all memory back', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 45 }), (ops) => run(arch, ops)),
      { numRuns: arch.capabilities.hasMmu ? 40 : 60 },
    );
  });
});
