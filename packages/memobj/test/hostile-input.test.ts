import { Kmalloc, Zone } from '@vmlayers/kmalloc';
import { createKernelMap } from '@vmlayers/mapper';
import { BoardMemoryMap, FaultCode, MapFlags, PageAttr, Prot, boards, hex, isVmError } from '@vmlayers/phys';
import type { Errno, Pmap } from '@vmlayers/phys';
import { ARCHS, NOT_UINTS, WIDE_UINTS, outcomeOf } from '@vmlayers/testkit';
import type { ArchUnderTest, HostileValue } from '@vmlayers/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { createVm } from '../src/index.js';
import type { Process } from '../src/index.js';

/*
 * The bad-input table (DESIGN §4): every public entry point of every layer, reached through one small Vm per
 * architecture, against values no caller should pass. Each case asserts the exact outcome — a VmError with its
 * errno (bad value → EINVAL; unmapped → EFAULT; forbidden → EACCES; privileged flags from a user → EPERM; a valid
 * request too large to serve → ENOMEM), or for the calls that return codes (Pmap.translate/resolve, PageAllocator
 * alloc/get) the exact code, never a throw — and that nothing changed: `vm.meminfo()`, every process's maps, the
 * object count and probe bytes deep-equal before and after, `vm.check()` passing on both sides.
 *
 * A case that fails because of a defect in a layer's src is listed in KNOWN_DEFECTS with the defect and its owner:
 * it runs as `it.skip` until the defect is fixed, then the entry is deleted.
 */

const RW = Prot.READ | Prot.WRITE;
const { PRIVATE, SHARED } = MapFlags;

// Hostile values by role: testkit's NOT_UINTS (no exact integer in [0, 2^53)) and WIDE_UINTS, cut or extended per role.
const named = (name: string, value: unknown): HostileValue => ({ name, value });
const without = (list: readonly HostileValue[], ...names: string[]) => list.filter((v) => !names.includes(v.name));
/** NOT_UINTS minus `undefined`, for optional arguments where undefined means "the default". */
const NOT_UINTS_DEFINED = without(NOT_UINTS, 'undefined');
/** Values that are no number, or not a finite one: refused even where any finite number is a valid 32-bit value. */
const NOT_NUMBERS = NOT_UINTS.filter((v) => typeof v.value !== 'number' || !Number.isFinite(v.value));
/** NOT_UINTS that are integers (negative or beyond 2^53): an address that is outside every address space. */
const INTEGER_NOT_UINTS = NOT_UINTS.filter((v) => typeof v.value === 'number' && Number.isInteger(v.value));
/** Values that are no buffer of bytes. */
const NOT_BYTES: readonly HostileValue[] = [
  ...NOT_UINTS,
  named("'abc'", 'abc'),
  named('[1, 2, 3]', [1, 2, 3]),
  named('Uint16Array(2)', new Uint16Array(2)),
  named('DataView(4)', new DataView(new ArrayBuffer(4))),
  named('ArrayBuffer(4)', new ArrayBuffer(4)),
];

type Want = { errno: Errno } | { returns: unknown };

interface Case {
  /** The entry point, e.g. `Process.mmap`. */
  entry: string;
  /** The call as the report shows it, e.g. `mmap({ size: NaN })`. */
  title: string;
  run: (f: Fixture) => unknown;
  want: Want;
  /** Undoes what a call that should have been refused did, so one defect does not cascade into later cases. */
  undo?: (f: Fixture, result: unknown) => void;
}

const wantText = (w: Want): string => ('errno' in w ? w.errno : `returns ${String(w.returns)}`);

/** One small Vm with a bit of everything in it, and what the cases point at. */
function fixture(at: ArchUnderTest) {
  const ps = at.arch.pageSize;
  const vm = createVm({ arch: at.arch, ramSize: at.mmu ? 8 << 20 : 512 << 10 });
  const p = vm.spawn({ segments: [{ vaddr: 16 * ps, size: 2 * ps, prot: RW, data: pattern(ps + 100, 1) }] });
  const seg = vm.maps(p.pid)[0].start;
  // Placed first-fit in this order, so nothing follows `anon` (a range running past it meets no mapping).
  const none = p.mmap({ size: ps, prot: Prot.NONE, flags: PRIVATE });
  const ro = p.mmap({ size: ps, prot: Prot.READ, flags: PRIVATE });
  p.read(ro, 4);
  const anon = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
  p.write(anon, pattern(2 * ps, 2));
  const obj = vm.createObject(pattern(2 * ps, 3));
  const dead = vm.createObject(new Uint8Array(ps));
  dead.release();
  const exited = vm.spawn();
  exited.exit();
  const block = vm.kmalloc.kmalloc(100);
  const kva = vm.kmap.allocPages(1);
  vm.kmap.write(kva, pattern(64, 4));
  const kpa = vm.kmap.pmap.resolve(kva);
  // The kernel page right after kva, given back: a kernel address nothing maps.
  const kgap = vm.kmap.allocPages(1);
  vm.kmap.freePages(kgap);
  expect(kgap).toBe(kva + ps);
  const ram = vm.board.banks[0];
  // The highest free frame (the buddy allocator hands out low addresses first).
  let freePa = ram.base + ram.size - ps;
  while (vm.alloc.get(freePa)?.free !== true) freePa -= ps;
  // A user address no mapping covers, and a kernel address a user may never touch.
  const hole = at.mmu ? 0x4000_0000 : 0x6000_0000;
  const kernelVa = at.mmu ? vm.kmap.start : kva;
  const kpmap: Pmap = vm.kmap.pmap;
  const upmap: Pmap = p.map.pmap;
  const snapshot = () => {
    vm.check();
    return {
      meminfo: vm.meminfo(),
      maps: vm.processes().map((q) => [q.pid, vm.maps(q.pid)]),
      objects: vm.objects().length,
      kernelBytes: vm.mem.read(kpa, 64),
      userBytes: [p.read(seg, 64), p.read(anon + 2 * ps - 64, 64)],
      kmalloc: vm.kmalloc.stats(),
    };
  };
  // The first snapshot faults in the pages it reads (the image page: a page-cache fill); later ones change nothing.
  snapshot();
  return { at, ps, vm, p, seg, anon, ro, none, obj, dead, exited, kva, kpa, block, ram, freePa, hole, kernelVa, kpmap, upmap, kgap, snapshot };
}
type Fixture = ReturnType<typeof fixture>;

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff || 1);
}

/** The cases of one architecture. */
function cases(at: ArchUnderTest): Case[] {
  const out: Case[] = [];
  const E = (errno: Errno): Want => ({ errno });
  const R = (returns: unknown): Want => ({ returns });
  const add = (entry: string, title: string, run: Case['run'], want: Want, undo?: Case['undo']) => out.push({ entry, title, run, want, undo });
  const h = (v: unknown) => v as never;
  const mmu = at.mmu;
  const ps = at.arch.pageSize;
  // Sv39 and AArch64 number a canonical range and call an integer outside it NON_CANONICAL; ia32 has only 32 bits.
  const canonical = at.name === 'sv39' || at.name.startsWith('aarch64');
  const badVa = canonical ? FaultCode.NON_CANONICAL : FaultCode.BAD_ADDRESS;

  // ---- phys: PageAllocator ------------------------------------------------------------------------------------
  const freeFrame = (f: Fixture, r: unknown) => {
    if (r !== null && typeof r === 'object') f.vm.alloc.free(r as never);
    if (typeof r === 'number' && r >= 0) f.vm.alloc.freePa(r);
  };
  for (const v of [...NOT_UINTS, named('0', 0)]) {
    add('PageAllocator.alloc', `alloc(${v.name})`, (f) => f.vm.alloc.alloc(h(v.value)), E('EINVAL'), freeFrame);
    add('PageAllocator.allocPa', `allocPa(${v.name})`, (f) => f.vm.alloc.allocPa(h(v.value)), E('EINVAL'), freeFrame);
  }
  for (const v of WIDE_UINTS) {
    add('PageAllocator.alloc', `alloc(${v.name}) (more than RAM)`, (f) => f.vm.alloc.alloc(h(v.value)), R(null), freeFrame);
    add('PageAllocator.allocPa', `allocPa(${v.name}) (more than RAM)`, (f) => f.vm.alloc.allocPa(h(v.value)), R(-1), freeFrame);
  }
  for (const o of [named('4096', 4096), named("'4096'", '4096'), named('4096n', 4096n), named('{ owner: NaN }', { owner: NaN }), named('{ owner: 2**32 }', { owner: 2 ** 32 }), named('{ usage: 99 }', { usage: 99 }), named('{ usage: 0.5 }', { usage: 0.5 }), named('{ owner: 1n }', { owner: 1n })]) {
    add('PageAllocator.alloc', `alloc(4096, ${o.name})`, (f) => f.vm.alloc.alloc(4096, h(o.value)), E('EINVAL'), freeFrame);
  }
  for (const v of [...NOT_UINTS, ...WIDE_UINTS]) {
    add('PageAllocator.free', `free(${v.name})`, (f) => f.vm.alloc.free(h(v.value)), E('EINVAL'));
    add('PageAllocator.free', `free({ pa: ${v.name}, order: 0 })`, (f) => f.vm.alloc.free(h({ pa: v.value, order: 0 })), E('EINVAL'));
    add('PageAllocator.freePa', `freePa(${v.name})`, (f) => f.vm.alloc.freePa(h(v.value)), E('EINVAL'));
    add('PageAllocator.get', `get(${v.name})`, (f) => f.vm.alloc.get(h(v.value)), R(undefined));
  }
  for (const v of without(NOT_UINTS, '0')) {
    add('PageAllocator.free', `free({ pa: kernel page, order: ${v.name} })`, (f) => f.vm.alloc.free(h({ pa: f.kpa, order: v.value })), E('EINVAL'));
  }
  add('PageAllocator.free', 'free({ pa: kernel page, order: 5 }) (wrong order)', (f) => f.vm.alloc.free({ pa: f.kpa, order: 5 }), E('EINVAL'));
  add('PageAllocator.free', 'free({ pa: free frame, order: 0 }) (double free)', (f) => f.vm.alloc.free({ pa: f.freePa, order: 0 }), E('EINVAL'));
  add('PageAllocator.freePa', 'freePa(free frame) (double free)', (f) => f.vm.alloc.freePa(f.freePa), E('EINVAL'));
  add('PageAllocator.freePa', 'freePa(kernel page + 1) (unaligned)', (f) => f.vm.alloc.freePa(f.kpa + 1), E('EINVAL'));

  // ---- phys: PhysicalMemory -----------------------------------------------------------------------------------
  // As the phys README has it: an address that is no number at all is EINVAL; a number that is no address (NaN, a
  // fraction, negative, 2^53 and up) is, like a good address where no RAM or device answers, a bus error: EFAULT.
  // Lengths must be integers in [0, 2^53) (EINVAL); number values keep their low bits, as a C cast.
  const readers = ['read8', 'read16', 'read32'] as const;
  const writers = ['write8', 'write16', 'write32'] as const;
  for (const v of NOT_UINTS) {
    const bus = E(typeof v.value === 'number' ? 'EFAULT' : 'EINVAL');
    for (const m of readers) add(`PhysicalMemory.${m}`, `${m}(${v.name})`, (f) => f.vm.mem[m](h(v.value)), bus);
    for (const m of writers) add(`PhysicalMemory.${m}`, `${m}(${v.name}, 1)`, (f) => f.vm.mem[m](h(v.value), 1), bus);
    add('PhysicalMemory.read', `read(${v.name}, 4)`, (f) => f.vm.mem.read(h(v.value), 4), bus);
    add('PhysicalMemory.read', `read(kernel page, ${v.name})`, (f) => f.vm.mem.read(f.kpa, h(v.value)), E('EINVAL'));
    add('PhysicalMemory.write', `write(${v.name}, bytes)`, (f) => f.vm.mem.write(h(v.value), Uint8Array.of(1)), bus);
    add('PhysicalMemory.zero', `zero(${v.name}, 4)`, (f) => f.vm.mem.zero(h(v.value), 4), bus);
    add('PhysicalMemory.zero', `zero(kernel page, ${v.name})`, (f) => f.vm.mem.zero(f.kpa, h(v.value)), E('EINVAL'));
    add('PhysicalMemory.copy', `copy(${v.name}, kernel page, 4)`, (f) => f.vm.mem.copy(h(v.value), f.kpa, 4), bus);
    add('PhysicalMemory.copy', `copy(kernel page, ${v.name}, 4)`, (f) => f.vm.mem.copy(f.kpa, h(v.value), 4), bus);
    add('PhysicalMemory.copy', `copy(kernel page, kernel page + 8, ${v.name})`, (f) => f.vm.mem.copy(f.kpa, f.kpa + 8, h(v.value)), E('EINVAL'));
    add('PhysicalMemory.mapDevice', `mapDevice(${v.name}, 4096, handler)`, (f) => f.vm.mem.mapDevice(h(v.value), 4096, { read: () => 0, write: () => {} }), E('EINVAL'));
    add('PhysicalMemory.mapDevice', `mapDevice(0, ${v.name}, handler)`, (f) => f.vm.mem.mapDevice(0, h(v.value), { read: () => 0, write: () => {} }), E('EINVAL'));
  }
  for (const v of NOT_UINTS.filter((w) => typeof w.value !== 'number')) {
    for (const m of writers) add(`PhysicalMemory.${m}`, `${m}(kernel page, ${v.name}) (value)`, (f) => f.vm.mem[m](f.kpa, h(v.value)), E('EINVAL'));
  }
  for (const v of [named('2**32+1', 2 ** 32 + 1), named('2**40', 2 ** 40), named('2**53-1', 2 ** 53 - 1)]) {
    add('PhysicalMemory.read', `read(kernel page, ${v.name}) (past RAM)`, (f) => f.vm.mem.read(f.kpa, h(v.value)), E('EFAULT'));
    add('PhysicalMemory.zero', `zero(kernel page, ${v.name}) (past RAM)`, (f) => f.vm.mem.zero(f.kpa, h(v.value)), E('EFAULT'));
  }
  for (const v of WIDE_UINTS) {
    for (const m of readers) add(`PhysicalMemory.${m}`, `${m}(${v.name}) (no RAM)`, (f) => f.vm.mem[m](h(v.value)), E('EFAULT'));
  }
  add('PhysicalMemory.read', 'read(last byte of RAM, 2) (wraps past RAM)', (f) => f.vm.mem.read(f.ram.base + f.ram.size - 1, 2), E('EFAULT'));
  add('PhysicalMemory.write', 'write(2**53-1, 2 bytes) (passes 2^53)', (f) => f.vm.mem.write(2 ** 53 - 1, Uint8Array.of(1, 2)), E('EFAULT'));
  for (const v of NOT_BYTES) {
    add('PhysicalMemory.write', `write(kernel page, ${v.name}) (bytes)`, (f) => f.vm.mem.write(f.kpa, h(v.value)), E('EINVAL'));
  }
  for (const v of [named('null', null), named('{}', {}), named('{ read }', { read: () => 0 }), named("'dev'", 'dev')]) {
    add('PhysicalMemory.mapDevice', `mapDevice(device region, 4096, ${v.name})`, (f) => f.vm.mem.mapDevice(0x4000_0000, 4096, h(v.value)), E('EINVAL'));
  }

  // ---- phys: BoardMemoryMap, boards ---------------------------------------------------------------------------
  const region = (o: Record<string, unknown>) => ({ base: 0x1000, size: 0x1000, kind: 'ram', name: 'r', ...o });
  for (const v of [...NOT_UINTS, named('[null]', [null]), named('[4096]', [4096]), named("[{ kind: 'rom' }]", [region({ kind: 'rom' })]), named('[, region]', [, region({})])]) {
    add('BoardMemoryMap', `new BoardMemoryMap(${v.name})`, () => new BoardMemoryMap(h(v.value)), E('EINVAL'));
  }
  for (const v of [...NOT_UINTS, ...WIDE_UINTS.filter((w) => (w.value as number) % 512 !== 0)]) {
    add('BoardMemoryMap', `new BoardMemoryMap([{ base: ${v.name} }])`, () => new BoardMemoryMap([region({ base: v.value }) as never]), E('EINVAL'));
    add('BoardMemoryMap', `new BoardMemoryMap([{ size: ${v.name} }])`, () => new BoardMemoryMap([region({ size: v.value }) as never]), E('EINVAL'));
  }
  add('BoardMemoryMap', 'new BoardMemoryMap([{ size: 0 }])', () => new BoardMemoryMap([region({ size: 0 }) as never]), E('EINVAL'));
  add('BoardMemoryMap', 'new BoardMemoryMap([{ base: 2**53-512, size: 1024 }]) (wraps)', () => new BoardMemoryMap([region({ base: 2 ** 53 - 512, size: 1024 }) as never]), E('EINVAL'));
  add('BoardMemoryMap', 'new BoardMemoryMap(overlapping regions)', () => new BoardMemoryMap([region({}), region({ base: 0x1800 })] as never), E('EINVAL'));
  for (const v of [...NOT_UINTS, named('0', 0), named('1000', 1000)]) {
    add('boards.ram', `boards.ram(${v.name})`, () => boards.ram(h(v.value)), E('EINVAL'));
  }
  for (const v of [...NOT_UINTS_DEFINED, named('100', 100)]) {
    add('boards.ram', `boards.ram(4096, ${v.name})`, () => boards.ram(4096, h(v.value)), E('EINVAL'));
  }
  add('boards.ram', 'boards.ram(1024, 2**53-512) (passes 2^53)', () => boards.ram(1024, 2 ** 53 - 512), E('EINVAL'));
  for (const v of NOT_UINTS.filter((w) => typeof w.value !== 'string')) add('boards.get', `boards.get(${v.name})`, () => boards.get(h(v.value)), E('EINVAL'));
  for (const n of ['nope', '4096', '__proto__', 'constructor', 'toString', '']) add('boards.get', `boards.get('${n}')`, () => boards.get(n), E('ENOENT'));

  // ---- phys: FaultInjector ------------------------------------------------------------------------------------
  for (const v of [...NOT_UINTS, named('0', 0)]) {
    add('FaultInjector.failAt', `failAt('frame', ${v.name})`, (f) => f.vm.faults.failAt('frame', h(v.value)), E('EINVAL'));
  }
  for (const v of [...NOT_UINTS, named("'nope'", 'nope'), named("'constructor'", 'constructor'), named("'__proto__'", '__proto__'), named("'toString'", 'toString')]) {
    add('FaultInjector.failAt', `failAt(${v.name}, 1)`, (f) => f.vm.faults.failAt(h(v.value), 1), E('EINVAL'));
  }
  for (const v of NOT_UINTS) add('FaultInjector.failAfter', `failAfter(${v.name})`, (f) => f.vm.faults.failAfter(h(v.value)), E('EINVAL'));

  // ---- pmaps: the kernel's and a process's ---------------------------------------------------------------------
  const A = PageAttr.PRESENT | PageAttr.READ;
  const pmaps = [
    { who: 'kernel', of: (f: Fixture) => f.kpmap, va: (f: Fixture) => f.kgap, mapped: (f: Fixture) => f.kva },
    { who: 'user', of: (f: Fixture) => f.upmap, va: (f: Fixture) => (mmu ? f.hole : f.freePa), mapped: (f: Fixture) => f.anon },
  ];
  for (const pm of pmaps) {
    const P = `Pmap(${pm.who})`;
    const pa = (f: Fixture) => (mmu ? f.kpa : pm.va(f));
    for (const v of NOT_UINTS) {
      add(`${P}.enter`, `enter(pa, ${v.name}, attr)`, (f) => pm.of(f).enter(pa(f), h(v.value), A), E('EINVAL'));
      add(`${P}.enter`, `enter(${v.name}, va, attr)`, (f) => pm.of(f).enter(h(v.value), pm.va(f), A), E('EINVAL'));
      add(`${P}.enter`, `enter(pa, va, ${v.name})`, (f) => pm.of(f).enter(pa(f), pm.va(f), h(v.value)), E('EINVAL'));
      add(`${P}.remove`, `remove(${v.name}, va + page)`, (f) => pm.of(f).remove(h(v.value), pm.va(f) + ps), E('EINVAL'));
      add(`${P}.remove`, `remove(va, ${v.name})`, (f) => pm.of(f).remove(pm.va(f), h(v.value)), E('EINVAL'));
      add(`${P}.protect`, `protect(${v.name}, va + page, attr)`, (f) => pm.of(f).protect(h(v.value), pm.va(f) + ps, A), E('EINVAL'));
      add(`${P}.protect`, `protect(va, va + page, ${v.name})`, (f) => pm.of(f).protect(pm.va(f), pm.va(f) + ps, h(v.value)), E('EINVAL'));
      add(`${P}.resolve`, `resolve(${v.name})`, (f) => pm.of(f).resolve(h(v.value)), R(-1));
      const code = INTEGER_NOT_UINTS.includes(v) ? badVa : FaultCode.BAD_ADDRESS;
      add(`${P}.translate`, `translate(${v.name}, READ)`, (f) => pm.of(f).translate(h(v.value), 1), R(at.mmu ? code : FaultCode.BAD_ADDRESS));
      add(`${P}.translate`, `translate(mapped, ${v.name})`, (f) => pm.of(f).translate(pm.mapped(f), h(v.value)), R(FaultCode.BAD_ADDRESS));
    }
    for (const attr of [named('2**32 | PRESENT', 2 ** 32 + 1), named('0x100 (unknown bit)', 0x100), named('-1', -1)]) {
      add(`${P}.enter`, `enter(pa, va, ${attr.name})`, (f) => pm.of(f).enter(pa(f), pm.va(f), h(attr.value)), E('EINVAL'));
      add(`${P}.protect`, `protect(va, va + page, ${attr.name})`, (f) => pm.of(f).protect(pm.va(f), pm.va(f) + ps, h(attr.value)), E('EINVAL'));
    }
    add(`${P}.enter`, 'enter(pa, va + 1, attr) (unaligned)', (f) => pm.of(f).enter(pa(f), pm.va(f) + 1, A), E('EINVAL'));
    add(`${P}.enter`, 'enter(pa + 1, va, attr) (unaligned)', (f) => pm.of(f).enter(pa(f) + 1, pm.va(f), A), E('EINVAL'));
    add(`${P}.remove`, 'remove(va + page, va) (start above end)', (f) => pm.of(f).remove(pm.va(f) + ps, pm.va(f)), E('EINVAL'));
    add(`${P}.remove`, 'remove(va + 1, va + page) (unaligned)', (f) => pm.of(f).remove(pm.va(f) + 1, pm.va(f) + ps), E('EINVAL'));
    add(`${P}.protect`, 'protect(va + page, va, attr) (start above end)', (f) => pm.of(f).protect(pm.va(f) + ps, pm.va(f), A), E('EINVAL'));
    for (const v of WIDE_UINTS) {
      // Sv39's and AArch64's 2^32 is an address nothing maps; 2^53-1 is past the top of their numbers (the kernel
      // range's end: 2^38, 2^49).
      const sv = (v.value as number) >= at.arch.kernelRange[1] ? FaultCode.NON_CANONICAL : FaultCode.NOT_MAPPED;
      add(`${P}.translate`, `translate(${v.name}, READ)`, (f) => pm.of(f).translate(h(v.value), 1), R(canonical ? sv : FaultCode.BAD_ADDRESS));
      add(`${P}.translate`, `translate(mapped, ${v.name}) (access)`, (f) => pm.of(f).translate(pm.mapped(f), h(v.value)), R(FaultCode.BAD_ADDRESS));
      add(`${P}.resolve`, `resolve(${v.name})`, (f) => pm.of(f).resolve(h(v.value)), R(-1));
    }
  }

  // ---- mapper: createKernelMap, KernelMap ----------------------------------------------------------------------
  const km = (f: Fixture, o: Record<string, unknown>) => createKernelMap(h({ arch: f.at.arch, mem: f.vm.mem, alloc: f.vm.alloc, ...o }));
  for (const v of NOT_UINTS) add('createKernelMap', `createKernelMap(${v.name})`, () => createKernelMap(h(v.value)), E('EINVAL'));
  for (const v of without(NOT_UINTS, 'undefined')) {
    add('createKernelMap', `createKernelMap({ arch: ${v.name} })`, (f) => km(f, { arch: v.value }), E('EINVAL'));
    add('createKernelMap', `createKernelMap({ mem: ${v.name} })`, (f) => km(f, { mem: v.value }), E('EINVAL'));
    add('createKernelMap', `createKernelMap({ alloc: ${v.name} })`, (f) => km(f, { alloc: v.value }), E('EINVAL'));
    add('createKernelMap', `createKernelMap({ entries: ${v.name} })`, (f) => km(f, { entries: v.value }), E('EINVAL'));
    add('createKernelMap', `createKernelMap({ board: ${v.name} })`, (f) => km(f, { board: v.value }), E('EINVAL'));
  }
  add('createKernelMap', 'createKernelMap({ entries: 0 })', (f) => km(f, { entries: 0 }), E('EINVAL'));
  add('createKernelMap', 'createKernelMap({ entries: 2**32 })', (f) => km(f, { entries: 2 ** 32 }), E('EINVAL'));

  const freeKernel = (f: Fixture, r: unknown) => typeof r === 'number' && f.vm.kmap.freePages(r);
  for (const v of [...NOT_UINTS, named('0', 0)]) {
    add('KernelMap.allocPages', `allocPages(${v.name})`, (f) => f.vm.kmap.allocPages(h(v.value)), E('EINVAL'), freeKernel);
  }
  add('KernelMap.allocPages', 'allocPages(2**32) (more than exists)', (f) => f.vm.kmap.allocPages(2 ** 32), E('ENOMEM'), freeKernel);
  add('KernelMap.allocPages', 'allocPages(2**53-1) (bytes pass 2^53)', (f) => f.vm.kmap.allocPages(2 ** 53 - 1), E('EINVAL'), freeKernel);
  for (const v of [...NOT_UINTS, ...WIDE_UINTS, named('0', 0)]) {
    add('KernelMap.freePages', `freePages(${v.name})`, (f) => f.vm.kmap.freePages(h(v.value)), E('EINVAL'));
  }
  add('KernelMap.freePages', 'freePages(kernel page + page)', (f) => f.vm.kmap.freePages(f.kva + ps), E('EINVAL'));
  add('KernelMap.freePages', 'freePages(kernel page + 1)', (f) => f.vm.kmap.freePages(f.kva + 1), E('EINVAL'));
  add('KernelMap.freePages', 'freePages(kmalloc block + 16)', (f) => f.vm.kmap.freePages(f.block + 16), E('EINVAL'));

  const kmmap = (f: Fixture, o: Record<string, unknown>) => f.vm.kmap.mmap(h({ size: ps, prot: RW, flags: 0, ...o }));
  const unmapKernel = (f: Fixture, r: unknown) => typeof r === 'number' && f.vm.kmap.munmap(r, ps);
  for (const v of NOT_UINTS) add('KernelMap.mmap', `mmap(${v.name})`, (f) => f.vm.kmap.mmap(h(v.value)), E('EINVAL'), unmapKernel);
  for (const v of NOT_UINTS) {
    add('KernelMap.mmap', `mmap({ size: ${v.name} })`, (f) => kmmap(f, { size: v.value }), E('EINVAL'), unmapKernel);
    add('KernelMap.mmap', `mmap({ prot: ${v.name} })`, (f) => kmmap(f, { prot: v.value }), E('EINVAL'), unmapKernel);
    add('KernelMap.mmap', `mmap({ flags: ${v.name} })`, (f) => kmmap(f, { flags: v.value }), E('EINVAL'), unmapKernel);
  }
  for (const v of NOT_UINTS_DEFINED) {
    add('KernelMap.mmap', `mmap({ addr: ${v.name} })`, (f) => kmmap(f, { addr: v.value }), E('EINVAL'), unmapKernel);
    add('KernelMap.mmap', `mmap({ offset: ${v.name} })`, (f) => kmmap(f, { offset: v.value }), E('EINVAL'), unmapKernel);
  }
  add('KernelMap.mmap', 'mmap({ prot: READ | USER })', (f) => kmmap(f, { prot: Prot.READ | Prot.USER }), E('EINVAL'), unmapKernel);
  add('KernelMap.mmap', 'mmap({ flags: 2**32 })', (f) => kmmap(f, { flags: 2 ** 32 }), E('EINVAL'), unmapKernel);
  add('KernelMap.mmap', 'mmap({ flags: NEEDSCOPY })', (f) => kmmap(f, { flags: MapFlags.NEEDSCOPY }), E('EINVAL'), unmapKernel);
  add('KernelMap.mmap', 'mmap({ flags: 0x800 }) (unknown bit)', (f) => kmmap(f, { flags: 0x800 }), E('EINVAL'), unmapKernel);
  add('KernelMap.mmap', 'mmap({ backing: {} })', (f) => kmmap(f, { backing: {} }), E('EINVAL'), unmapKernel);
  if (mmu) add('KernelMap.mmap', 'mmap({ addr: user address })', (f) => kmmap(f, { addr: f.hole }), E('EINVAL'), unmapKernel);
  for (const v of NOT_UINTS) {
    add('KernelMap.munmap', `munmap(${v.name}, page)`, (f) => f.vm.kmap.munmap(h(v.value), ps), E('EINVAL'));
    add('KernelMap.munmap', `munmap(kernel page, ${v.name})`, (f) => f.vm.kmap.munmap(f.kva, h(v.value)), E('EINVAL'));
    add('KernelMap.mprotect', `mprotect(${v.name}, page, READ)`, (f) => f.vm.kmap.mprotect(h(v.value), ps, Prot.READ), E('EINVAL'));
    add('KernelMap.mprotect', `mprotect(kernel page, ${v.name}, READ)`, (f) => f.vm.kmap.mprotect(f.kva, h(v.value), Prot.READ), E('EINVAL'));
    add('KernelMap.mprotect', `mprotect(kernel page, page, ${v.name})`, (f) => f.vm.kmap.mprotect(f.kva, ps, h(v.value)), E('EINVAL'));
  }
  add('KernelMap.munmap', 'munmap(wired kernel page, page)', (f) => f.vm.kmap.munmap(f.kva, ps), E('EBUSY'));
  add('KernelMap.munmap', 'munmap(kernel page + 1, page) (unaligned)', (f) => f.vm.kmap.munmap(f.kva + 1, ps), E('EINVAL'));
  add('KernelMap.mprotect', 'mprotect(kernel page, page, 2**32 | READ)', (f) => f.vm.kmap.mprotect(f.kva, ps, 2 ** 32 + 1), E('EINVAL'));
  add('KernelMap.mprotect', 'mprotect(kernel page, page, READ | USER)', (f) => f.vm.kmap.mprotect(f.kva, ps, Prot.READ | Prot.USER), E('EINVAL'));
  add('KernelMap.mprotect', 'mprotect(wired kernel page, page, READ)', (f) => f.vm.kmap.mprotect(f.kva, ps, Prot.READ), E('EBUSY'));
  for (const v of NOT_UINTS) {
    add('KernelMap.read', `read(${v.name}, 4)`, (f) => f.vm.kmap.read(h(v.value), 4), E('EINVAL'));
    add('KernelMap.read', `read(kernel page, ${v.name})`, (f) => f.vm.kmap.read(f.kva, h(v.value)), E('EINVAL'));
    add('KernelMap.write', `write(${v.name}, bytes)`, (f) => f.vm.kmap.write(h(v.value), Uint8Array.of(1)), E('EINVAL'));
    add('KernelMap.read32', `read32(${v.name})`, (f) => f.vm.kmap.read32(h(v.value)), E('EINVAL'));
    add('KernelMap.write32', `write32(${v.name}, 1)`, (f) => f.vm.kmap.write32(h(v.value), 1), E('EINVAL'));
  }
  for (const v of NOT_BYTES) add('KernelMap.write', `write(kernel page, ${v.name}) (bytes)`, (f) => f.vm.kmap.write(f.kva, h(v.value)), E('EINVAL'));
  for (const v of NOT_NUMBERS) add('KernelMap.write32', `write32(kernel page, ${v.name}) (value)`, (f) => f.vm.kmap.write32(f.kva, h(v.value)), E('EINVAL'));
  add('KernelMap.read', 'read(kernel page, 2**32+1) (past the mapping)', (f) => f.vm.kmap.read(f.kva, 2 ** 32 + 1), E('EFAULT'));
  add('KernelMap.read', 'read(kernel page, 2**40) (past the mapping)', (f) => f.vm.kmap.read(f.kva, 2 ** 40), E('EFAULT'));
  add('KernelMap.read', 'read(2**53-2, 4) (passes 2^53)', (f) => f.vm.kmap.read(2 ** 53 - 2, 4), E('EFAULT'));
  add('KernelMap.write', 'write(free kernel address, bytes) (unmapped)', (f) => f.vm.kmap.write(f.kgap, Uint8Array.of(1)), E('EFAULT'));
  add('KernelMap.read32', 'read32(free kernel address) (unmapped)', (f) => f.vm.kmap.read32(f.kgap), E('EFAULT'));
  add('KernelMap.write32', 'write32(kernel page + page - 2, 1) (straddles into unmapped)', (f) => f.vm.kmap.write32(f.kva + ps - 2, 1), E('EFAULT'));
  add('KernelMap.write', 'write(kernel page + page - 2, 4 bytes) (straddles into unmapped)', (f) => f.vm.kmap.write(f.kva + ps - 2, Uint8Array.of(1, 2, 3, 4)), E('EFAULT'));
  const destroyUser = (_f: Fixture, r: unknown) => (r as { destroy?: () => void } | undefined)?.destroy?.();
  for (const v of NOT_UINTS) add('KernelMap.createUserMap', `createUserMap(${v.name})`, (f) => f.vm.kmap.createUserMap(h(v.value)), E('EINVAL'), destroyUser);

  // ---- kmalloc --------------------------------------------------------------------------------------------------
  const kfreeBack = (f: Fixture, r: unknown) => typeof r === 'number' && f.vm.kmalloc.kfree(r);
  for (const v of [...NOT_UINTS, named('0', 0)]) add('Kmalloc.kmalloc', `kmalloc(${v.name})`, (f) => f.vm.kmalloc.kmalloc(h(v.value)), E('EINVAL'), kfreeBack);
  for (const v of WIDE_UINTS) add('Kmalloc.kmalloc', `kmalloc(${v.name}) (above 8 MiB)`, (f) => f.vm.kmalloc.kmalloc(h(v.value)), E('ENOMEM'), kfreeBack);
  for (const v of [...NOT_UINTS, ...WIDE_UINTS, named('0', 0)]) add('Kmalloc.kfree', `kfree(${v.name})`, (f) => f.vm.kmalloc.kfree(h(v.value)), E('EINVAL'));
  add('Kmalloc.kfree', 'kfree(block + 16) (inside a block)', (f) => f.vm.kmalloc.kfree(f.block + 16), E('EINVAL'));
  add('Kmalloc.kfree', 'kfree(kernel page) (not kmalloc memory)', (f) => f.vm.kmalloc.kfree(f.kva), E('EINVAL'));
  add('Kmalloc', 'new Kmalloc({})', () => new Kmalloc(h({})), E('EINVAL'));
  add('Kmalloc', 'new Kmalloc(null)', () => new Kmalloc(h(null)), E('EINVAL'));
  const releaseZone = (_f: Fixture, r: unknown) => r instanceof Zone && r.release();
  for (const v of [...NOT_UINTS, named('0', 0), named('48', 48), named('2**32', 2 ** 32)]) {
    add('Zone', `new Zone(kmap, ${v.name}, 4)`, (f) => new Zone(f.vm.kmap, h(v.value), 4), E('EINVAL'), releaseZone);
  }
  for (const v of [...NOT_UINTS, named('0', 0), named('2**24+1', 2 ** 24 + 1), named('2**32', 2 ** 32)]) {
    add('Zone', `new Zone(kmap, 64, ${v.name})`, (f) => new Zone(f.vm.kmap, 64, h(v.value)), E('EINVAL'), releaseZone);
  }
  add('Zone', 'new Zone(4096n, 64, 4)', () => new Zone(h(4096n), 64, 4), E('EINVAL'));

  // ---- memobj: createVm ----------------------------------------------------------------------------------------
  const vmOf = (f: Fixture, o: Record<string, unknown>) => createVm(h({ arch: f.at.arch, ...o }));
  for (const v of NOT_UINTS) add('createVm', `createVm(${v.name})`, () => createVm(h(v.value)), E('EINVAL'));
  for (const v of NOT_UINTS_DEFINED) {
    add('createVm', `createVm({ arch: ${v.name} })`, () => createVm(h({ arch: v.value })), E('EINVAL'));
    add('createVm', `createVm({ ramSize: ${v.name} })`, (f) => vmOf(f, { ramSize: v.value }), E('EINVAL'));
    add('createVm', `createVm({ entries: ${v.name} })`, (f) => vmOf(f, { ramSize: f.ram.size, entries: v.value }), E('EINVAL'));
    add('createVm', `createVm({ onEvent: ${v.name} })`, (f) => vmOf(f, { ramSize: f.ram.size, onEvent: v.value }), E('EINVAL'));
    if (typeof v.value !== 'string') add('createVm', `createVm({ board: ${v.name} })`, (f) => vmOf(f, { board: v.value }), E('EINVAL'));
  }
  add('createVm', 'createVm({ ramSize: 0 })', (f) => vmOf(f, { ramSize: 0 }), E('EINVAL'));
  add('createVm', 'createVm({ ramSize: 1000 }) (not whole pages)', (f) => vmOf(f, { ramSize: 1000 }), E('EINVAL'));
  add('createVm', 'createVm({ ramSize: page }) (too small to boot)', (f) => vmOf(f, { ramSize: ps }), E('EINVAL'));
  add('createVm', 'createVm({ ramSize: 2**32+1 })', (f) => vmOf(f, { ramSize: 2 ** 32 + 1 }), E('EINVAL'));
  add('createVm', 'createVm({ ramSize: 2**53-1 })', (f) => vmOf(f, { ramSize: 2 ** 53 - 1 }), E('EINVAL'));
  add('createVm', "createVm({ board: 'nope' })", (f) => vmOf(f, { board: 'nope' }), E('ENOENT'));
  add('createVm', 'createVm({ board, ramSize })', (f) => vmOf(f, { board: f.at.board, ramSize: f.ram.size }), E('EINVAL'));
  add('createVm', 'createVm({ entries: 0 })', (f) => vmOf(f, { ramSize: f.ram.size, entries: 0 }), E('EINVAL'));

  // ---- memobj: Vm ----------------------------------------------------------------------------------------------
  const exitSpawned = (_f: Fixture, r: unknown) => (r as Process | undefined)?.exit?.();
  const seg = (o: Record<string, unknown>) => ({ vaddr: 64 * ps, size: ps, prot: Prot.READ, ...o });
  const spawn = (f: Fixture, s: unknown) => f.vm.spawn(h({ segments: [s] }));
  for (const v of without(NOT_UINTS, 'undefined')) add('Vm.spawn', `spawn(${v.name})`, (f) => f.vm.spawn(h(v.value)), E('EINVAL'), exitSpawned);
  // An empty segment list is a valid (empty) image.
  for (const v of [...without(NOT_UINTS, '[]'), named("'segments'", 'segments')]) {
    add('Vm.spawn', `spawn({ segments: ${v.name} })`, (f) => f.vm.spawn(h({ segments: v.value })), E('EINVAL'), exitSpawned);
  }
  add('Vm.spawn', 'spawn({ segments: [, seg] }) (sparse)', (f) => f.vm.spawn(h({ segments: [, seg({})] })), E('EINVAL'), exitSpawned);
  add('Vm.spawn', 'spawn({ segments: [seg, , seg] }) (sparse)', (f) => f.vm.spawn(h({ segments: [seg({}), , seg({ vaddr: 70 * ps })] })), E('EINVAL'), exitSpawned);
  for (const v of NOT_UINTS) {
    add('Vm.spawn', `spawn(segment { vaddr: ${v.name} })`, (f) => spawn(f, seg({ vaddr: v.value })), E('EINVAL'), exitSpawned);
    add('Vm.spawn', `spawn(segment { size: ${v.name} })`, (f) => spawn(f, seg({ size: v.value })), E('EINVAL'), exitSpawned);
    add('Vm.spawn', `spawn(segment { prot: ${v.name} })`, (f) => spawn(f, seg({ prot: v.value })), E('EINVAL'), exitSpawned);
  }
  for (const v of [named('2**32 | READ', 2 ** 32 + 1), named('2**32 | RW', 2 ** 32 + 3), named('USER', Prot.USER), named('16', 16)]) {
    add('Vm.spawn', `spawn(segment { prot: ${v.name} })`, (f) => spawn(f, seg({ prot: v.value })), E('EINVAL'), exitSpawned);
  }
  for (const v of without(NOT_BYTES, 'undefined')) {
    add('Vm.spawn', `spawn(segment { data: ${v.name} })`, (f) => spawn(f, seg({ data: v.value })), E('EINVAL'), exitSpawned);
  }
  add('Vm.spawn', 'spawn(segment { size: 0 })', (f) => spawn(f, seg({ size: 0 })), E('EINVAL'), exitSpawned);
  add('Vm.spawn', 'spawn(segment { data longer than size })', (f) => spawn(f, seg({ size: 4, data: new Uint8Array(8) })), E('EINVAL'), exitSpawned);
  add('Vm.spawn', 'spawn(segment { vaddr: 2**53-page, size: 2 pages }) (wraps)', (f) => spawn(f, seg({ vaddr: 2 ** 53 - ps, size: 2 * ps })), E('EINVAL'), exitSpawned);
  if (mmu) {
    add('Vm.spawn', 'spawn(segment { vaddr: page + 1 }) (unaligned)', (f) => spawn(f, seg({ vaddr: ps + 1 })), E('EINVAL'), exitSpawned);
    add('Vm.spawn', 'spawn(segment { vaddr: 0 }) (page 0)', (f) => spawn(f, seg({ vaddr: 0 })), E('EINVAL'), exitSpawned);
    add('Vm.spawn', 'spawn(segment { vaddr: kernel address })', (f) => spawn(f, seg({ vaddr: f.vm.kmap.start })), E('EINVAL'), exitSpawned);
    add('Vm.spawn', 'spawn(overlapping segments)', (f) => f.vm.spawn({ segments: [seg({ size: 2 * ps }), seg({ vaddr: 65 * ps })] }), E('EINVAL'), exitSpawned);
    // 2^40 bytes pass the end of Sv39's and ia32's user ranges, AArch64's whole range (2^48) passes its own.
    const past = Math.max(2 ** 40, at.arch.userRange[1]);
    add('Vm.spawn', 'spawn(segment { size: 2**40 or the user range }) (past the user range)', (f) => spawn(f, seg({ vaddr: 2 ** 31, size: past })), E('EINVAL'), exitSpawned);
  } else {
    add('Vm.spawn', 'spawn(segment { size: 2**40 }) (more than RAM)', (f) => spawn(f, seg({ size: 2 ** 40 })), E('ENOMEM'), exitSpawned);
  }

  const releaseObject = (_f: Fixture, r: unknown) => (r as { release?: () => void } | undefined)?.release?.();
  const pager = (size: unknown) => ({ size: () => size, read: () => {} });
  for (const v of [...NOT_UINTS, named('Uint16Array(8)', new Uint16Array(8)), named('{ size, read: 1 }', { size: () => 4096, read: 1 })]) {
    add('Vm.createObject', `createObject(${v.name})`, (f) => f.vm.createObject(h(v.value)), E('EINVAL'), releaseObject);
  }
  for (const v of [...NOT_UINTS, named('0', 0)]) {
    add('Vm.createObject', `createObject(pager of size ${v.name})`, (f) => f.vm.createObject(h(pager(v.value))), E('EINVAL'), releaseObject);
  }
  add('Vm.createObject', 'createObject(empty Uint8Array)', (f) => f.vm.createObject(new Uint8Array(0)), E('EINVAL'), releaseObject);
  for (const v of NOT_UINTS) {
    add('Vm.createPhysObject', `createPhysObject(${v.name}, page)`, (f) => f.vm.createPhysObject(h(v.value), ps), E('EINVAL'), releaseObject);
    add('Vm.createPhysObject', `createPhysObject(kernel page, ${v.name})`, (f) => f.vm.createPhysObject(f.kpa, h(v.value)), E('EINVAL'), releaseObject);
  }
  add('Vm.createPhysObject', 'createPhysObject(kernel page + 1, page) (unaligned)', (f) => f.vm.createPhysObject(f.kpa + 1, ps), E('EINVAL'), releaseObject);
  add('Vm.createPhysObject', 'createPhysObject(free frame, page)', (f) => f.vm.createPhysObject(f.freePa, ps), E('EINVAL'), releaseObject);
  add('Vm.createPhysObject', 'createPhysObject(kernel page, 2**40) (past the board)', (f) => f.vm.createPhysObject(f.kpa, 2 ** 40), E('EINVAL'), releaseObject);
  add('Vm.createPhysObject', 'createPhysObject(2**53-page, 2 pages) (wraps)', (f) => f.vm.createPhysObject(2 ** 53 - ps, 2 * ps), E('EINVAL'), releaseObject);
  add('Vm.createPhysObject', 'createPhysObject(kernel page, page, { device: true }) (RAM)', (f) => f.vm.createPhysObject(f.kpa, ps, { device: true }), E('EINVAL'), releaseObject);
  for (const v of NOT_UINTS) {
    add('Vm.maps', `maps(${v.name})`, (f) => f.vm.maps(h(v.value)), E('EINVAL'));
    add('Vm.tables', `tables(${v.name})`, (f) => f.vm.tables(h(v.value)), E('EINVAL'));
  }
  for (const v of WIDE_UINTS) {
    add('Vm.maps', `maps(${v.name}) (no such process)`, (f) => f.vm.maps(h(v.value)), E('ENOENT'));
    add('Vm.tables', `tables(${v.name}) (no such process)`, (f) => f.vm.tables(h(v.value)), E('ENOENT'));
  }
  add('Vm.maps', 'maps(exited pid)', (f) => f.vm.maps(f.exited.pid), E('ENOENT'));
  add('Vm.tables', 'tables(exited pid)', (f) => f.vm.tables(f.exited.pid), E('ENOENT'));

  // ---- memobj: Process -----------------------------------------------------------------------------------------
  const unmapUser = (f: Fixture, r: unknown) => typeof r === 'number' && f.p.munmap(r, ps);
  const mm = (f: Fixture, o: Record<string, unknown>) => f.p.mmap(h({ size: ps, prot: RW, flags: PRIVATE, ...o }));
  for (const v of NOT_UINTS) add('Process.mmap', `mmap(${v.name})`, (f) => f.p.mmap(h(v.value)), E('EINVAL'), unmapUser);
  for (const v of NOT_UINTS) {
    add('Process.mmap', `mmap({ size: ${v.name} })`, (f) => mm(f, { size: v.value }), E('EINVAL'), unmapUser);
    add('Process.mmap', `mmap({ prot: ${v.name} })`, (f) => mm(f, { prot: v.value }), E('EINVAL'), unmapUser);
    add('Process.mmap', `mmap({ flags: ${v.name} })`, (f) => mm(f, { flags: v.value }), E('EINVAL'), unmapUser);
  }
  for (const v of NOT_UINTS_DEFINED) {
    add('Process.mmap', `mmap({ addr: ${v.name} })`, (f) => mm(f, { addr: v.value }), E('EINVAL'), unmapUser);
    add('Process.mmap', `mmap({ offset: ${v.name}, object })`, (f) => mm(f, { offset: v.value, object: f.obj }), E('EINVAL'), unmapUser);
    if (v.name !== 'null') add('Process.mmap', `mmap({ object: ${v.name} })`, (f) => mm(f, { object: v.value }), E('EINVAL'), unmapUser);
  }
  add('Process.mmap', 'mmap({ object: null })', (f) => mm(f, { object: null }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ size: 0 })', (f) => mm(f, { size: 0 }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ size: 2**53-1 }) (rounds past 2^53)', (f) => mm(f, { size: 2 ** 53 - 1 }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ size: 2**40 or the user range }) (more than the space)', (f) => mm(f, { size: Math.max(2 ** 40, at.arch.userRange[1]) }), E('ENOMEM'), unmapUser);
  for (const v of [named('2**32 | READ', 2 ** 32 + 1), named('16', 16), named('0x10 | READ', 0x11)]) {
    add('Process.mmap', `mmap({ prot: ${v.name} })`, (f) => mm(f, { prot: v.value }), E('EINVAL'), unmapUser);
  }
  const flagCases: [string, number, Errno][] = [
    ['0 (neither SHARED nor PRIVATE)', 0, 'EINVAL'],
    ['SHARED | PRIVATE', SHARED | PRIVATE, 'EINVAL'],
    ['PRIVATE | 0x800 (unknown bit)', PRIVATE | 0x800, 'EINVAL'],
    ['PRIVATE | 2**32', PRIVATE + 2 ** 32, 'EINVAL'],
    ['PRIVATE | 2**40', PRIVATE + 2 ** 40, 'EINVAL'],
    ['SHARED | 2**33', SHARED + 2 ** 33, 'EINVAL'],
    ['PRIVATE | NEEDSCOPY', PRIVATE | MapFlags.NEEDSCOPY, 'EINVAL'],
    ['PRIVATE | CONTIGUOUS', PRIVATE | MapFlags.CONTIGUOUS, 'EINVAL'],
    ['PRIVATE | FIXED without addr', PRIVATE | MapFlags.FIXED, 'EINVAL'],
    ['PRIVATE | PHYSMEM', PRIVATE | MapFlags.PHYSMEM, 'EPERM'],
    ['SHARED | DEVICE', SHARED | MapFlags.DEVICE, 'EPERM'],
    ['SHARED | PHYSMEM | DEVICE', SHARED | MapFlags.PHYSMEM | MapFlags.DEVICE, 'EPERM'],
  ];
  for (const [name, flags, errno] of flagCases) add('Process.mmap', `mmap({ flags: ${name} })`, (f) => mm(f, { flags }), E(errno), unmapUser);
  add('Process.mmap', 'mmap({ addr: page + 1 }) (unaligned)', (f) => mm(f, { addr: ps + 1 }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ offset: 1, object }) (unaligned)', (f) => mm(f, { offset: 1, object: f.obj }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ offset: page }) without an object', (f) => mm(f, { offset: ps }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ offset: 2 pages, object }) (past its end)', (f) => mm(f, { offset: 2 * ps, object: f.obj }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ offset: 2**53-page, object }) (wraps)', (f) => mm(f, { offset: 2 ** 53 - ps, object: f.obj }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ object: released })', (f) => mm(f, { object: f.dead }), E('EINVAL'), unmapUser);
  add('Process.mmap', 'mmap({ object, flags: PRIVATE | ANONYMOUS })', (f) => mm(f, { object: f.obj, flags: PRIVATE | MapFlags.ANONYMOUS }), E('EINVAL'), unmapUser);
  if (mmu) {
    add('Process.mmap', 'mmap({ addr: kernel address, FIXED })', (f) => mm(f, { addr: f.vm.kmap.start, flags: PRIVATE | MapFlags.FIXED }), E('EINVAL'), unmapUser);
    add('Process.mmap', 'mmap({ addr: 0, FIXED }) (page 0)', (f) => mm(f, { addr: 0, flags: PRIVATE | MapFlags.FIXED }), E('EINVAL'), unmapUser);
    add('Process.mmap', 'mmap({ addr: top page, size: 2 pages, FIXED }) (past the user range)', (f) => mm(f, { addr: f.at.arch.userRange[1] - ps, size: 2 * ps, flags: PRIVATE | MapFlags.FIXED }), E('EINVAL'), unmapUser);
  }

  for (const v of NOT_UINTS) {
    add('Process.munmap', `munmap(${v.name}, page)`, (f) => f.p.munmap(h(v.value), ps), E('EINVAL'));
    add('Process.munmap', `munmap(anon, ${v.name})`, (f) => f.p.munmap(f.anon, h(v.value)), E('EINVAL'));
    add('Process.mprotect', `mprotect(${v.name}, page, READ)`, (f) => f.p.mprotect(h(v.value), ps, Prot.READ), E('EINVAL'));
    add('Process.mprotect', `mprotect(anon, ${v.name}, READ)`, (f) => f.p.mprotect(f.anon, h(v.value), Prot.READ), E('EINVAL'));
    add('Process.mprotect', `mprotect(anon, page, ${v.name})`, (f) => f.p.mprotect(f.anon, ps, h(v.value)), E('EINVAL'));
  }
  add('Process.munmap', 'munmap(anon, 0)', (f) => f.p.munmap(f.anon, 0), E('EINVAL'));
  add('Process.munmap', 'munmap(anon + 1, page) (unaligned)', (f) => f.p.munmap(f.anon + 1, ps), E('EINVAL'));
  add('Process.munmap', 'munmap(2**53-page, 2 pages) (wraps)', (f) => f.p.munmap(2 ** 53 - ps, 2 * ps), E('EINVAL'));
  if (mmu) add('Process.munmap', 'munmap(kernel address, page)', (f) => f.p.munmap(f.vm.kmap.start, ps), E('EINVAL'));
  add('Process.mprotect', 'mprotect(anon, page, 2**32 | READ)', (f) => f.p.mprotect(f.anon, ps, 2 ** 32 + 1), E('EINVAL'));
  add('Process.mprotect', 'mprotect(anon, page, 16)', (f) => f.p.mprotect(f.anon, ps, 16), E('EINVAL'));
  add('Process.mprotect', 'mprotect(anon + 1, page, READ) (unaligned)', (f) => f.p.mprotect(f.anon + 1, ps, Prot.READ), E('EINVAL'));
  add('Process.mprotect', 'mprotect(hole, page, READ) (unmapped)', (f) => f.p.mprotect(f.hole, ps, Prot.READ), E('ENOMEM'));
  add('Process.mprotect', 'mprotect(2**53-page, 2 pages, READ) (wraps)', (f) => f.p.mprotect(2 ** 53 - ps, 2 * ps, Prot.READ), E('EINVAL'));

  for (const v of NOT_UINTS) {
    add('Process.read', `read(${v.name}, 4)`, (f) => f.p.read(h(v.value), 4), E('EINVAL'));
    add('Process.read', `read(anon, ${v.name})`, (f) => f.p.read(f.anon, h(v.value)), E('EINVAL'));
    add('Process.write', `write(${v.name}, bytes)`, (f) => f.p.write(h(v.value), Uint8Array.of(1)), E('EINVAL'));
  }
  for (const v of NOT_BYTES) add('Process.write', `write(anon, ${v.name}) (bytes)`, (f) => f.p.write(f.anon, h(v.value)), E('EINVAL'));
  add('Process.read', 'read(anon, 2**32+1) (past the mapping)', (f) => f.p.read(f.anon, 2 ** 32 + 1), E('EFAULT'));
  add('Process.read', 'read(anon, 2**40) (past the mapping)', (f) => f.p.read(f.anon, 2 ** 40), E('EFAULT'));
  add('Process.read', 'read(2**53-2, 4) (passes 2^53)', (f) => f.p.read(2 ** 53 - 2, 4), E('EFAULT'));
  for (const v of WIDE_UINTS) add('Process.read', `read(${v.name}, 4) (unmapped)`, (f) => f.p.read(h(v.value), 4), E('EFAULT'));
  add('Process.read', 'read(hole, 4) (unmapped)', (f) => f.p.read(f.hole, 4), E('EFAULT'));
  add('Process.read', 'read(kernel address, 4) (user mode)', (f) => f.p.read(f.kernelVa, 4), E('EFAULT'));
  add('Process.read', 'read(PROT_NONE page, 4)', (f) => f.p.read(f.none, 4), E('EACCES'));
  add('Process.write', 'write(kernel address, bytes) (user mode)', (f) => f.p.write(f.kernelVa, Uint8Array.of(1)), E('EFAULT'));
  add('Process.write', 'write(hole, bytes) (unmapped)', (f) => f.p.write(f.hole, Uint8Array.of(1)), E('EFAULT'));
  add('Process.write', 'write(read-only page, bytes)', (f) => f.p.write(f.ro, Uint8Array.of(1)), E('EACCES'));
  add('Process.write', 'write(PROT_NONE page, bytes)', (f) => f.p.write(f.none, Uint8Array.of(1)), E('EACCES'));
  add('Process.write', 'write(last 2 bytes of anon, 4 bytes) (runs past the mapping)', (f) => f.p.write(f.anon + 2 * ps - 2, Uint8Array.of(1, 2, 3, 4)), E('EFAULT'));

  if (!mmu) add('Process.fork', 'fork() without an MMU', (f) => f.p.fork(), E('ENOSYS'), exitSpawned);
  // Use after exit: every call of an exited process.
  const after: [string, (q: Process, f: Fixture) => unknown][] = [
    ['mmap', (q) => q.mmap({ size: ps, prot: RW, flags: PRIVATE })],
    ['munmap', (q, f) => q.munmap(f.anon, ps)],
    ['mprotect', (q, f) => q.mprotect(f.anon, ps, Prot.READ)],
    ['read', (q, f) => q.read(f.anon, 4)],
    ['write', (q, f) => q.write(f.anon, Uint8Array.of(1))],
    ['fork', (q) => q.fork()],
    ['exit', (q) => q.exit()],
  ];
  for (const [m, call] of after) add(`Process.${m}`, `${m}() after exit`, (f) => call(f.exited, f), E('EINVAL'));
  return out;
}

/*
 * Cases that fail today because of a defect in a layer's src. Each runs as it.skip, its title naming the defect,
 * until the defect is fixed; then delete its entry here and the cases run again.
 */
interface KnownDefect {
  /** Architectures it shows on (all when absent). */
  archs?: readonly string[];
  entry: string;
  /** The case titles it covers. */
  titles: RegExp;
  owner: 'phys' | 'mapper' | 'memobj';
  defect: string;
}
const KNOWN_DEFECTS: readonly KnownDefect[] = [
];

function defectOf(at: ArchUnderTest, c: Case): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.entry === c.entry && d.titles.test(c.title) && (d.archs === undefined || d.archs.includes(at.name)));
}

describe.each(ARCHS)('bad input on $name: the exact errno, nothing changed', (at) => {
  let f: Fixture;
  beforeAll(() => {
    f = fixture(at);
  });
  const all = cases(at);

  it('has at least 200 cases', () => {
    expect(all.length).toBeGreaterThanOrEqual(200);
  });

  for (const c of all) {
    const label = `${c.entry}: ${c.title} → ${wantText(c.want)}`;
    const defect = defectOf(at, c);
    if (defect !== undefined) {
      // TODO(lead, phys): the defect in KNOWN_DEFECTS makes this case fail; it runs again once the entry is gone.
      it.skip(`${label} [known defect, ${defect.owner}: ${defect.defect}]`, () => {});
      continue;
    }
    it(label, () => {
      let before: unknown;
      try {
        before = f.snapshot();
      } catch {
        // An earlier case broke the fixture (and failed for it): start this one from a fresh vm.
        f = fixture(at);
        before = f.snapshot();
      }
      let threw = false;
      let error: unknown;
      let result: unknown;
      try {
        result = c.run(f);
      } catch (e) {
        threw = true;
        error = e;
      }
      f.vm.faults.reset();
      if (!threw && c.undo) c.undo(f, result);
      const got = threw ? outcomeOf(() => { throw error; }).slice('threw '.length) : `returned ${hex(result)}`;
      let after: unknown;
      try {
        after = f.snapshot();
      } catch (e) {
        f = fixture(at);
        after = `vm.check() fails: ${(e as Error).message}`;
      }
      if (JSON.stringify(after, replacer) !== JSON.stringify(before, replacer)) f = fixture(at);
      if ('errno' in c.want) {
        expect(threw && isVmError(error) ? error.code : got, `${at.name} ${c.title}: expected VmError ${c.want.errno}, got ${got}`).toBe(c.want.errno);
      } else {
        expect(threw, `${at.name} ${c.title}: expected a return value, got ${got}`).toBe(false);
        expect(result, `${at.name} ${c.title}`).toEqual(c.want.returns);
      }
      expect(after, `${at.name} ${c.title}: state changed`).toEqual(before);
    });
  }
});

// Snapshots hold Uint8Arrays: compare them as arrays.
function replacer(_key: string, v: unknown): unknown {
  return v instanceof Uint8Array ? Array.from(v) : v;
}
