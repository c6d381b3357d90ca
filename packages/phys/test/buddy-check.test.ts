import { describe, expect, it } from 'vitest';
import { PageAllocator, PhysicalMemory, boards } from '../src/index.js';

const PAGE = 4096;

// check() must catch what it claims to: each case breaks one invariant behind the allocator's back.
function setup() {
  const alloc = new PageAllocator(new PhysicalMemory(boards.ram(1 << 20)), { pageSize: PAGE });
  const block = alloc.alloc(4 * PAGE)!;
  alloc.alloc(PAGE);
  alloc.check();
  const inner = alloc as unknown as { meta: Int32Array; heads: Int32Array; owned: Float64Array };
  return { alloc, block, ...inner };
}

describe('PageAllocator.check catches a broken invariant', () => {
  it.each<[string, (s: ReturnType<typeof setup>) => void, RegExp]>([
    ['a tail whose flags differ from its head', (s) => (s.meta[1 * 3 + 2] ^= 1 << 9), /flags differing from its head/],
    ['a tail marked as a head', (s) => (s.meta[2 * 3 + 2] = (s.meta[2 * 3 + 2] & ~0xff) | 0), /is marked as a head/],
    ['owner accounting off by one page', (s) => (s.owned[1] += 1), /accounts/],
    ['a free block dropped from its list', (s) => (s.heads[0] = s.meta[s.heads[0] * 3]), /on no free list|prev/],
    ['old data in a free frame', (s) => s.alloc.mem.write32(0x80000 + 12, 7), /holds old data/],
    ['a free list cycle', (s) => (s.meta[s.heads[3] * 3] = s.heads[3]), /cycle|twice|prev/],
  ])('%s', (_what, corrupt, message) => {
    const s = setup();
    corrupt(s);
    expect(() => s.alloc.check()).toThrow(message);
  });
});
