import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { LeafBit, dumpTables, ia32, leafFlags, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const PS = 4096;
const P = PageAttr.PRESENT;
const R = PageAttr.READ;
const W = PageAttr.WRITE;
const X = PageAttr.EXEC;
const U = PageAttr.USER;

function boot(factory: typeof sv39) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const user = factory.createUser(kernel) as MmuPmap;
  const frame = () => alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  return { mem, kernel, user, frame };
}

describe.each([
  ['sv39', sv39],
  ['ia32', ia32],
] as const)('dumpTables on %s', (name, factory) => {
  it('lists every present leaf with its frame, its PTE and the flags the hardware sees', () => {
    const { mem, kernel, user, frame } = boot(factory);
    const a = frame();
    const b = frame();
    user.enter(a, 0x10000, P | R | W | U);
    user.enter(b, 0x400000, P | R | X | U);
    user.enter(frame(), 0x11000, R | W | U); // entered without PRESENT: not a present leaf
    expect(user.translate(0x10000, Access.WRITE | Access.USER)).toBe(a); // sets A and D
    const leaves = user.leaves();
    expect(leaves.map((l) => [l.va, l.pa, l.size])).toEqual([
      [0x10000, a, PS],
      [0x400000, b, PS],
    ]);
    for (const l of leaves) expect(mem.read32(l.pte) & ~0xfff).toBe(name === 'sv39' ? (l.pa / 4) & ~0xfff : l.pa);
    const rw = LeafBit.PRESENT | LeafBit.READ | LeafBit.WRITE | LeafBit.USER | LeafBit.ACCESSED | LeafBit.DIRTY;
    // ia32 without PAE has no NX: a present page is executable.
    expect(leaves[0].bits).toBe(name === 'ia32' ? rw | LeafBit.EXEC : rw);
    expect(leaves[1].bits).toBe(LeafBit.PRESENT | LeafBit.READ | LeafBit.EXEC | LeafBit.USER);
    const lines = dumpTables(user).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    const h = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
    expect(lines[0]).toBe(`${h(0x10000)} → ${h(a)} | U R W ${name === 'ia32' ? 'X' : '-'} - A D (at pte ${h(leaves[0].pte)})`);
    expect(lines[1]).toBe(`${h(0x400000)} → ${h(b)} | U R - X - - - (at pte ${h(leaves[1].pte)})`);
    // The shared kernel half only on request (the kernel's own space always shows it), and the same there.
    const k = frame();
    kernel.enter(k, factory.kernelRange[0] + 5 * PS, P | R | W);
    const kernelLeaves = kernel.leaves();
    expect(kernelLeaves.map((l) => [l.va, l.pa])).toEqual([[factory.kernelRange[0] + 5 * PS, k]]);
    expect(user.leaves({ kernel: true })).toEqual([...leaves, ...kernelLeaves]);
    expect(kernelLeaves.every((l) => (l.bits & LeafBit.USER) === 0)).toBe(true);
    // Dumping changes nothing: no accessed bit, no TLB entry.
    const before = user.stats();
    expect(user.leaves()).toEqual(leaves);
    dumpTables(user, { kernel: true });
    expect(user.stats()).toEqual(before);
    user.remove(0x10000, 0x11000);
    expect(user.leaves().map((l) => l.va)).toEqual([0x400000]);
    user.destroy();
    expect(user.leaves()).toEqual([]);
    expect(dumpTables(user)).toBe('');
  });
});

describe('dumpTables refuses what is not an MMU address space', () => {
  it.each([null, undefined, {}, 'sv39', 1n])('%s → EINVAL', (bad) => {
    expect(() => dumpTables(bad as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('leafFlags', () => {
  it('spells each bit in a fixed column', () => {
    expect(leafFlags(0)).toBe('- - - - - - -');
    expect(leafFlags(0xff)).toBe('U R W X G A D');
    expect(leafFlags(LeafBit.WRITE | LeafBit.DIRTY)).toBe('- - W - - - D');
  });
});
