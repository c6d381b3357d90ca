import { MapFlags, Prot, isVmError } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import type { MemoryMap, VmMap } from '../src/index.js';
import { ARCHS, PRIV, RO, RW, boot, state } from './helpers.js';

// Every allocation goes through the fault injector: fail the n-th one from now on, for every n a scenario reaches,
// and every refused step must leave its map exactly as it was; at the end everything is given back.
describe.each(ARCHS)('exhaustion anywhere on $name', (a) => {
  it('leaves every map intact at every failure point, and conserves every frame and entry', () => {
    let failures = 0;
    for (let n = 0; n < 60; n++) {
      const b = boot(a);
      const free0 = b.alloc.info();
      const pool0 = b.kmap.info();
      const maps: VmMap[] = [];
      b.alloc.faults.failAfter(n);
      const step = (m: MemoryMap | undefined, fn: () => unknown, mapOp = true) => {
        const before = m && state(m);
        const info = b.alloc.info();
        try {
          fn();
        } catch (e) {
          if (!isVmError(e, 'ENOMEM')) throw e;
          failures++;
          if (m) {
            expect(state(m)).toEqual(before);
            if (mapOp) expect(b.alloc.info()).toEqual(info);
          }
        }
        for (const x of maps) x.check();
        b.kmap.check();
      };
      let p: VmMap | undefined;
      step(undefined, () => maps.push((p = b.kmap.createUserMap(1))));
      if (p) {
        const m = p;
        let va = -1;
        step(m, () => (va = m.mmap({ size: 6 * b.ps, prot: RW, flags: PRIV })));
        if (va >= 0) {
          step(m, () => m.write(va, new Uint8Array(3 * b.ps).fill(1)), false);
          step(m, () => m.mprotect(va + b.ps, b.ps, RO));
          step(m, () => m.munmap(va + 3 * b.ps, b.ps));
          step(m, () => m.mmap({ addr: va + 4 * b.ps, size: b.ps, prot: RO, flags: PRIV | (a.mmu ? MapFlags.FIXED : 0) }));
          if (a.mmu) step(m, () => maps.push(m.copy(2)));
        }
        const k = b.kmap;
        let kva = -1;
        step(k, () => (kva = k.allocPages(2)));
        step(k, () => k.mmap({ size: b.ps, prot: Prot.READ | Prot.WRITE, flags: 0 }));
        b.alloc.faults.reset();
        if (kva >= 0) k.freePages(kva);
        for (const e of k.entries()) if (e.backing.name === '[anon]') k.munmap(e.start, e.end - e.start);
      }
      b.alloc.faults.reset();
      for (const x of maps) x.destroy();
      expect(b.alloc.info()).toEqual(free0);
      expect(b.kmap.info()).toEqual(pool0);
      b.kmap.check();
    }
    expect(failures).toBeGreaterThan(10);
  });
});
