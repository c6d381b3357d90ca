import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, RO, RW, boot, user } from './helpers.js';

describe.each(ARCHS.map((a) => [a.arch.name, a] as const))('protOrig on %s', (_, a) => {
  it('keeps the protection an entry was mapped with through mprotect, splits and fork', () => {
    const b = boot(a);
    const m = user(b);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV });
    m.mprotect(va + b.ps, b.ps, RO);
    expect(m.entries().map((e) => [e.start - va, e.prot, e.protOrig])).toEqual([
      [0, RW, RW],
      [b.ps, RO, RW],
      [2 * b.ps, RW, RW],
    ]);
    m.mprotect(va + b.ps, b.ps, RW); // back again: mapped alike, so the three merge
    expect(m.entries().map((e) => [e.end - e.start, e.prot, e.protOrig])).toEqual([[4 * b.ps, RW, RW]]);
    if (a.mmu) {
      m.mprotect(va, b.ps, RO);
      const child = m.copy(2);
      expect(child.entries().map((e) => e.protOrig)).toEqual([RW, RW]);
      child.destroy();
    }
    m.check();
  });

  // With an MMU only: without one a mapping goes where its memory is, so the two need not be neighbours.
  it.runIf(a.mmu)('does not merge neighbours mapped with different protections, even once their prot is the same', () => {
    const b = boot(a);
    const m = user(b);
    const x = m.mmap({ size: b.ps, prot: RW, flags: PRIV });
    const y = m.mmap({ size: b.ps, prot: RO, flags: PRIV, addr: x + b.ps });
    expect(y).toBe(x + b.ps);
    m.mprotect(x, b.ps, RO);
    expect(m.entries().map((e) => [e.prot, e.protOrig])).toEqual([
      [RO, RW],
      [RO, RO],
    ]);
    m.check();
  });
});
