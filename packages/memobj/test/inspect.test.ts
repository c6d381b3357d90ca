import { Prot } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { armv7m } from '@vmlayers/pmap-nommu';
import { dumpTables, sv39 } from '@vmlayers/pmap-mmu';
import type { MmuPmap } from '@vmlayers/pmap-mmu';
import { describe, expect, it } from 'vitest';
import { createVm, formatMaps, formatMeminfo, formatSmaps, hexdump, smaps } from '../src/index.js';
import type { Vm, VmEvent } from '../src/index.js';
import { ARCHS, MMU_ARCHS, PRIVATE, RW, SHARED, errnoOf, smallVm } from './helpers.js';

/** `/proc/meminfo` text back into numbers (kB or counts). */
function meminfoFields(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of text.trimEnd().split('\n')) {
    const m = /^([A-Za-z]+):\s+([\d.]+)( kB)?$/.exec(l);
    expect(m, l).not.toBeNull();
    out[m![1]] = Number(m![2]);
  }
  return out;
}

/** Sum of every process's PSS: the RAM their mappings use, each frame counted once. */
function totalPss(vm: Vm): number {
  let pss = 0;
  for (const p of vm.processes()) for (const s of smaps(vm, p.pid)) pss += s.pss;
  return pss;
}

describe('formatMaps', () => {
  it('prints Linux /proc/<pid>/maps lines: name at column 74 on sv39, inode = object id', () => {
    const vm = smallVm(sv39);
    const p = vm.spawn();
    const heap = p.mmap({ size: 0x4000, prot: RW, flags: PRIVATE });
    const obj = vm.createObject(new Uint8Array(8192));
    const text = p.mmap({ size: 8192, prot: Prot.READ | Prot.EXEC, flags: PRIVATE, object: obj });
    const lines = formatMaps(vm, p.pid).split('\n');
    expect(lines.pop()).toBe('');
    const hex = (v: number) => v.toString(16).padStart(8, '0');
    expect(lines[0]).toBe(`${hex(heap)}-${hex(heap + 0x4000)} rw-p 00000000 00:00 0`.padEnd(73, ' ') + '[anon]');
    expect(lines[1]).toBe(`${hex(text)}-${hex(text + 8192)} r-xp 00000000 00:00 ${obj.id}`.padEnd(73, ' ') + obj.name);
    vm.check();
  });

  it.each(ARCHS.map((a) => [a.name, a] as const))('on %s: one line per vm.maps() entry, name at the 32/64-bit column', (_, arch) => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    p.mmap({ size: arch.pageSize * 3, prot: RW, flags: PRIVATE });
    p.mmap({ size: arch.pageSize, prot: Prot.READ, flags: SHARED });
    const lines = formatMaps(vm, p.pid).trimEnd().split('\n');
    const maps = vm.maps(p.pid);
    expect(lines).toHaveLength(maps.length);
    const column = arch.userRange[1] > 2 ** 32 ? 73 : 49;
    lines.forEach((l, i) => {
      expect(l.slice(column)).toBe(maps[i].object);
      expect(l.slice(0, 8)).toBe(maps[i].start.toString(16).padStart(8, '0'));
    });
    expect(lines.filter((l) => / r--s /.test(l))).toHaveLength(1);
    expect(errnoOf(() => formatMaps(vm, 99))).toBe('ENOENT');
  });
});

describe('smaps', () => {
  it.each(MMU_ARCHS.map((a) => [a.name, a] as const))('on %s: fork shares touched pages, a write makes one private', (_, arch) => {
    const vm = smallVm(arch);
    const ps = arch.pageSize;
    const parent = vm.spawn();
    const heap = parent.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    parent.write(heap, new Uint8Array([1]));
    parent.write(heap + 2 * ps, new Uint8Array([2]));
    parent.read(heap + 3 * ps, 1); // the zero page: reads as zeros, no RAM of its own
    let [s] = smaps(vm, parent.pid);
    expect(s).toMatchObject({ size: 4 * ps, rss: 2 * ps, pss: 2 * ps, shared: 0, private: 2 * ps, zero: ps });

    const child = parent.fork();
    child.read(heap, 1);
    child.read(heap + 2 * ps, 1);
    [s] = smaps(vm, parent.pid);
    const [c] = smaps(vm, child.pid);
    expect(s).toMatchObject({ rss: 2 * ps, pss: ps, shared: 2 * ps, private: 0 });
    expect(c).toMatchObject({ rss: 2 * ps, pss: ps, shared: 2 * ps, private: 0 });

    child.write(heap, new Uint8Array([9])); // copy-on-write: page 0 now has a frame per process
    [s] = smaps(vm, parent.pid);
    const [c2] = smaps(vm, child.pid);
    expect(s).toMatchObject({ rss: 2 * ps, pss: 1.5 * ps, shared: ps, private: ps });
    expect(c2).toMatchObject({ rss: 2 * ps, pss: 1.5 * ps, shared: ps, private: ps });
    expect(totalPss(vm)).toBe(3 * ps);
    const text = formatSmaps(vm, child.pid);
    expect(text).toContain(`Pss:            ${`${(1.5 * ps) / 1024}`.padStart(8)} kB\n`);
    expect(text.split('\n')[0]).toBe(formatMaps(vm, child.pid).split('\n')[0]);
    vm.check();
    expect(errnoOf(() => smaps(vm, 99))).toBe('ENOENT');
  });

  it('without an MMU a mapping is resident whole from mmap on, and shared memory is counted once', () => {
    const arch = ARCHS.find((a) => !a.capabilities.hasMmu)!;
    const vm = smallVm(arch);
    const ps = arch.pageSize;
    const a = vm.spawn();
    const b = vm.spawn();
    a.mmap({ size: 3 * ps, prot: RW, flags: PRIVATE });
    const obj = vm.createObject(new Uint8Array(2 * ps));
    a.mmap({ size: 2 * ps, prot: RW, flags: SHARED, object: obj });
    b.mmap({ size: 2 * ps, prot: RW, flags: SHARED, object: obj });
    const priv = smaps(vm, a.pid).find((m) => m.objectId === 0)!;
    const sh = smaps(vm, a.pid).find((m) => m.objectId === obj.id)!;
    expect(priv).toMatchObject({ rss: 3 * ps, pss: 3 * ps, private: 3 * ps, shared: 0, zero: 0 });
    expect(sh).toMatchObject({ rss: 2 * ps, pss: ps, shared: 2 * ps, private: 0 });
    expect(totalPss(vm)).toBe(5 * ps);
    vm.check();
  });
});

describe('formatMeminfo', () => {
  it.each(ARCHS.map((a) => [a.name, a] as const))('on %s: /proc/meminfo layout with the vm figures', (_, arch) => {
    const vm = smallVm(arch);
    const text = formatMeminfo(vm);
    for (const l of text.trimEnd().split('\n')) expect(l.length === 24 || l.length === 27, l).toBe(true);
    const before = meminfoFields(text);
    const m = vm.meminfo();
    expect(before).toMatchObject({
      MemTotal: m.page.total / 1024,
      MemFree: m.page.free / 1024,
      MemBoot: m.page.boot / 1024,
      Slab: (m.kmalloc.used + m.kmalloc.free) / 1024,
      KmallocUsed: m.kmalloc.used / 1024,
      MapEntries: m.map.entries,
      MapEntriesFree: m.map.free,
    });
    expect(before.PageTables > 0).toBe(arch.capabilities.hasMmu);
    const p = vm.spawn();
    p.write(p.mmap({ size: arch.pageSize, prot: RW, flags: PRIVATE }), new Uint8Array([1]));
    const after = meminfoFields(formatMeminfo(vm));
    expect(after.PageTables > before.PageTables).toBe(arch.capabilities.hasMmu);
    expect(after.MemFree).toBeLessThan(before.MemFree);
    p.exit();
    expect(meminfoFields(formatMeminfo(vm))).toEqual(before);
  });
});

describe('hexdump', () => {
  it('prints hexdump -C lines, collapses repeats with *, ends with the end address', () => {
    const b = new Uint8Array(64);
    b.set(new TextEncoder().encode('parent heap'), 0);
    b[63] = 0xff;
    expect(hexdump(b, 0x1000)).toBe(
      '00001000  70 61 72 65 6e 74 20 68  65 61 70 00 00 00 00 00  |parent heap.....|\n' +
        '00001010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n' +
        '*\n' +
        '00001030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 ff  |................|\n' +
        '00001040\n',
    );
    expect(hexdump(new Uint8Array([0x41, 0x0a]), 2 ** 38)).toBe('4000000000  41 0a                                             |A.|\n4000000002\n');
    expect(hexdump(new Uint8Array(0))).toBe('00000000\n');
  });

  it('refuses what is not bytes and an address that is not one, with EINVAL', () => {
    for (const bytes of [null, 'abc', [1, 2], new Uint16Array(2)]) expect(errnoOf(() => hexdump(bytes as never))).toBe('EINVAL');
    for (const address of [-1, 0.5, Number.NaN, 2n, '16', 2 ** 53]) expect(errnoOf(() => hexdump(new Uint8Array(1), address as never)), String(address)).toBe('EINVAL');
  });

  it('dumps what a process reads', () => {
    const vm = smallVm(sv39);
    const p = vm.spawn();
    const va = p.mmap({ size: 4096, prot: RW, flags: PRIVATE });
    p.write(va + 16, new TextEncoder().encode('vmlayers'));
    expect(hexdump(p.read(va + 16, 8), va + 16)).toBe(
      `${(va + 16).toString(16).padStart(8, '0')}  76 6d 6c 61 79 65 72 73                           |vmlayers|\n${(va + 24).toString(16).padStart(8, '0')}\n`,
    );
  });
});

describe('vm.pmap(pid)', () => {
  it('is the process address space: its leaves are the pages the process touched', () => {
    const vm = smallVm(sv39);
    const p = vm.spawn();
    const va = p.mmap({ size: 3 * 4096, prot: RW, flags: PRIVATE });
    p.write(va + 4096, new Uint8Array([7]));
    const pmap = vm.pmap(p.pid) as MmuPmap;
    expect(pmap.leaves().map((l) => l.va)).toEqual([va + 4096]);
    expect(pmap.resolve(va + 4096)).toBe(pmap.leaves()[0].pa);
    expect(dumpTables(pmap)).toMatch(/ \| U R W - - A D /);
    expect(errnoOf(() => vm.pmap(99))).toBe('ENOENT');
    p.exit();
    expect(errnoOf(() => vm.pmap(p.pid))).toBe('ENOENT');
    vm.check();
  });
});

describe('maps(pid): the original meminfo entry fields', () => {
  it.each(ARCHS.map((a) => [a.name, a] as const))('on %s: protOrig survives mprotect, anonymous counts private memory', (_, arch) => {
    const vm = smallVm(arch);
    const ps = arch.pageSize;
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    const mmu = arch.capabilities.hasMmu;
    expect(vm.maps(p.pid)[0]).toMatchObject({ protOrig: RW | Prot.USER, anonymous: mmu ? 0 : 4 * ps });
    p.write(va, new Uint8Array([1]));
    p.write(va + 2 * ps, new Uint8Array([1]));
    expect(vm.maps(p.pid)[0].anonymous).toBe(mmu ? 2 * ps : 4 * ps);
    p.mprotect(va, ps, Prot.READ);
    const [head, tail] = vm.maps(p.pid);
    expect(head).toMatchObject({ prot: Prot.READ | Prot.USER, protOrig: RW | Prot.USER, anonymous: mmu ? ps : ps });
    expect(tail).toMatchObject({ prot: RW | Prot.USER, protOrig: RW | Prot.USER, anonymous: mmu ? ps : 3 * ps });
    const obj = vm.createObject(new Uint8Array(ps));
    p.mmap({ size: ps, prot: Prot.READ, flags: SHARED, object: obj });
    expect(vm.maps(p.pid).find((m) => m.objectId === obj.id)).toMatchObject({ anonymous: 0, protOrig: Prot.READ | Prot.USER });
    vm.check();
  });
});

describe('vm.mappingsOf(pa): who maps a frame', () => {
  const withLog = (arch: PmapFactory, log: VmEvent[], reclaim: boolean) =>
    createVm({ arch, ramSize: 8 << 20, onEvent: (e) => void log.push(e), ...(reclaim ? { swap: { pages: 64 } } : {}) });

  describe.each(MMU_ARCHS.map((arch) => ({ name: arch.name, arch })))('$name', ({ arch }) => {
    it.each([false, true])('lists the processes sharing a frame after fork and only the writer for its copy (reclaim %s)', (reclaim) => {
      const log: VmEvent[] = [];
      const vm = withLog(arch, log, reclaim);
      const ps = arch.pageSize;
      const a = vm.spawn();
      const heap = a.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
      a.write(heap + ps, new Uint8Array([1, 2, 3]));
      const frame = a.map.pmap.resolve(heap + ps);
      expect(vm.mappingsOf(frame)).toEqual([{ pid: a.pid, va: heap + ps, prot: RW | Prot.USER, flags: expect.any(Number), object: '[anon]' }]);
      const c = a.fork();
      // Fork copies no page table: the child maps the frame from its first read on.
      expect(vm.mappingsOf(frame).map((m) => m.pid)).toEqual([a.pid]);
      expect(c.read(heap + ps, 3)).toEqual(new Uint8Array([1, 2, 3]));
      // Both map the one frame until a write copies it; an offset inside the frame names the same frame.
      expect(vm.mappingsOf(frame + 5).map((m) => [m.pid, m.va])).toEqual([
        [a.pid, heap + ps],
        [c.pid, heap + ps],
      ]);
      c.write(heap + ps, new Uint8Array([9]));
      const cow = log.find((e) => e.type === 'cow');
      if (cow?.type !== 'cow') throw new Error('the write made no copy-on-write event');
      expect(cow.from).toBe(frame);
      expect(vm.mappingsOf(cow.pa).map((m) => m.pid)).toEqual([c.pid]);
      expect(vm.mappingsOf(frame).map((m) => m.pid)).toEqual([a.pid]);
      // Free frames and frames of the kernel are mapped by no process.
      const kernelFrame = vm.tables(a.pid)[0].pa;
      expect(vm.mappingsOf(kernelFrame)).toEqual([]);
      c.exit();
      expect(vm.mappingsOf(cow.pa)).toEqual([]);
      a.exit();
      expect(vm.mappingsOf(frame)).toEqual([]);
      vm.check();
    });
  });

  it('without an MMU a block is mapped at its own address by the mappings covering it', () => {
    const vm = smallVm(armv7m);
    const ps = armv7m.pageSize;
    const p = vm.spawn();
    const q = vm.spawn();
    const obj = vm.createObject(new Uint8Array(2 * ps));
    const va = p.mmap({ size: 2 * ps, prot: RW, flags: SHARED, object: obj });
    const vb = q.mmap({ size: 2 * ps, prot: Prot.READ, flags: SHARED, object: obj });
    obj.release();
    expect(va).toBe(vb);
    expect(vm.mappingsOf(va + ps + 3)).toEqual([
      { pid: p.pid, va: va + ps, prot: RW | Prot.USER, flags: expect.any(Number), object: expect.any(String) },
      { pid: q.pid, va: va + ps, prot: Prot.READ | Prot.USER, flags: expect.any(Number), object: expect.any(String) },
    ]);
    vm.check();
  });

  it.each(ARCHS.map((arch) => ({ name: arch.name, arch })))('refuses what is not a physical address with EINVAL ($name)', ({ arch }) => {
    const vm = smallVm(arch);
    for (const bad of [-1, 1.5, NaN, Infinity, '0x1000', null, undefined, 2 ** 53, 10n]) {
      expect(errnoOf(() => vm.mappingsOf(bad as never))).toBe('EINVAL');
    }
    vm.check();
  });
});
