import { armv7m } from '@vmlayers/pmap-nommu';
import { Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

describe('without an MMU (armv7m)', () => {
  const ps = armv7m.pageSize;

  it('processes mapping the same object share one block (va = pa); shared writes are seen by all', () => {
    const vm = smallVm(armv7m);
    const base = footprint(vm);
    const bytes = pattern(4 * ps, 1);
    const o = vm.createObject(bytes);
    const a = vm.spawn();
    const b = vm.spawn();
    const va = a.mmap({ size: 4 * ps, prot: RW, flags: SHARED, object: o });
    const vb = b.mmap({ size: 2 * ps, prot: Prot.READ, flags: SHARED, object: o, offset: 2 * ps });
    expect(vb).toBe(va + 2 * ps);
    a.write(va + 2 * ps, new Uint8Array([0xee]));
    expect(b.read(vb, 1)[0]).toBe(0xee);
    expect(errnoOf(() => b.write(vb, new Uint8Array([1])))).toBe('EACCES');
    // A private read-only mapping shares the block too, and may never become writable.
    const c = vm.spawn();
    const vc = c.mmap({ size: ps, prot: Prot.READ, flags: PRIVATE, object: o });
    expect(vc).toBe(va);
    expect(errnoOf(() => c.mprotect(vc, ps, RW))).toBe('EACCES');
    // A private writable one gets its own copy.
    const vd = c.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE, object: o });
    expect(vd).not.toBe(va);
    expect(c.read(vd + 2 * ps, 1)[0]).toBe(0xee);
    c.write(vd, new Uint8Array([1]));
    expect(a.read(va, 1)[0]).toBe(bytes[0]);
    vm.check();
    for (const p of [a, b, c]) p.exit();
    o.release();
    expect(bytes[2 * ps]).toBe(0xee); // written back when the object died
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('spawn places the image where memory is; text shared between processes of one image', () => {
    const vm = smallVm(armv7m);
    const base = footprint(vm);
    const text = pattern(2 * ps, 3);
    const img = { segments: [{ vaddr: 0x1000, size: 2 * ps, prot: Prot.READ | Prot.EXEC, data: text }, { vaddr: 0x3000, size: 3 * ps, prot: RW, data: pattern(10, 4) }] };
    const a = vm.spawn(img);
    const b = vm.spawn(img);
    const ta = vm.maps(a.pid).find((m) => m.prot & Prot.EXEC)!;
    const tb = vm.maps(b.pid).find((m) => m.prot & Prot.EXEC)!;
    expect(ta.start).toBe(tb.start);
    expect(a.read(ta.start, 2 * ps)).toEqual(text);
    const da = vm.maps(a.pid).find((m) => m.prot & Prot.WRITE)!;
    const db = vm.maps(b.pid).find((m) => m.prot & Prot.WRITE)!;
    expect(da.start).not.toBe(db.start);
    a.write(da.start, new Uint8Array([9]));
    expect(b.read(db.start, 10)).toEqual(pattern(10, 4));
    expect(a.read(da.start + 10, 3 * ps - 10).every((x) => x === 0)).toBe(true);
    a.exit();
    b.exit();
    vm.check();
    expect(footprint(vm)).toEqual(base);
  });

  it('an image vaddr is not even a hint: unaligned and odd addresses load', () => {
    const vm = smallVm(armv7m);
    const p = vm.spawn({ segments: [{ vaddr: 0x1001, size: 100, prot: RW, data: pattern(100, 1) }, { vaddr: 3, size: ps, prot: Prot.READ }] });
    const maps = vm.maps(p.pid);
    expect(maps.length).toBe(2);
    expect(p.read(maps.find((m) => m.prot & Prot.WRITE)!.start, 100)).toEqual(pattern(100, 1));
    p.exit();
    vm.check();
  });

  it('a partial munmap keeps the block until the last part goes', () => {
    const vm = smallVm(armv7m);
    const base = footprint(vm);
    const p = vm.spawn();
    const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
    p.write(va, pattern(4 * ps, 2));
    p.munmap(va + ps, ps);
    expect(errnoOf(() => p.read(va + ps, 1))).toBe('EFAULT');
    expect(p.read(va + 2 * ps, 2 * ps)).toEqual(pattern(4 * ps, 2).subarray(2 * ps));
    vm.check();
    p.munmap(va, 4 * ps);
    vm.check();
    expect(footprint(vm)).toEqual(base);
    p.exit();
  });
});
