/*
 * phys benchmarks (DESIGN §5): page alloc+free against a bare typed-array free-list stack measured in the same
 * run, and boot time plus host memory per frame on riscv-virt-4g. Run with `npm run bench` (needs --expose-gc).
 */
import { Bench } from 'tinybench';
import { PageAllocator, PhysicalMemory, boards } from '../src/index.js';
import type { Frame } from '../src/index.js';

const PAGE = 4096;
const BATCH = 1024;

// A fixed pseudo-random sequence so the allocator and the baseline make the same choices.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** The bare baseline: free frame numbers on a typed-array stack, blocks of one order only. */
class StackAllocator {
  private readonly stack: Int32Array;
  private top = 0;
  constructor(n: number) {
    this.stack = new Int32Array(n);
  }
  alloc(): number {
    return this.top > 0 ? this.stack[--this.top] : -1;
  }
  free(i: number): void {
    this.stack[this.top++] = i;
  }
}

function fragmented(board = boards.get('riscv-virt-64m')) {
  const alloc = new PageAllocator(new PhysicalMemory(board), { pageSize: PAGE });
  const all: Frame[] = [];
  for (let f = alloc.alloc(PAGE); f; f = alloc.alloc(PAGE)) all.push(f);
  // Free every other page in a shuffled order: half of RAM stays live, and no two free pages are buddies.
  const rnd = lcg(7);
  const live: Frame[] = [];
  const dead: Frame[] = [];
  all.forEach((f, i) => (i % 2 === 0 ? live : dead).push(f));
  for (let i = dead.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [dead[i], dead[j]] = [dead[j], dead[i]];
  }
  for (const f of dead) alloc.free(f);
  alloc.check();
  return { alloc, live, free: dead.length };
}

function fmt(hz: number): string {
  return hz >= 1e6 ? `${(hz / 1e6).toFixed(2)} M` : `${(hz / 1e3).toFixed(1)} k`;
}

async function allocFree(boardName: string): Promise<void> {
  console.log(`  -- ${boardName}`);
  const { alloc, live } = fragmented(boards.get(boardName));
  const pas = Float64Array.from(live, (f) => f.pa);
  // The Frame-value workload runs on its own, identically fragmented allocator.
  const { alloc: allocB, live: frames } = fragmented(boards.get(boardName));
  const stack = new StackAllocator(live.length * 2);
  const stackLive = new Int32Array(live.length);
  for (let i = 0; i < live.length; i++) stackLive[i] = i;
  for (let i = live.length; i < live.length * 2; i++) stack.free(i);
  const rndA = lcg(1);
  const rndB = lcg(1);
  const rndC = lcg(1);
  // Each op: allocate one page and free a randomly chosen live one, so the live set stays at half of RAM.
  const bench = new Bench({ time: 800, warmup: true });
  bench
    .add('typed-array free-list stack (baseline)', () => {
      for (let n = 0; n < BATCH; n++) {
        const i = stack.alloc();
        const k = rndB() % stackLive.length;
        stack.free(stackLive[k]);
        stackLive[k] = i;
      }
    })
    .add('PageAllocator allocPa/freePa, 1 page, 50 % live, fragmented', () => {
      for (let n = 0; n < BATCH; n++) {
        const pa = alloc.allocPa(PAGE);
        const k = rndA() % pas.length;
        alloc.freePa(pas[k]);
        pas[k] = pa;
      }
    })
    .add('PageAllocator alloc/free (Frame values), same workload', () => {
      for (let n = 0; n < BATCH; n++) {
        const f = allocB.alloc(PAGE)!;
        const k = rndC() % frames.length;
        allocB.free(frames[k]);
        frames[k] = f;
      }
    });
  await bench.run();
  alloc.check();
  allocB.check();
  report(bench, `page alloc+free, 1 page (addresses), ${boardName}`, 1 / 3);
}

async function mixedOrders(): Promise<void> {
  // 2048 live blocks of 1..16 pages: about 12 000 pages, 3/4 of a 64 MiB board.
  const LIVE = 2048;
  const alloc = new PageAllocator(new PhysicalMemory(boards.get('riscv-virt-64m')), { pageSize: PAGE });
  const rnd = lcg(3);
  const live = new Float64Array(LIVE);
  for (let i = 0; i < LIVE; i++) live[i] = alloc.allocPa(PAGE << (rnd() % 5));
  const stacks = [0, 1, 2, 3, 4].map(() => new StackAllocator(1 << 16));
  const stackLive = new Int32Array(LIVE);
  const stackOrder = new Uint8Array(LIVE);
  for (let o = 0; o < 5; o++) for (let i = 0; i < 8192; i++) stacks[o].free(o * 100000 + i);
  for (let i = 0; i < LIVE; i++) {
    stackOrder[i] = rnd() % 5;
    stackLive[i] = stacks[stackOrder[i]].alloc();
  }
  const rndA = lcg(4);
  const rndB = lcg(4);
  const bench = new Bench({ time: 800, warmup: true });
  bench
    .add('per-order typed-array stacks (baseline)', () => {
      for (let n = 0; n < BATCH; n++) {
        const r = rndB();
        const k = r % LIVE;
        const o = (r >>> 12) % 5;
        stacks[stackOrder[k]].free(stackLive[k]);
        stackLive[k] = stacks[o].alloc();
        stackOrder[k] = o;
      }
    })
    .add('PageAllocator mixed orders 0..4 alloc+free', () => {
      for (let n = 0; n < BATCH; n++) {
        const r = rndA();
        const k = r % LIVE;
        alloc.freePa(live[k]);
        live[k] = alloc.allocPa(PAGE << ((r >>> 12) % 5));
      }
    });
  await bench.run();
  alloc.check();
  report(bench, 'mixed-order alloc+free', 1 / 3);
}

function report(bench: Bench, what: string, target: number): void {
  const hz = bench.tasks.map((t) => {
    const r = t.result as { throughput?: { mean: number }; hz?: number } | undefined;
    return (r?.throughput?.mean ?? r?.hz ?? 0) * BATCH;
  });
  bench.tasks.forEach((t, i) => {
    console.log(`  ${t.name.padEnd(62)} ${fmt(hz[i])}ops/s  ${(hz[i] / hz[0]).toFixed(2)}× baseline`);
  });
  const ratio = hz[1] / hz[0];
  console.log(`  ${what}: ${ratio.toFixed(2)}× the baseline (target ≥ ${target.toFixed(2)}×) ${ratio >= target ? 'OK' : 'BELOW TARGET'}`);
}

function bootMemory(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('  boot memory: run with node --expose-gc to measure');
    return;
  }
  const board = boards.get('riscv-virt-4g');
  gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PAGE });
  const ms = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  const delta = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  const frames = alloc.info().total / PAGE;
  const perFrame = delta / frames;
  console.log(`  riscv-virt-4g: ${frames} frames, boot ${ms.toFixed(1)} ms`);
  console.log(
    `  host memory: ${(delta / 2 ** 20).toFixed(2)} MiB, ${perFrame.toFixed(2)} B/frame ` +
      `(targets ≤ 16 B/frame, ≤ 24 MiB) ${perFrame <= 16 && delta <= 24 * 2 ** 20 ? 'OK' : 'ABOVE TARGET'}`,
  );
  // Keep both alive until measured.
  if (alloc.info().total === 0) console.log(mem.backedBytes);
}

console.log('@vmlayers/phys benchmarks');
bootMemory();
await allocFree('riscv-virt-64m');
await allocFree('riscv-virt-4g');
await mixedOrders();
