/*
 * pmap-mmu benchmarks (DESIGN §5), shared by `translate-sv39.bench.ts` and `translate-ia32.bench.ts`: each format
 * runs in a process of its own (the harness runs each bench module in one), so the library's translate code is
 * optimised with one format's feedback, as in an emulator of one architecture — measured in one process, the second
 * format's rows ran on code V8 had made polymorphic for the first (its miss about 1.3× slower). Rows: translation
 * of random pages from a TLB-hit set and a TLB-miss set. A hit is
 * compared with a `Uint32Array` read at the same indices (a flat array spanning the same memory), a miss with a
 * hit, all in the same run; enter+remove with tables kept vs built and freed.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them. It cannot import
 * the harness (testkit depends on pmap-mmu), so the rows are plain objects of the harness's `BenchRow` shape.
 */
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { frameViewsAvailable } from '../src/internal/frame-words.js';
import { TLB_SIZE } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

export const TITLE = 'translation (random accesses; TLB-hit set 64 pages, TLB-miss set 16384 pages)';

const PS = 4096;
const N = 4096; // accesses per set, cycled
const MASK = N - 1;
const HIT_PAGES = 64; // consecutive pages: distinct TLB slots, so after warm-up every access hits
const MISS_PAGES = 16384; // 64 MiB of virtual space over a 256-slot TLB: ~98 % of accesses miss
const BASE = 0x40_0000;
const RWU = PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER;
const ACCESS = Access.READ | Access.USER;

function setup(factory: PmapFactory, pages: number) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board);
  const user = factory.createUser(kernel) as MmuPmap;
  const frames: number[] = [];
  for (let i = 0; i < Math.min(pages, 2048); i++) frames.push(alloc.alloc(PS, { owner: PageOwner.APP })!.pa);
  for (let p = 0; p < pages; p++) {
    if (user.enter(frames[p % frames.length], BASE + p * PS, RWU) !== 0) throw new Error('enter failed');
  }
  return { mem, alloc, user };
}

// Random (page, word) pairs: the virtual addresses to translate and the matching Uint32Array indices.
function workload(pages: number, seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const vas = new Float64Array(N);
  const flat = new Uint32Array(N); // word index into a flat array of the same span
  const byPage = new Uint32Array(N); // page index into a one-word-per-page array
  for (let i = 0; i < N; i++) {
    // high bits: the low bits of an LCG cycle with a short period
    const page = (next() >>> 10) % pages;
    const word = (next() >>> 12) % 1024;
    vas[i] = BASE + page * PS + word * 4;
    flat[i] = page * 1024 + word;
    byPage[i] = page;
  }
  // The same addresses as uint32s (every address of these sets is below 4 GiB): what the target rows use, so the
  // candidate takes its address from the same kind of array as the baseline its index.
  return { vas, vas32: Uint32Array.from(vas), flat, byPage };
}

function translateOp(user: MmuPmap, vas: Float64Array) {
  return (i: number) => user.translate(vas[i & MASK], ACCESS);
}

// The same with the addresses in a Uint32Array (every address of these sets is below 4 GiB): the caller hands
// translate an integer, as an emulator holding guest addresses in int registers does, instead of a double the
// hit path must convert. A function of its own, so its loads are not polymorphic with the double rows'.
function translateOp32(user: MmuPmap, vas: Uint32Array) {
  return (i: number) => user.translate(vas[i & MASK], ACCESS);
}

// The exported fast path as an emulator inlines it (README, "The exported fast path"): the hit test on the TLB's own
// arrays — two loads from one slot — and `translate` on a miss; `need` is the access code's kinds in its mode's byte,
// a constant at each call site.
const NEED = (ACCESS & 7) << (ACCESS & 8);

function viewOp32(user: MmuPmap, vas: Uint32Array) {
  const { entries, mask } = user.tlbView();
  return (i: number) => {
    const va = vas[i & MASK];
    const k = ((va >>> 12) & mask) << 2;
    const w = entries[k + 1];
    return entries[k] === va >>> 12 && (w & NEED) === NEED ? ((w & -4096) | (va & 4095)) >>> 0 : user.translate(va, ACCESS);
  };
}

// The same with double addresses. ia32 addresses are 32-bit, so its page number is `va >>> 12`; Sv39's may reach 2^38.
function viewOp(user: MmuPmap, vas: Float64Array, wide: boolean) {
  const { entries, mask } = user.tlbView();
  if (wide) {
    return (i: number) => {
      const va = vas[i & MASK];
      const k = ((va >>> 12) & mask) << 2;
      const w = entries[k + 1];
      return entries[k] === Math.floor(va / 4096) && (w & NEED) === NEED ? ((w & -4096) | (va & 4095)) >>> 0 : user.translate(va, ACCESS);
    };
  }
  return (i: number) => {
    const va = vas[i & MASK];
    const k = ((va >>> 12) & mask) << 2;
    const w = entries[k + 1];
    return entries[k] === va >>> 12 && (w & NEED) === NEED ? ((w & -4096) | (va & 4095)) >>> 0 : user.translate(va, ACCESS);
  };
}

export function* translation(factory: PmapFactory, hitTarget: number): Generator<object | string> {
  const view = setup(factory, HIT_PAGES);
  const hit = setup(factory, HIT_PAGES);
  const hw = workload(HIT_PAGES, 11);
  const miss = setup(factory, MISS_PAGES);
  const mw = workload(MISS_PAGES, 13);
  const flatArray = new Uint32Array(HIT_PAGES * 1024).fill(1);
  const pageArray = new Uint32Array(HIT_PAGES).fill(1);
  const { flat, byPage, vas32 } = hw;
  // Both sides of each target row take their input the same way: one load from a Uint32Array (the candidate's
  // address, the baseline's word index), then the work, folded into the loop's int by the harness.
  const hitOp = translateOp32(hit.user, vas32);
  const h0 = hit.user.stats();
  const m0 = miss.user.stats();
  yield {
    name: `${factory.name} translate TLB hit vs Uint32Array read`,
    candidate: hitOp,
    baseline: (i: number) => flatArray[flat[i & MASK]],
    measure: 'time',
    target: { atMost: hitTarget },
  };
  yield {
    name: `${factory.name} translate TLB hit vs one-word-per-page read`,
    candidate: hitOp,
    baseline: (i: number) => pageArray[byPage[i & MASK]],
    measure: 'time',
  };
  const vw = view.user.tlbView();
  yield {
    name: `${factory.name} inline tlbView() hit vs Uint32Array read`,
    candidate: viewOp32(view.user, vas32),
    baseline: (i: number) => flatArray[flat[i & MASK]],
    measure: 'time',
    target: { atMost: 2.5 },
  };
  if (view.user.tlbView() !== vw || vw.entries !== view.user.tlbView().entries) throw new Error('tlbView changed');
  yield {
    name: `${factory.name} translate TLB miss vs TLB hit`,
    candidate: translateOp32(miss.user, mw.vas32),
    baseline: hitOp,
    measure: 'time',
    target: { atMost: 6 },
  };
  // The first build's rows: addresses from a Float64Array, so the candidate also pays the double→int conversion
  // the baseline (an integer index) does not.
  yield {
    name: `${factory.name} translate TLB hit, double addresses, vs Uint32Array read`,
    candidate: translateOp(hit.user, hw.vas),
    baseline: (i: number) => flatArray[flat[i & MASK]],
    measure: 'time',
  };
  yield {
    name: `${factory.name} inline tlbView() hit, double addresses, vs Uint32Array read`,
    candidate: viewOp(view.user, hw.vas, factory.name === 'sv39'),
    baseline: (i: number) => flatArray[flat[i & MASK]],
    measure: 'time',
  };
  const h1 = hit.user.stats();
  const m1 = miss.user.stats();
  const rate = (a: typeof h0, b: typeof h0) => {
    const hits = b.tlbHits - a.tlbHits;
    const misses = b.tlbMisses - a.tlbMisses;
    return `${((100 * hits) / (hits + misses)).toFixed(1)} %`;
  };
  const views = frameViewsAvailable(miss.mem) ? 'typed-array views of the table frames' : 'read32/write32 (no views: PhysicalMemory changed)';
  yield `${factory.name}: TLB ${TLB_SIZE} slots; measured hit rate ${rate(h0, h1)} (hit set), ${rate(m0, m1)} (miss set); misses read PTEs through ${views}`;
}

export function* enterRemove(factory: PmapFactory): Generator<object> {
  const { user, alloc } = setup(factory, 0);
  const frame = alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  const PAGES = 1024;
  // A page kept mapped at the far end of the same tables: the remove below empties no table.
  const kept = BASE + 4 * 1024 * 1024 - PS;
  yield {
    name: `${factory.name} enter+remove 1024 pages, tables built vs kept`,
    candidate: () => {
      user.remove(kept, kept + PS);
      for (let p = 0; p < PAGES; p++) user.enter(frame, BASE + p * PS, RWU);
      user.remove(BASE, BASE + PAGES * PS);
    },
    baseline: () => {
      user.enter(frame, kept, RWU);
      for (let p = 0; p < PAGES; p++) user.enter(frame, BASE + p * PS, RWU);
      user.remove(BASE, BASE + PAGES * PS);
    },
    measure: 'time',
  };
}
