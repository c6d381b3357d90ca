import { MapFlags, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { formatMaps, smaps } from '../src/index.js';
import { ARCHS, MMU_ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

describe.each(MMU_ARCHS.map((a) => [a.name, a] as const))('Process.reserve on %s', (_, arch) => {
  const ps = arch.pageSize;

  it('holds a window that FIXED mappings fill (an IPC window), costs no page, and goes with exit', () => {
    const vm = smallVm(arch);
    const boot = footprint(vm);
    const p = vm.spawn();
    const win = p.reserve(16 * ps);
    expect(formatMaps(vm, p.pid)).toContain('[reserved]');
    expect(smaps(vm, p.pid)[0]).toMatchObject({ size: 16 * ps, rss: 0 });
    // Other mappings stay out of it.
    const heap = p.mmap({ size: ps, prot: RW, flags: PRIVATE, addr: win });
    expect(heap >= win + 16 * ps || heap + ps <= win).toBe(true);
    expect(errnoOf(() => p.read(win, 1))).toBe('EACCES');
    expect(errnoOf(() => p.mprotect(win, ps, RW))).toBe('EACCES');
    // Fill part of it with a shared object, as IPC maps the sender's pages into the window.
    const obj = vm.createObject(pattern(2 * ps, 7));
    const at = p.mmap({ addr: win + 4 * ps, size: 2 * ps, prot: Prot.READ, flags: SHARED | MapFlags.FIXED, object: obj });
    expect(at).toBe(win + 4 * ps);
    expect([...p.read(at, 4)]).toEqual([...pattern(4, 7)]);
    const child = p.fork();
    expect(vm.maps(child.pid).filter((m) => m.object === '[reserved]')).toHaveLength(2);
    vm.check();
    obj.release();
    child.exit();
    p.exit();
    vm.check();
    expect(footprint(vm)).toEqual(boot);
  });

  it('refuses bad arguments and a window that cannot be had, changing nothing', () => {
    const vm = smallVm(arch);
    const p = vm.spawn();
    const before = { maps: vm.maps(p.pid), foot: footprint(vm) };
    for (const [size, addr] of [
      [0, undefined],
      [Number.NaN, undefined],
      ['4096', undefined],
      [ps, 1],
      [ps, -ps],
    ] as const) {
      expect(errnoOf(() => p.reserve(size as never, addr as never)), `${String(size)} ${String(addr)}`).toBe('EINVAL');
    }
    expect(errnoOf(() => p.reserve(2 ** 52))).toMatch(/^E(NOMEM|INVAL)$/);
    vm.faults.failAt('map-entry', 1);
    expect(errnoOf(() => p.reserve(ps))).toBe('ENOMEM');
    vm.faults.reset();
    expect({ maps: vm.maps(p.pid), foot: footprint(vm) }).toEqual(before);
    p.exit();
    expect(errnoOf(() => p.reserve(ps))).toBe('EINVAL');
  });
});

describe('Process.reserve without an MMU', () => {
  it('is ENOSYS', () => {
    const vm = smallVm(ARCHS.find((a) => !a.capabilities.hasMmu)!);
    expect(errnoOf(() => vm.spawn().reserve(512))).toBe('ENOSYS');
  });
});
