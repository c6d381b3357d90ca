/*
 * pmap-nommu benchmark (DESIGN §5, translate): a batch of N random accesses checked by `translate` against N
 * `Uint32Array` reads at the same indices, in the same run. There is no TLB on an MPU: every access is a region
 * lookup (highest enabled region first) plus the board check, so there is one figure, not a hit and a miss one.
 * Run with `npm run bench`.
 */
import { Bench } from 'tinybench';
import { Access, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { MpuAp, armv7m } from '../src/index.js';

const N = 4096;
const SRAM = 0x2000_0000;
const SRAM_SIZE = 512 * 1024;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

const board = boards.get('stm32-512k');
const mem = new PhysicalMemory(board);
const kernel = armv7m.createKernel(mem, new PageAllocator(mem, { pageSize: armv7m.pageSize }), board);
const user = armv7m.createUser(kernel);
// Five more regions in the free slots (stack guards), so that a lookup walks a full 8-region MPU.
for (let n = 3; n < 8; n++) {
  kernel.mpu.program(n, { base: SRAM + 0x1_0000 * n, size: 512, ap: MpuAp.NO_ACCESS, xn: true });
  user.addRegion(n);
}
user.activate();

const rnd = lcg(42);
const vas = new Float64Array(N);
const idx = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const off = (rnd() % (SRAM_SIZE / 4)) * 4;
  vas[i] = SRAM + off;
  idx[i] = off >>> 2;
}
const words = new Uint32Array(SRAM_SIZE / 4);
for (let i = 0; i < words.length; i++) words[i] = i;

let sink = 0;
const access = Access.READ | Access.USER;
const bench = new Bench({ time: 800, warmup: true });
bench
  .add('Uint32Array reads (baseline)', () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += words[idx[i]];
    sink ^= s;
  })
  .add('translate, user read, 8 enabled regions', () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += user.translate(vas[i], access);
    sink ^= s;
  })
  .add('translate, supervisor read, kernel space (background map)', () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += kernel.translate(vas[i], Access.READ);
    sink ^= s;
  });

await bench.run();
const hz = (name: string): number => {
  const t = bench.tasks.find((x) => x.name === name);
  const r = t?.result as { throughput?: { mean: number }; hz?: number } | undefined;
  return r?.throughput?.mean ?? r?.hz ?? Number.NaN;
};
const base = hz('Uint32Array reads (baseline)');
console.log(`pmap-nommu translate, batches of ${N} accesses (sink ${sink & 1})`);
for (const t of bench.tasks) {
  const h = hz(t.name);
  console.log(`  ${t.name.padEnd(60)} ${(h * N / 1e6).toFixed(1).padStart(8)} M accesses/s  ${(base / h).toFixed(2)}× baseline time`);
}
