import { describe, expect, it } from 'vitest';
import { PageAllocator, PhysicalMemory, boards } from '../src/index.js';

const PAGE = 4096;
const S_HEAD = 0x1000;
const FREE_HEAD = 0x5001;

// The allocator's internals, as check() sees them: per-section state words and links, list heads, the per-CPU
// list, the owner counters and the section table.
interface Inner {
  st: Uint16Array[];
  ln: Int32Array[];
  heads: Int32Array;
  pcp: Int32Array;
  pcpCount: number;
  kernelPages: number;
  frames: { untouched: number; cursor: number };
}

// check() must catch what it claims to: each case breaks one invariant behind the allocator's back.
function setup() {
  const alloc = new PageAllocator(new PhysicalMemory(boards.ram(1 << 20)), { pageSize: PAGE });
  const block = alloc.alloc(4 * PAGE)!;
  alloc.alloc(PAGE);
  alloc.check();
  const inner = alloc as unknown as Inner;
  const listed = () => inner.heads.findIndex((h) => h >= 0);
  return { alloc, block, inner, st: inner.st[0], ln: inner.ln[0], heads: inner.heads, listed };
}

describe('PageAllocator.check catches a broken invariant', () => {
  it.each<[string, (s: ReturnType<typeof setup>) => void, RegExp]>([
    ['a tail whose flags differ from its head', (s) => (s.st[1] ^= 1 << 5), /flags differing from its head/],
    ['a tail marked as a head', (s) => (s.st[2] |= S_HEAD), /is marked as a head/],
    ['owner accounting off by one page', (s) => (s.inner.kernelPages += 1), /accounts/],
    ['a free block dropped from its list', (s) => (s.heads[s.listed()] = s.ln[s.heads[s.listed()]]), /on no free list|prev/],
    ['old data in a free frame', (s) => s.alloc.mem.write32(0x80000 + 12, 7), /holds old data/],
    ['a free list cycle', (s) => (s.ln[s.heads[s.listed()]] = s.heads[s.listed()]), /cycle|twice|prev/],
    ['a per-CPU frame listed twice', (s) => (s.inner.pcp[0] = s.inner.pcp[1]), /twice|not on the per-CPU list/],
    ['a per-CPU frame lost from the list', (s) => s.inner.pcpCount--, /not on the per-CPU list|marked per-CPU/],
    ['an allocated frame on the per-CPU list', (s) => (s.inner.pcp[0] = s.block.pa / PAGE), /per-CPU (frame|block) .* has state|on a free list/],
    ['a per-CPU frame that is a buddy head', (s) => (s.st[s.inner.pcp[0]] = FREE_HEAD), /per-CPU (frame|block) .* has state/],
    ['old data in a per-CPU frame', (s) => s.alloc.mem.write32(s.inner.pcp[0] * PAGE + 8, 1), /holds old data/],
  ])('%s', (_what, corrupt, message) => {
    const s = setup();
    corrupt(s);
    expect(() => s.alloc.check()).toThrow(message);
  });

  it('a section whose kind or count disagrees with its metadata', () => {
    const big = () => {
      const alloc = new PageAllocator(new PhysicalMemory(boards.ram(2 ** 31)), { pageSize: PAGE });
      alloc.check();
      return { alloc, inner: alloc as unknown as Inner };
    };
    let s = big();
    s.inner.frames.untouched++;
    expect(() => s.alloc.check()).toThrow(/counted untouched/);
    s = big();
    s.inner.st.push(new Uint16Array(0));
    s.inner.ln.push(new Int32Array(2));
    expect(() => s.alloc.check()).toThrow(/state words/);
    s = big();
    s.alloc.allocPa(PAGE);
    s.inner.frames.cursor = 5;
    expect(() => s.alloc.check()).toThrow(/below the cursor/);
    // A section of RAM at a bank's ragged end cannot be untouched: dropping its metadata is caught.
    const alloc = new PageAllocator(new PhysicalMemory(boards.ram(2 ** 28 + 2 ** 20)), { pageSize: PAGE });
    alloc.check();
    const inner = alloc as unknown as Inner;
    inner.st[2] = new Uint16Array(0);
    inner.ln[2] = new Int32Array(0);
    expect(() => alloc.check()).toThrow(/neither metadata nor a whole free block|no live section/);
  });
});
