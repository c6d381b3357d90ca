import { sv39 } from '@vmlayers/pmap-mmu';
import { BoardMemoryMap, MapFlags, Prot, boards, formatPageMap } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createVm } from '../src/index.js';
import type { VmEvent } from '../src/index.js';
import { ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

describe('createVm', () => {
  it.each(ARCHS.map((a) => [a.name, a] as const))('boots %s on its default board', (_n, arch) => {
    const vm = createVm({ arch });
    expect(vm.board.name).toBe(boards.get(arch.defaultBoard).name);
    const m = vm.meminfo();
    expect(m.page.total).toBeGreaterThan(0);
    expect(m.page.free + m.page.alloc).toBe(m.page.total);
    expect(m.map.entries).toBeGreaterThan(0);
    expect(m.map.free).toBeGreaterThan(0);
    // Booting allocates no memory object, amap or anon: kmalloc starts empty.
    expect(m.kmalloc.used).toBe(0);
    expect(formatPageMap(vm.pageMap(), arch.pageSize)).toMatch(/^vm: /);
    expect(vm.processes()).toEqual([]);
    vm.check();
  });

  it('takes a preset name, a BoardMemoryMap or a RAM size; bad options → EINVAL, unknown preset → ENOENT', () => {
    expect(createVm({ arch: sv39, board: 'riscv-virt-64m' }).meminfo().page.total).toBe(64 << 20);
    expect(createVm({ arch: sv39, board: boards.get('riscv-virt-64m') }).meminfo().page.total).toBe(64 << 20);
    expect(createVm({ arch: sv39, ramSize: 4 << 20 }).meminfo().page.total).toBe(4 << 20);
    expect(errnoOf(() => createVm({ arch: sv39, board: 'no-such-board' }))).toBe('ENOENT');
    expect(errnoOf(() => createVm({ arch: sv39, ramSize: -1 }))).toBe('EINVAL');
    expect(errnoOf(() => createVm({ arch: sv39, ramSize: 1 << 20, board: 'riscv-virt-64m' }))).toBe('EINVAL');
    expect(errnoOf(() => createVm({ arch: {} as typeof sv39 }))).toBe('EINVAL');
    expect(errnoOf(() => createVm(null as unknown as { arch: typeof sv39 }))).toBe('EINVAL');
    expect(errnoOf(() => createVm({ arch: sv39, board: 42 as unknown as string }))).toBe('EINVAL');
    expect(errnoOf(() => createVm({ arch: sv39, onEvent: 1 as unknown as () => void }))).toBe('EINVAL');
    // A board the architecture cannot use: RAM not in whole 4 KiB pages.
    const odd = new BoardMemoryMap([{ base: 0x8000_0000, size: 0x10_0200, kind: 'ram', name: 'odd' }]);
    expect(errnoOf(() => createVm({ arch: sv39, board: odd }))).toBe('EINVAL');
    // Too little RAM for the kernel's tables and heap.
    expect(errnoOf(() => createVm({ arch: sv39, ramSize: 16384 }))).toBe('EINVAL');
  });
});

describe.each(ARCHS.map((a) => [a.name, a] as const))('Vm and Process on %s', (_n, arch) => {
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;

  it('events narrate spawn, faults, zero fill, copies, frames and exit', () => {
    const events: VmEvent[] = [];
    const vm = smallVm(arch, events);
    const p = vm.spawn({ segments: [{ vaddr: 0x10000, size: ps, prot: RW, data: pattern(ps, 1) }] });
    const va = p.mmap({ size: ps, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([1]));
    const data = mmu ? 0x10000 : vm.maps(p.pid)[0].start;
    p.write(data, new Uint8Array([1]));
    if (mmu) {
      const c = p.fork();
      c.write(va, new Uint8Array([2]));
      expect(events.find((e) => e.type === 'fork')).toEqual({ type: 'fork', pid: c.pid, parent: p.pid });
      const cow = events.flatMap((e) => (e.type === 'cow' && e.pid === c.pid ? [e] : []));
      expect(cow.length).toBe(1);
      expect(cow[0].va).toBe(va);
      c.exit();
      expect(events.flatMap((e) => (e.type === 'zero-fill' ? [[e.pid, e.va]] : []))).toEqual([[p.pid, va]]);
      expect(events.some((e) => e.type === 'fault' && e.pid === p.pid && e.va === va && e.access !== undefined)).toBe(true);
    }
    p.exit();
    const types = new Set(events.map((e) => e.type));
    for (const t of ['spawn', 'alloc', 'free', 'exit'] as const) expect(types.has(t)).toBe(true);
    const allocs = events.filter((e) => e.type === 'alloc').reduce((s, e) => s + e.size!, 0);
    const frees = events.filter((e) => e.type === 'free').reduce((s, e) => s + e.size!, 0);
    expect(frees).toBe(allocs);
    for (const e of events) for (const v of Object.values(e)) expect(v).not.toBeUndefined();
  });

  it('maps(pid) lists entries as the original /proc/<pid>/maps would; processes() lists the live ones', () => {
    const vm = smallVm(arch);
    const o = vm.createObject(pattern(2 * ps, 3));
    const p = vm.spawn();
    const q = vm.spawn();
    const a = p.mmap({ size: ps, prot: RW, flags: PRIVATE });
    const b = p.mmap({ size: 2 * ps, prot: Prot.READ, flags: SHARED, object: o });
    const maps = vm.maps(p.pid);
    expect(maps.map((m) => m.start).sort((x, y) => x - y)).toEqual([a, b].sort((x, y) => x - y));
    const mb = maps.find((m) => m.start === b)!;
    expect(mb).toEqual({
      start: b,
      end: b + 2 * ps,
      prot: Prot.READ | Prot.USER,
      protOrig: Prot.READ | Prot.USER,
      flags: SHARED,
      offset: 0,
      object: '[bytes]',
      objectId: o.id,
      anonymous: 0,
    });
    expect(o.id).toBeGreaterThan(0);
    expect(maps.find((m) => m.start === a)!.object).toBe('[anon]');
    expect(maps.find((m) => m.start === a)!.objectId).toBe(0);
    expect(vm.processes().map((x) => x.pid)).toEqual([p.pid, q.pid]);
    expect(errnoOf(() => vm.maps(999))).toBe('ENOENT');
    q.exit();
    expect(vm.processes()).toEqual([p]);
    o.release();
    vm.check();
  });

  it('mmap validates every argument and changes nothing on error', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const o = vm.createObject(new Uint8Array(2 * ps));
    const other = smallVm(arch).createObject(new Uint8Array(ps));
    const dead = vm.createObject(new Uint8Array(ps));
    dead.release();
    const base = footprint(vm);
    const table: [string, () => unknown, string][] = [
      ['size 0', () => p.mmap({ size: 0, prot: RW, flags: PRIVATE }), 'EINVAL'],
      ['size NaN', () => p.mmap({ size: Number.NaN, prot: RW, flags: PRIVATE }), 'EINVAL'],
      ['size negative', () => p.mmap({ size: -ps, prot: RW, flags: PRIVATE }), 'EINVAL'],
      ['size fractional', () => p.mmap({ size: 1.5, prot: RW, flags: PRIVATE }), 'EINVAL'],
      ['size > 2^53', () => p.mmap({ size: 2 ** 54, prot: RW, flags: PRIVATE }), 'EINVAL'],
      ['no sharing flag', () => p.mmap({ size: ps, prot: RW, flags: 0 }), 'EINVAL'],
      ['both sharing flags', () => p.mmap({ size: ps, prot: RW, flags: SHARED | PRIVATE }), 'EINVAL'],
      ['unknown flags', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE | 0x4000 }), 'EINVAL'],
      ['CONTIGUOUS', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE | MapFlags.CONTIGUOUS }), 'EINVAL'],
      ['bad prot', () => p.mmap({ size: ps, prot: 0x10, flags: PRIVATE }), 'EINVAL'],
      ['unaligned addr', () => p.mmap({ addr: 0x10001, size: ps, prot: RW, flags: PRIVATE | MapFlags.FIXED }), 'EINVAL'],
      ['FIXED without addr', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE | MapFlags.FIXED }), 'EINVAL'],
      ['unaligned offset', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE, object: o, offset: 1 }), 'EINVAL'],
      ['past the object', () => p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE, object: o, offset: ps }), 'EINVAL'],
      ['offset without object', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE, offset: ps }), 'EINVAL'],
      ['ANONYMOUS with object', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE | MapFlags.ANONYMOUS, object: o }), 'EINVAL'],
      ["another vm's object", () => p.mmap({ size: ps, prot: RW, flags: PRIVATE, object: other }), 'EINVAL'],
      ['released object', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE, object: dead }), 'EINVAL'],
      ['not an object', () => p.mmap({ size: ps, prot: RW, flags: PRIVATE, object: {} as typeof o }), 'EINVAL'],
      ['no options', () => p.mmap(null as unknown as { size: number; prot: number; flags: number }), 'EINVAL'],
      // 2^45 bytes pass every user range but AArch64's (2^48), which its own size passes.
      ['no room', () => p.mmap({ size: Math.max(2 ** 45, arch.userRange[1]), prot: RW, flags: PRIVATE }), mmu ? 'ENOMEM' : 'ENOMEM'],
    ];
    for (const [what, f, code] of table) {
      expect(errnoOf(f), what).toBe(code);
      expect(vm.maps(p.pid), what).toEqual([]);
      expect(footprint(vm), what).toEqual(base);
    }
    expect(o.refs).toBe(1);
    vm.check();
  });

  it('munmap, mprotect, read and write validate their arguments', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([7]));
    expect(errnoOf(() => p.munmap(va + 1, ps))).toBe('EINVAL');
    expect(errnoOf(() => p.munmap(va, 0))).toBe('EINVAL');
    expect(errnoOf(() => p.mprotect(va, ps, 0x20))).toBe('EINVAL');
    expect(errnoOf(() => p.mprotect(va + 1, ps, Prot.READ))).toBe('EINVAL');
    expect(errnoOf(() => p.read(va, -1))).toBe('EINVAL');
    expect(errnoOf(() => p.read(Number.NaN, 1))).toBe('EINVAL');
    expect(errnoOf(() => p.write(va, [1, 2] as unknown as Uint8Array))).toBe('EINVAL');
    expect(errnoOf(() => p.read(va + 2 * ps - 1, 2))).toBe('EFAULT');
    expect(p.read(va, 1)[0]).toBe(7);
    // Unmapping nothing is not an error.
    p.munmap(va + 64 * ps, ps);
    expect(vm.maps(p.pid).length).toBe(1);
    vm.check();
  });

  it('spawn validates the image and leaves nothing behind on error', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const bad: unknown[] = [
      null,
      {},
      { segments: [null] },
      { segments: [{ vaddr: -1, size: ps, prot: 1 }] },
      { segments: [{ vaddr: 0x10000, size: 0, prot: 1 }] },
      { segments: [{ vaddr: 0x10000, size: ps, prot: 8 }] },
      { segments: [{ vaddr: 0x10000, size: ps, prot: 1, data: [1] }] },
      { segments: [{ vaddr: 0x10000, size: 1, prot: 1, data: new Uint8Array(2) }] },
      ...(mmu
        ? [
            { segments: [{ vaddr: 0x10001, size: ps, prot: 1 }] },
            { segments: [{ vaddr: 0x10000, size: 2 * ps, prot: 1 }, { vaddr: 0x10000 + ps, size: ps, prot: 1 }] },
            { segments: [{ vaddr: arch.kernelRange[0], size: ps, prot: 1 }] },
          ]
        : []),
    ];
    for (const img of bad) {
      expect(errnoOf(() => vm.spawn(img as { segments: [] })), JSON.stringify(img)).toBe('EINVAL');
      expect(vm.processes()).toEqual([]);
      expect(footprint(vm)).toEqual(base);
    }
    vm.faults.failAt('frame', 1);
    const code = errnoOf(() => vm.spawn({ segments: [{ vaddr: 0x10000, size: ps, prot: RW, data: pattern(ps, 1) }] }));
    vm.faults.reset();
    if (!mmu) expect(code).toBe('ENOMEM');
    expect(vm.processes().length).toBe(code === undefined ? 1 : 0);
    vm.check();
    const p = vm.spawn();
    expect(p.pid).toBeGreaterThan(0);
  });

  it('exit gives back every frame and heap byte; conservation over a mix of processes', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const o = vm.createObject(pattern(3 * ps, 8));
    const img = { segments: [{ vaddr: 0x10000, size: 2 * ps, prot: Prot.READ | Prot.EXEC, data: pattern(ps, 1) }, { vaddr: 0x20000, size: 2 * ps, prot: RW, data: pattern(ps, 2) }] };
    const live = [vm.spawn(img), vm.spawn(img)];
    for (let i = 0; i < 6; i++) {
      const p = live[i % live.length];
      const va = p.mmap({ size: 3 * ps, prot: RW, flags: i % 3 === 0 ? SHARED : PRIVATE, object: i % 2 ? o : undefined });
      p.write(va + ps, pattern(ps, i));
      if (mmu) {
        const c = p.fork();
        c.write(va, pattern(10, i));
        live.push(c);
      }
      vm.check();
    }
    o.release();
    for (const p of live) p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
    expect(vm.objects()).toEqual([]);
  });
});

describe('Vm.tables', () => {
  it('lists a process page-table tree, root first; unknown pid → ENOENT', () => {
    const vm = createVm({ arch: sv39 });
    const p = vm.spawn();
    const va = p.mmap({ size: 4096, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
    p.write(va, Uint8Array.of(1));
    const t = vm.tables(p.pid);
    // Sv39: the root, one level-1 and one level-0 table for the touched page.
    expect(t.map((x) => x.level)).toEqual([0, 1, 2]);
    expect(t[0].va).toBe(0);
    expect(() => vm.tables(999)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('refused accesses as events', () => {
  it.each(ARCHS)('$name: a refused write and an unmapped read each emit a fault event with its errno', (arch) => {
    const events: VmEvent[] = [];
    const vm = createVm({ arch, onEvent: (e) => void events.push(e) });
    const p = vm.spawn();
    const va = p.mmap({ size: 4096, prot: Prot.READ, flags: MapFlags.PRIVATE });
    expect(p.read(va, 4)).toEqual(new Uint8Array(4));
    events.length = 0;
    expect(errnoOf(() => p.write(va + 8, Uint8Array.of(1)))).toBe('EACCES');
    expect(events).toEqual([{ type: 'fault', pid: p.pid, va: va + 8, access: 2 | 8, result: 'EACCES' }]);
    p.munmap(va, 4096);
    events.length = 0;
    expect(errnoOf(() => p.read(va, 1))).toBe('EFAULT');
    expect(events).toEqual([{ type: 'fault', pid: p.pid, va, access: 1 | 8, result: 'EFAULT' }]);
    p.exit();
    vm.check();
  });
});
