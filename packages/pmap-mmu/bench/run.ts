/*
 * pmap-mmu benchmarks (DESIGN §5): batched translation of random pages, TLB-hit set and TLB-miss set, each as a
 * ratio to N Uint32Array reads at the same indices measured in the same run; enter/remove throughput.
 * Run with `npm run bench`.
 */
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { Bench } from 'tinybench';
import { TLB_SIZE, ia32, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const PS = 4096;
const N = 4096;
const HIT_PAGES = 64; // consecutive pages: distinct TLB slots, so after warm-up every access hits
const MISS_PAGES = 16384; // 64 MiB of virtual space over a 256-slot TLB: ~98 % of accesses miss
const BASE = 0x40_0000;
const RWU = PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER;
const ACCESS = Access.READ | Access.USER;
const ROUNDS = 7;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

function fmt(hz: number): string {
  return hz >= 1e6 ? `${(hz / 1e6).toFixed(2)} M` : `${(hz / 1e3).toFixed(1)} k`;
}

function opsPerSecond(bench: Bench, perCall: number): number[] {
  return bench.tasks.map((t) => {
    const r = t.result as { throughput?: { mean: number }; hz?: number } | undefined;
    return (r?.throughput?.mean ?? r?.hz ?? 0) * perCall;
  });
}

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
  return { mem, alloc, kernel, user };
}

// Random (page, word) pairs: the virtual addresses to translate and the matching Uint32Array indices.
function workload(pages: number, seed: number) {
  const rnd = lcg(seed);
  const vas = new Float64Array(N);
  const flat = new Int32Array(N); // word index into a flat array of the same span
  const byPage = new Int32Array(N); // page index into a one-word-per-page array
  for (let i = 0; i < N; i++) {
    // high bits: the low bits of an LCG cycle with a short period
    const page = (rnd() >>> 10) % pages;
    const word = (rnd() >>> 12) % 1024;
    vas[i] = BASE + page * PS + word * 4;
    flat[i] = page * 1024 + word;
    byPage[i] = page;
  }
  return { vas, flat, byPage };
}

let sink = 0;

// The measured loops take their data as arguments: closures over constants would let V8 specialise one loop to
// its captured arrays and not another, and the ratios would measure that instead.
function readLoop(array: Uint32Array, index: Int32Array): number {
  let s = 0;
  for (let i = 0; i < N; i++) s += array[index[i]];
  return s;
}

function translateLoop(pmap: MmuPmap, vas: Float64Array): number {
  let s = 0;
  for (let i = 0; i < N; i++) s += pmap.translate(vas[i], ACCESS);
  return s;
}

async function translation(factory: PmapFactory, kind: 'hit' | 'miss'): Promise<number> {
  const pages = kind === 'hit' ? HIT_PAGES : MISS_PAGES;
  const { user } = setup(factory, pages);
  const { vas, flat, byPage } = workload(pages, kind === 'hit' ? 11 : 13);
  const flatArray = new Uint32Array(pages * 1024).fill(1);
  const pageArray = new Uint32Array(pages).fill(1);
  for (let i = 0; i < N; i++) user.translate(vas[i], ACCESS);
  const s0 = user.stats();
  // The host is shared and its speed drifts: measure in short rounds, each baseline next to its translate loop,
  // and keep the median of each figure and of the per-round ratios.
  const rounds: number[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bench = new Bench({ time: 150, warmup: true });
    bench
      .add('Uint32Array reads, flat array of the same span (baseline)', () => {
        sink += readLoop(flatArray, flat);
      })
      .add('Uint32Array reads, one word per page', () => {
        sink += readLoop(pageArray, byPage);
      })
      .add(`${factory.name} translate, TLB-${kind} set`, () => {
        sink += translateLoop(user, vas);
      });
    await bench.run();
    rounds.push(opsPerSecond(bench, N));
  }
  const s1 = user.stats();
  const hits = s1.tlbHits - s0.tlbHits;
  const misses = s1.tlbMisses - s0.tlbMisses;
  const names = ['Uint32Array reads, flat array of the same span (baseline)', 'Uint32Array reads, one word per page', `${factory.name} translate, TLB-${kind} set`];
  const hz = names.map((_, i) => median(rounds.map((r) => r[i])));
  const ratio = median(rounds.map((r) => r[0] / r[2]));
  const ratioPage = median(rounds.map((r) => r[1] / r[2]));
  const target = kind === 'hit' ? 3 : 15;
  console.log(
    `  ${factory.name}, TLB-${kind} set (${pages} pages, TLB ${TLB_SIZE} slots, measured hit rate ${((100 * hits) / (hits + misses)).toFixed(1)} %, median of ${ROUNDS} rounds)`,
  );
  names.forEach((name, i) => console.log(`    ${name.padEnd(60)} ${fmt(hz[i])}ops/s`));
  console.log(
    `    translate costs ${ratio.toFixed(2)}× a flat-array read (target ≤ ${target}×) ${ratio <= target ? 'OK' : 'ABOVE TARGET'}; ` +
      `${ratioPage.toFixed(2)}× a one-word-per-page read (rounds: ${rounds.map((r) => (r[0] / r[2]).toFixed(1)).join(' ')})`,
  );
  return ratio;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function enterRemove(factory: PmapFactory): Promise<void> {
  const { user, alloc } = setup(factory, 0);
  const frame = alloc.alloc(PS, { owner: PageOwner.APP })!.pa;
  const PAGES = 1024;
  // A page kept mapped at the far end of the same tables: the remove below empties no table.
  const bench = new Bench({ time: 600, warmup: true });
  const kept = BASE + 4 * 1024 * 1024 - PS;
  bench
    .add(`${factory.name} enter + remove, tables kept (per page)`, () => {
      user.enter(frame, kept, RWU);
      for (let p = 0; p < PAGES; p++) user.enter(frame, BASE + p * PS, RWU);
      user.remove(BASE, BASE + PAGES * PS);
    })
    .add(`${factory.name} enter + remove, tables built and freed (per page)`, () => {
      user.remove(kept, kept + PS);
      for (let p = 0; p < PAGES; p++) user.enter(frame, BASE + p * PS, RWU);
      user.remove(BASE, BASE + PAGES * PS);
    });
  await bench.run();
  const hz = opsPerSecond(bench, PAGES);
  bench.tasks.forEach((t, i) => console.log(`    ${t.name.padEnd(60)} ${fmt(hz[i])}pages/s`));
}

console.log('@vmlayers/pmap-mmu benchmarks');
for (const f of [sv39, ia32]) {
  await translation(f, 'hit');
  await translation(f, 'miss');
  await enterRemove(f);
}
if (sink === 42) console.log('');
