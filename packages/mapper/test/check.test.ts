import { Access, PageAttr } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import type { ZeroFillBacking } from '../src/index.js';
import { ARCHS, PRIV, RW, boot, user } from './helpers.js';

interface Internals {
  ctx: { pool: { gap: Float64Array; maxGap: Float64Array; height: Int8Array; prot: Uint8Array } };
  tree: { root: number; first(): number };
}

describe.each(ARCHS)('check() finds broken invariants on $name', (a) => {
  function setup() {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    m.mmap({ size: 2 * b.ps, prot: RW & ~2, flags: PRIV });
    m.write32(va, 1);
    m.check();
    return { b, m, va, i: m as unknown as Internals };
  }

  it('a wrong gap, subtree gap or height', () => {
    for (const corrupt of [
      (i: Internals) => (i.ctx.pool.gap[i.tree.first()] += 1),
      (i: Internals) => (i.ctx.pool.maxGap[i.tree.root] += 1),
      (i: Internals) => (i.ctx.pool.height[i.tree.root] += 1),
    ]) {
      const { m, i } = setup();
      corrupt(i);
      expect(() => m.check()).toThrow(/invariant/);
    }
  });

  it.runIf(a.mmu)('a zero-fill page that no entry maps (a leak)', () => {
    // Without an MMU the memory is one block: there is no page outside it to hold.
    const { m, va, b } = setup();
    const e = m.find(va)!;
    (e.backing as ZeroFillBacking).fault(e.offset + 64 * b.ps, Access.READ);
    expect(() => m.check()).toThrow(/mapped by no entry/);
  });

  it.runIf(a.mmu)('a translation outside every entry, or inside a PROT_NONE one', () => {
    const { m, va, b, i } = setup();
    // The span of a table entry says how much a leaf table covers: 2 MiB on Sv39 and AArch64, 4 MiB on ia32 and
    // ARMv7-A (a frame of four level-2 tables).
    expect(m.pmap.tables().map((t) => t.span)).toContain(a.name === 'ia32' || a.name === 'armv7a' ? 4 << 20 : 2 << 20);
    const pa = b.alloc.allocPa(b.ps);
    m.pmap.enter(pa, va + 100 * b.ps, PageAttr.PRESENT | PageAttr.READ | PageAttr.USER);
    expect(() => m.check()).toThrow(/translations/);
    m.pmap.remove(va + 100 * b.ps, va + 101 * b.ps);
    m.check();
    i.ctx.pool.prot[i.tree.first()] = 0;
    expect(() => m.check()).toThrow(/PROT_NONE/);
  });
});
