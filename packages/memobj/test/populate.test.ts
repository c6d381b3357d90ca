import { MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createVm, smaps } from '../src/index.js';
import type { VmEvent } from '../src/index.js';
import { ARCHS, MMU_ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

const POP = MapFlags.POPULATE;

describe.each(ARCHS.map((a) => [a.name, a] as const))('populate on %s', (_, arch) => {
  const ps = arch.pageSize;
  const ram = arch.capabilities.hasMmu ? 8 << 20 : 512 << 10;

  it('MapFlags.POPULATE makes every page resident at mmap, with fault events at their own addresses', () => {
    const events: VmEvent[] = [];
    const vm = smallVm(arch, events);
    const p = vm.spawn();
    const va = p.mmap({ size: 3 * ps, prot: RW, flags: PRIVATE | POP });
    expect(smaps(vm, p.pid)[0]).toMatchObject({ rss: 3 * ps, private: 3 * ps, zero: 0 });
    if (arch.capabilities.hasMmu) {
      const filled = events.filter((e) => e.type === 'zero-fill').map((e) => (e as { va: number }).va);
      expect(filled).toEqual([va, va + ps, va + 2 * ps]);
      // Nothing is left to fault: writing every page takes no fault event.
      events.length = 0;
      for (let i = 0; i < 3; i++) p.write(va + i * ps, new Uint8Array([i + 1]));
      expect(events.filter((e) => e.type === 'fault')).toEqual([]);
    }
    expect(vm.maps(p.pid)[0].flags & POP).toBe(0);
    vm.check();
  });

  it('createVm({ populate: true }) populates spawn segments and every mmap; fork stays copy-on-write', () => {
    const vm = createVm({ arch, ramSize: ram, populate: true });
    const boot = footprint(vm);
    const image = { segments: [{ vaddr: 0x10000, size: 2 * ps, prot: Prot.READ | Prot.EXEC, data: pattern(2 * ps, 1) }] };
    const p = vm.spawn(image);
    const obj = vm.createObject(pattern(2 * ps, 9));
    p.mmap({ size: 2 * ps, prot: Prot.READ, flags: SHARED, object: obj });
    for (const s of smaps(vm, p.pid)) expect(s.rss, s.object).toBe(s.size);
    if (arch.capabilities.hasMmu) {
      const heap = p.mmap({ size: 2 * ps, prot: RW, flags: PRIVATE });
      const child = p.fork();
      const h = smaps(vm, child.pid).find((s) => s.start === heap)!;
      expect(h).toMatchObject({ rss: 0 }); // the child's pages come on its faults, shared with the parent
      child.read(heap, 1);
      expect(smaps(vm, child.pid).find((s) => s.start === heap)!).toMatchObject({ rss: ps, shared: ps });
    }
    vm.check();
    obj.release();
    for (const q of vm.processes()) q.exit();
    vm.check();
    expect(footprint(vm)).toEqual(boot);
  });

  it('is all or nothing: memory running out at any page removes the mapping and changes nothing', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const keep = p.mmap({ size: ps, prot: RW, flags: PRIVATE });
    p.write(keep, new Uint8Array([5]));
    const before = { maps: vm.maps(p.pid), foot: footprint(vm) };
    for (const site of ['frame', 'ptable', 'amap', 'anon', 'kmalloc', 'map-entry'] as const) {
      for (const n of [1, 2, 3]) {
        vm.faults.failAt(site, n);
        let va = -1;
        try {
          va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE | POP });
        } catch (e) {
          expect(errnoOf(() => {
            throw e;
          })).toBe('ENOMEM');
        }
        vm.faults.reset();
        if (va >= 0) p.munmap(va, 4 * ps);
        expect({ maps: vm.maps(p.pid), foot: footprint(vm) }, `${site} #${n}`).toEqual(before);
        vm.check();
      }
    }
    expect([...p.read(keep, 1)]).toEqual([5]);
  });
});

describe('populate options', () => {
  it('refuses a populate option that is not a boolean', () => {
    for (const populate of ['yes', 1, null, {}]) {
      expect(errnoOf(() => createVm({ arch: MMU_ARCHS[0], ramSize: 8 << 20, populate: populate as never }))).toBe('EINVAL');
    }
  });
});
