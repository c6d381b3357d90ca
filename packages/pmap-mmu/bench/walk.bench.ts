/*
 * The page-table walkers (src/walk): translation of random pages from a TLB-hit set and a TLB-miss set, for each
 * format, over tables written by hand into PhysicalMemory (the walkers' use: a guest wrote them). A hit is compared
 * with a `Uint32Array` read at the same indices (a flat array spanning the same memory), a miss with a hit of the
 * same walker, as in translate.ts's pmap rows. All eight walkers run in this one process: the three RISC-V formats
 * share one class (and one `translate`), as do the three x86 ones, so each class's code is optimised with all three
 * formats' feedback — as in an emulator that can switch modes; the two ARM formats have a class each. The figures after each format are the measured TLB
 * hit rates of the two sets. Run: `node --expose-gc --import tsx ../testkit/src/bench-cli.ts bench/walk.bench.ts`
 * (`WALK_BENCH_FORMATS=sv39` in the environment for one format alone).
 */
import { Access, PhysicalMemory, boards } from '@vmlayers/phys';
import { createWalker } from '../src/walk/create-walker.js';
import { WALK_FORMATS } from '../src/walk/types.js';
import type { PageWalker, WalkFormat } from '../src/walk/types.js';

export const title = 'page-table walkers (random accesses; TLB-hit set 64 pages, TLB-miss set 16384 pages, 256-slot TLB)';

const PS = 4096;
const N = 4096; // accesses per set, cycled
const MASK = N - 1;
const HIT_PAGES = 64;
const MISS_PAGES = 16384; // 64 MiB of virtual space over 256 slots: ~98 % of accesses miss
const BASE = 0x40_0000;
const RAM = 0x8000_0000;
const FRAMES = 2048;
const ACCESS = Access.READ | Access.USER;

interface Encoding {
  readonly levels: number;
  readonly size: 4 | 8;
  index(va: number, level: number): number;
  pointer(pa: number, level: number): number; // the low word; the high word is 0 below 4 GiB
  leaf(pa: number): number;
  frame(entry: number): number; // the table a pointer's low word points to
}

// Hand encodings (bench only; the tests write theirs from the manuals the same way).
const riscv = (levels: number, size: 4 | 8, bits: number): Encoding => ({
  levels,
  size,
  index: (va, l) => Math.floor(va / 2 ** (12 + bits * l)) & (2 ** bits - 1),
  pointer: (pa) => ((pa / 4096) * 1024 + 0x01) >>> 0, // V
  leaf: (pa) => ((pa / 4096) * 1024 + 0xdf) >>> 0, // V R W X U A D
  frame: (e) => (e >>> 10) * 4096,
});
const x86 = (levels: number, size: 4 | 8, pae: boolean): Encoding => ({
  levels,
  size,
  index: (va, l) => (size === 4 ? (va >>> (12 + 10 * l)) & 1023 : Math.floor(va / 2 ** (12 + 9 * l)) & (pae && l === 2 ? 3 : 511)),
  pointer: (pa, l) => (pa | (pae && l === 2 ? 0x1 : 0x7)) >>> 0, // PAE PDPTE: P only
  leaf: (pa) => (pa | 0x67) >>> 0, // P RW US A D
  frame: (e) => (e & ~0xfff) >>> 0,
});
// ARMv7-A short descriptors: a page-table L1 entry (bits[1:0] = 01, domain 0) and a small page (bits[1:0] = 1x)
// with AP[1:0] = 11 (full access).
const armv7a: Encoding = {
  levels: 2,
  size: 4,
  index: (va, l) => (l === 1 ? va >>> 20 : (va >>> 12) & 255),
  pointer: (pa) => (pa | 0x1) >>> 0,
  leaf: (pa) => (pa | 0x32) >>> 0,
  frame: (e) => (e & ~0x3ff) >>> 0,
};
// AArch64: table descriptors (bits[1:0] = 11) and pages (11) with AF (bit 10) and AP[2:1] = 01 (EL0 read/write).
const aarch64: Encoding = {
  levels: 4,
  size: 8,
  index: (va, l) => Math.floor(va / 2 ** (12 + 9 * l)) & 511,
  pointer: (pa) => (pa | 0x3) >>> 0,
  leaf: (pa) => (pa | 0x443) >>> 0,
  frame: (e) => (e & ~0xfff) >>> 0,
};
const ENCODINGS: Record<WalkFormat, Encoding> = {
  sv32: riscv(2, 4, 10),
  sv39: riscv(3, 8, 9),
  sv48: riscv(4, 8, 9),
  ia32: x86(2, 4, false),
  pae: x86(3, 8, true),
  'x86-64': x86(4, 8, false),
  'armv7a-short': armv7a,
  aarch64,
};

function setup(format: WalkFormat, pages: number) {
  const mem = new PhysicalMemory(boards.ram(256 * 1024 * 1024, RAM));
  const enc = ENCODINGS[format];
  let next = RAM + FRAMES * PS; // tables after the data frames
  const table = () => ((next += PS), next - PS);
  const root = table();
  for (let p = 0; p < pages; p++) {
    const va = BASE + p * PS;
    let t = root;
    for (let l = enc.levels - 1; l > 0; l--) {
      const addr = t + enc.index(va, l) * enc.size;
      let e = mem.read32(addr);
      if (e === 0) mem.write32(addr, (e = enc.pointer(table(), l)));
      t = enc.frame(e);
    }
    mem.write32(t + enc.index(va, 0) * enc.size, enc.leaf(RAM + (p % FRAMES) * PS));
  }
  return { mem, root, walker: createWalker(format, mem) as PageWalker };
}

function workload(pages: number, seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const vas = new Uint32Array(N);
  const flat = new Uint32Array(N);
  for (let i = 0; i < N; i++) {
    const page = (next() >>> 10) % pages;
    const word = (next() >>> 12) % 1024;
    vas[i] = BASE + page * PS + word * 4;
    flat[i] = page * 1024 + word;
  }
  return { vas, flat };
}

function op(w: PageWalker, root: number, vas: Uint32Array) {
  return (i: number) => w.translate(root, vas[i & MASK], ACCESS);
}

export default function* suite(): Generator<object | string> {
  const flatArray = new Uint32Array(HIT_PAGES * 1024).fill(1);
  const hw = workload(HIT_PAGES, 11);
  const mw = workload(MISS_PAGES, 13);
  // WALK_BENCH_FORMATS=sv39,ia32 runs only those (one format per process measures it as an emulator of one
  // architecture runs it, with no other format's feedback in the shared classes).
  const only = process.env.WALK_BENCH_FORMATS?.split(',');
  for (const format of WALK_FORMATS) {
    if (only !== undefined && !only.includes(format)) continue;
    const hit = setup(format, HIT_PAGES);
    const miss = setup(format, MISS_PAGES);
    const hitOp = op(hit.walker, hit.root, hw.vas);
    const h0 = hit.walker.stats();
    const m0 = miss.walker.stats();
    yield {
      name: `${format} walker translate TLB hit vs Uint32Array read`,
      candidate: hitOp,
      baseline: (i: number) => flatArray[hw.flat[i & MASK]],
      measure: 'time',
    };
    yield {
      name: `${format} walker translate TLB miss vs TLB hit`,
      candidate: op(miss.walker, miss.root, mw.vas),
      baseline: hitOp,
      measure: 'time',
    };
    const h1 = hit.walker.stats();
    const m1 = miss.walker.stats();
    const rate = (a: typeof h0, b: typeof h0) => (100 * (b.hits - a.hits)) / (b.hits - a.hits + b.misses - a.misses);
    yield { name: `${format} walker TLB hit rate, hit set`, value: Number(rate(h0, h1).toFixed(2)), unit: '%' };
    yield { name: `${format} walker TLB hit rate, miss set`, value: Number(rate(m0, m1).toFixed(2)), unit: '%' };
  }
}
