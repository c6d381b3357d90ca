/*
 * kmalloc benchmark (DESIGN §5): kmalloc/kfree against @thi.ng/malloc's MemPool on the same mixed 16 B–4 KiB
 * churn with a live set, in the same run; ops/s and memory overhead (bytes held ÷ live bytes requested) for both.
 */
import { MemPool } from '@thi.ng/malloc';
import { Bench } from 'tinybench';
import { Kmalloc } from '../src/index.js';
import { ARCHS } from '@vmlayers/testkit';
import { bootKernelMap } from '../test/kernels.js';

const LIVE = 4096;
const OPS = 1 << 16;
const BATCH = 1024;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

// Log-uniform sizes from 16 B to 4 KiB: as many small structures as large buffers per octave.
const rnd = lcg(42);
const sizeOf = () => Math.floor(16 * 2 ** ((rnd() / 2 ** 32) * 8));
const initial = Uint32Array.from({ length: LIVE }, sizeOf);
const sizes = Uint32Array.from({ length: OPS }, sizeOf);
const victims = Uint32Array.from({ length: OPS }, () => rnd() % LIVE);

interface Allocator {
  malloc(n: number): number;
  free(p: number): void;
}

function churn(a: Allocator, live: Float64Array, liveSize: Uint32Array, cursor: { i: number }): void {
  for (let n = 0; n < BATCH; n++) {
    const i = cursor.i;
    cursor.i = (i + 1) & (OPS - 1);
    const k = victims[i];
    a.free(live[k]);
    live[k] = a.malloc(sizes[i]);
    liveSize[k] = sizes[i];
  }
}

function setup(a: Allocator) {
  const live = new Float64Array(LIVE);
  const liveSize = Uint32Array.from(initial);
  for (let k = 0; k < LIVE; k++) live[k] = a.malloc(initial[k]);
  return { live, liveSize, cursor: { i: 0 } };
}

// kmalloc on the real kernel map of a RISC-V Sv39 board: zone pages are mapped through page tables in RAM.
const kernel = bootKernelMap(ARCHS.find((a) => a.name === 'sv39')!);
const km = new Kmalloc(kernel);
const kmA: Allocator = { malloc: (n) => km.kmalloc(n), free: (p) => km.kfree(p) };
const pool = new MemPool({ size: 64 << 20 });
const poolA: Allocator = {
  malloc: (n) => {
    const p = pool.malloc(n);
    if (p === 0) throw new Error('MemPool out of memory');
    return p;
  },
  free: (p) => void pool.free(p),
};
const kmState = setup(kmA);
const poolState = setup(poolA);

const bench = new Bench({ time: 1000, warmup: true });
bench
  .add('@thi.ng/malloc MemPool malloc/free (baseline)', () => churn(poolA, poolState.live, poolState.liveSize, poolState.cursor))
  .add('@vmlayers/kmalloc kmalloc/kfree', () => churn(kmA, kmState.live, kmState.liveSize, kmState.cursor));
await bench.run();
km.check();

const hz = bench.tasks.map((t) => {
  const r = t.result as { throughput?: { mean: number }; hz?: number } | undefined;
  return (r?.throughput?.mean ?? r?.hz ?? 0) * BATCH;
});
console.log('@vmlayers/kmalloc benchmarks: mixed 16 B–4 KiB churn, 4096 live blocks');
bench.tasks.forEach((t, i) => console.log(`  ${t.name.padEnd(48)} ${(hz[i] / 1e6).toFixed(2)} M ops/s  ${(hz[i] / hz[0]).toFixed(2)}× baseline`));
console.log(`  kmalloc is ${(hz[1] / hz[0]).toFixed(2)}× MemPool (target > 1) ${hz[1] > hz[0] ? 'OK' : 'BELOW TARGET'}`);

const requested = (s: Uint32Array) => s.reduce((t, v) => t + v, 0);
const kmHeld = km.stats().bytes;
const kmReq = requested(kmState.liveSize);
const ps = pool.stats();
const poolReq = requested(poolState.liveSize);
console.log(`  overhead (bytes held ÷ live bytes requested):`);
console.log(`    kmalloc  ${(kmHeld / kmReq).toFixed(2)}  (${(kmHeld / 2 ** 20).toFixed(2)} MiB of zone pages for ${(kmReq / 2 ** 20).toFixed(2)} MiB live)`);
console.log(`    MemPool  ${((ps.top - 8) / poolReq).toFixed(2)}  (heap top ${(ps.top / 2 ** 20).toFixed(2)} MiB; used blocks ${(ps.used.size / poolReq).toFixed(2)}×, free list ${(ps.free.size / 2 ** 20).toFixed(2)} MiB)`);

// What finer classes would gain: the live set rounded to power-of-two classes vs to four classes per octave.
const pow2 = (n: number) => (n <= 16 ? 16 : 2 ** Math.ceil(Math.log2(n)));
const quarter = (n: number) => {
  if (n <= 16) return 16;
  const step = 2 ** (Math.ceil(Math.log2(n)) - 3);
  return Math.ceil(n / step) * step;
};
const p2 = kmState.liveSize.reduce((t, v) => t + pow2(v), 0);
const q4 = kmState.liveSize.reduce((t, v) => t + quarter(v), 0);
console.log(
  `  rounding alone: power-of-two classes hold ${(p2 / kmReq).toFixed(2)}× the request; ` +
    `four classes per octave would hold ${(q4 / kmReq).toFixed(2)}× (${((1 - q4 / p2) * 100).toFixed(0)} % less)`,
);
