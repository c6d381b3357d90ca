import { Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import type { VmEvent } from '../src/index.js';
import { MMU_ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

describe.each(MMU_ARCHS.map((a) => [a.name, a] as const))('copy-on-write on %s', (_n, arch) => {
  const ps = arch.pageSize;

  it('parent and child see their own writes; the child starts with the parent snapshot', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(4 * ps, 1));
    const c = p.fork();
    vm.check();
    expect(c.read(va, 4 * ps)).toEqual(pattern(4 * ps, 1));
    p.write(va + 10, new Uint8Array([0xaa]));
    c.write(va + ps + 10, new Uint8Array([0xbb]));
    expect(p.read(va + 10, 1)[0]).toBe(0xaa);
    expect(c.read(va + 10, 1)[0]).toBe(pattern(4 * ps, 1)[10]);
    expect(c.read(va + ps + 10, 1)[0]).toBe(0xbb);
    expect(p.read(va + ps + 10, 1)[0]).toBe(pattern(4 * ps, 1)[ps + 10]);
    vm.check();
    c.exit();
    vm.check();
    expect(p.read(va + ps + 10, 1)[0]).toBe(pattern(4 * ps, 1)[ps + 10]);
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('fork copies nothing; each written page is copied once, by the first writer only', () => {
    const events: VmEvent[] = [];
    const vm = smallVm(arch, events);
    const p = vm.spawn();
    const va = p.mmap({ size: 8 * ps, prot: RW, flags: PRIVATE });
    for (let i = 0; i < 8; i++) p.write(va + i * ps, new Uint8Array([i + 1]));
    const free = vm.meminfo().page.free;
    events.length = 0;
    const c = p.fork();
    expect(events.filter((e) => e.type === 'cow' || e.type === 'alloc')).toEqual([]);
    // Only the child's page tables, nothing per touched page.
    expect(free - vm.meminfo().page.free).toBeLessThanOrEqual(3 * ps);
    c.write(va, new Uint8Array([9]));
    expect(events.filter((e) => e.type === 'cow').length).toBe(1);
    // The parent's page now has one owner: written in place, no copy.
    p.write(va, new Uint8Array([8]));
    expect(events.filter((e) => e.type === 'cow').length).toBe(1);
    expect(p.read(va, 1)[0]).toBe(8);
    expect(c.read(va, 1)[0]).toBe(9);
    vm.check();
  });

  it('an anon with one reference is written in place: same frame before and after', () => {
    const events: VmEvent[] = [];
    const vm = smallVm(arch, events);
    const p = vm.spawn();
    const va = p.mmap({ size: ps, prot: RW, flags: PRIVATE });
    p.write(va, new Uint8Array([1]));
    const pa = events.find((e) => e.type === 'zero-fill')!.pa;
    const c = p.fork();
    c.exit();
    events.length = 0;
    p.write(va, new Uint8Array([2]));
    expect(events.filter((e) => e.type === 'cow' || e.type === 'alloc')).toEqual([]);
    p.write(va + 1, new Uint8Array([3]));
    expect(events.some((e) => e.type === 'zero-fill' || e.type === 'cow')).toBe(false);
    // The frame the page was zero-filled into is the one it is written in now.
    expect(p.map.pmap.resolve(va)).toBe(pa);
    vm.check();
  });

  it('grandchildren: three generations each keep their own view', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const g0 = vm.spawn();
    const va = g0.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    g0.write(va, new Uint8Array([10]));
    const g1 = g0.fork();
    g1.write(va, new Uint8Array([11]));
    const g2 = g1.fork();
    g2.write(va, new Uint8Array([12]));
    const g2b = g1.fork();
    g0.write(va + ps, new Uint8Array([20]));
    expect([g0, g1, g2, g2b].map((p) => p.read(va, 1)[0])).toEqual([10, 11, 12, 11]);
    expect([g0, g1, g2, g2b].map((p) => p.read(va + ps, 1)[0])).toEqual([20, 0, 0, 0]);
    vm.check();
    g1.exit();
    vm.check();
    expect([g0, g2, g2b].map((p) => p.read(va, 1)[0])).toEqual([10, 12, 11]);
    g2b.write(va, new Uint8Array([13]));
    expect(g2.read(va, 1)[0]).toBe(12);
    for (const p of [g0, g2, g2b]) p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('fork after a partial munmap: the hole stays a hole, the rest is copy-on-write', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const p = vm.spawn();
    const va = p.mmap({ size: 6 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(6 * ps, 3));
    p.munmap(va + 2 * ps, 2 * ps);
    vm.check();
    const c = p.fork();
    vm.check();
    expect(errnoOf(() => c.read(va + 2 * ps, 1))).toBe('EFAULT');
    expect(c.read(va + 4 * ps, 2 * ps)).toEqual(pattern(6 * ps, 3).subarray(4 * ps));
    c.write(va, new Uint8Array([1]));
    p.write(va + 5 * ps, new Uint8Array([2]));
    expect(p.read(va, 1)[0]).toBe(pattern(1, 3)[0]);
    expect(c.read(va + 5 * ps, 1)[0]).toBe(pattern(6 * ps, 3)[5 * ps]);
    // Mapping the hole again in the child gives zeros, not the parent's old pages.
    const again = c.mmap({ addr: va + 2 * ps, size: 2 * ps, prot: RW, flags: PRIVATE | 0x80 });
    expect(again).toBe(va + 2 * ps);
    expect(c.read(again, 2 * ps).every((b) => b === 0)).toBe(true);
    vm.check();
    p.munmap(va, 6 * ps);
    vm.check();
    expect(c.read(va + 4 * ps, 4)).toEqual(pattern(6 * ps, 3).subarray(4 * ps, 4 * ps + 4));
    c.exit();
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('SHARED anonymous memory is shared with the child, PRIVATE is not', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const p = vm.spawn();
    const sh = p.mmap({ size: 2 * ps, prot: RW, flags: SHARED });
    const pr = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
    p.write(sh, new Uint8Array([1]));
    p.write(pr, new Uint8Array([1]));
    const c = p.fork();
    c.write(sh, new Uint8Array([2]));
    c.write(pr, new Uint8Array([2]));
    c.write(sh + ps, new Uint8Array([3]));
    expect(p.read(sh, 1)[0]).toBe(2);
    expect(p.read(sh + ps, 1)[0]).toBe(3);
    expect(p.read(pr, 1)[0]).toBe(1);
    p.write(sh + 1, new Uint8Array([4]));
    expect(c.read(sh + 1, 1)[0]).toBe(4);
    vm.check();
    p.exit();
    expect(c.read(sh, 2)).toEqual(new Uint8Array([2, 4]));
    c.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('private mappings of an object: reads share its frames, the first write copies', () => {
    const events: VmEvent[] = [];
    const vm = smallVm(arch, events);
    const data = pattern(3 * ps, 9);
    const o = vm.createObject(data);
    const p = vm.spawn();
    const va = p.mmap({ size: 3 * ps, prot: RW, flags: PRIVATE, object: o });
    expect(p.read(va, 3 * ps)).toEqual(data);
    const objectFrame = p.map.pmap.resolve(va + ps);
    events.length = 0;
    p.write(va + ps, new Uint8Array([0]));
    const cow = events.flatMap((e) => (e.type === 'cow' ? [e] : []));
    expect(cow.length).toBe(1);
    expect(cow[0].va).toBe(va + ps);
    // The copy came from the object's frame, and the writer now maps another one.
    expect(cow[0].from).toBe(objectFrame);
    expect(p.map.pmap.resolve(va + ps)).toBe(cow[0].pa);
    const q = vm.spawn();
    const vq = q.mmap({ size: 3 * ps, prot: Prot.READ, flags: PRIVATE, object: o });
    expect(q.read(vq + ps, 1)[0]).toBe(data[ps]);
    // A second reader maps the object's own frame: one frame however many processes read it.
    expect(q.map.pmap.resolve(vq + ps)).toBe(objectFrame);
    expect(data[ps]).toBe(pattern(3 * ps, 9)[ps]);
    const c = p.fork();
    expect(c.read(va + ps, 1)[0]).toBe(0);
    expect(c.read(va, 1)[0]).toBe(data[0]);
    vm.check();
    for (const x of [p, q, c]) x.exit();
    o.release();
    vm.check();
  });

  it('spawned images: text shared between processes, writable data copied on write', () => {
    const vm = smallVm(arch);
    const base = footprint(vm);
    const text = pattern(2 * ps, 1);
    const data = pattern(ps + 10, 2);
    const image = {
      segments: [
        { vaddr: 0x10000, size: 2 * ps, prot: Prot.READ | Prot.EXEC, data: text },
        { vaddr: 0x20000, size: 4 * ps, prot: RW, data },
      ],
    };
    const a = vm.spawn(image);
    const b = vm.spawn(image);
    expect(a.read(0x10000, 2 * ps)).toEqual(text);
    expect(b.read(0x10000, 2 * ps)).toEqual(text);
    expect(a.read(0x20000, ps + 10)).toEqual(data);
    expect(a.read(0x20000 + ps + 10, 3 * ps - 10).every((x) => x === 0)).toBe(true);
    a.write(0x20000, new Uint8Array([0xff]));
    a.write(0x20000 + 3 * ps, new Uint8Array([0xee]));
    expect(b.read(0x20000, 1)[0]).toBe(data[0]);
    expect(data[0]).toBe(pattern(1, 2)[0]);
    expect(errnoOf(() => a.write(0x10000, new Uint8Array([1])))).toBe('EACCES');
    expect(vm.objects().length).toBe(2);
    vm.check();
    a.exit();
    b.exit();
    expect(vm.objects().length).toBe(0);
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('mprotect cutting touched memory in three merges back into one entry, before and after fork', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(4 * ps, 6));
    p.mprotect(va + ps, 2 * ps, Prot.READ);
    expect(vm.maps(p.pid).length).toBe(3);
    p.mprotect(va + ps, 2 * ps, RW);
    expect(vm.maps(p.pid).length).toBe(1);
    vm.check();
    const c = p.fork();
    c.mprotect(va + ps, ps, Prot.READ);
    c.mprotect(va + ps, ps, RW);
    expect(vm.maps(c.pid).length).toBe(1);
    vm.check();
    c.write(va + 2 * ps, new Uint8Array([1]));
    expect(p.read(va + 2 * ps, 1)[0]).toBe(pattern(4 * ps, 6)[2 * ps]);
    const g = c.fork();
    expect(g.read(va, 4 * ps)).toEqual(c.read(va, 4 * ps));
    vm.check();
    for (const x of [g, c, p]) x.exit();
    vm.check();
  });

  it('mprotect back and forth after fork keeps both sides private', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(4 * ps, 4));
    const c = p.fork();
    p.mprotect(va + ps, 2 * ps, Prot.READ);
    vm.check();
    expect(errnoOf(() => p.write(va + ps, new Uint8Array([1])))).toBe('EACCES');
    p.mprotect(va, 4 * ps, RW);
    vm.check();
    p.write(va + ps, new Uint8Array([1]));
    p.write(va + 3 * ps, new Uint8Array([1]));
    expect(c.read(va + ps, 1)[0]).toBe(pattern(4 * ps, 4)[ps]);
    expect(c.read(va + 3 * ps, 1)[0]).toBe(pattern(4 * ps, 4)[3 * ps]);
    vm.check();
  });
});
