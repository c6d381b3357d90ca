import { PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { identityKernel } from '@vmlayers/testkit';
import { describe, expect, it } from 'vitest';
import { Kmalloc } from '../src/index.js';

function heap() {
  const alloc = new PageAllocator(new PhysicalMemory(boards.get('riscv-virt-64m')), { pageSize: 4096 });
  return new Kmalloc(identityKernel(alloc));
}

describe('Kmalloc.dump', () => {
  it("lists each class's zones as zone(used/blocks), as vm_kmallocDump, with the stats figures", () => {
    const k = heap();
    const a = [k.kmalloc(16), k.kmalloc(16), k.kmalloc(20)];
    const big = k.kmalloc(3000);
    const text = k.dump();
    const lines = text.trimEnd().split('\n');
    const s = k.stats();
    expect(lines[0]).toBe(`kmalloc: ${s.zones} zones, ${s.used} bytes used, ${s.free} bytes free`);
    // One line per class with zones, by block size; each zone with its blocks in use.
    expect(lines.slice(1).map((l) => Number(l.trim().split(' ')[0]))).toEqual(s.classes.map((c) => c.size));
    const line16 = lines.find((l) => /^\s*16 B: /.test(l))!;
    expect(line16).toMatch(/^\s*16 B: 0x[0-9a-f]+\(2\/\d+\)$/);
    expect(lines.find((l) => /^\s*32 B: /.test(l))).toMatch(/\(1\/\d+\)$/);
    expect(lines.find((l) => /^\s*4096 B: /.test(l))).toMatch(/\(1\/\d+\)$/);
    for (const v of [...a, big]) k.kfree(v);
    k.check();
    const before = k.stats();
    const again = k.dump();
    expect(k.stats()).toEqual(before); // dumping changes nothing
    expect(again.split('\n')[0]).toBe(`kmalloc: ${before.zones} zone${before.zones === 1 ? '' : 's'}, ${before.used} bytes used, ${before.free} bytes free`);
  });

  it('shows blocks waiting in a magazine', () => {
    const k = heap();
    const blocks = Array.from({ length: 600 }, () => k.kmalloc(16));
    for (const b of blocks.slice(0, 10)) k.kfree(b);
    const s = k.stats();
    const c16 = s.classes.find((c) => c.size === 16)!;
    const line = k.dump().split('\n').find((l) => /^\s*16 B: /.test(l))!;
    const inZones = [...line.matchAll(/\((\d+)\/(\d+)\)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const mag = Number(/; (\d+) free in the magazine$/.exec(line)?.[1] ?? 0);
    expect(mag).toBe(10); // 600 live blocks: the class uses its magazine
    expect(inZones - mag).toBe(c16.used);
    k.check();
  });
});
