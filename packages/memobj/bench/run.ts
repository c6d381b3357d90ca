/*
 * memobj benchmarks (DESIGN §5), all in one run on riscv-virt-4g with Sv39:
 * - fork (+ the child's exit) of a process whose 10,000-page private mapping has 10 vs 10,000 touched pages —
 *   target: the cost follows entries and tables, not touched pages;
 * - the cost of a copy-on-write fault, next to a zero-fill fault and a write to a present page;
 * - spawn + exit throughput for a two-segment image.
 * Ratios are measured in the same run and reported, never asserted.
 */
import { MapFlags, Prot } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { Bench } from 'tinybench';
import { createVm } from '../src/index.js';
import type { Process } from '../src/index.js';

const PS = 4096;
const PAGES = 10_000;
const RW = Prot.READ | Prot.WRITE;

const vm = createVm({ arch: sv39, board: 'riscv-virt-4g' });
console.log(`memobj bench: riscv-virt-4g, sv39, node ${process.version}`);

function processWith(touched: number): { p: Process; va: number } {
  const p = vm.spawn();
  const va = p.mmap({ size: PAGES * PS, prot: RW, flags: MapFlags.PRIVATE });
  const step = Math.floor(PAGES / touched);
  for (let i = 0; i < touched; i++) p.write(va + i * step * PS, new Uint8Array([i & 0xff, 1]));
  return { p, va };
}

const few = processWith(10);
const many = processWith(PAGES);

const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('fork+exit, 10 touched pages', () => {
    few.p.fork().exit();
  })
  .add('fork+exit, 10,000 touched pages', () => {
    many.p.fork().exit();
  });
await bench.run();

// Fork alone (children kept until the end of the round, then exited outside the timing).
function forkOnly(p: Process, rounds: number): number {
  const kids: Process[] = [];
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) kids.push(p.fork());
  const t = (performance.now() - t0) / rounds;
  for (const k of kids) k.exit();
  return t;
}
forkOnly(few.p, 20);
forkOnly(many.p, 20);
const forkFew = forkOnly(few.p, 200);
const forkMany = forkOnly(many.p, 200);

// Copy-on-write fault: a fresh child writes one byte to each of 1,000 shared pages (each write a fault + copy).
function perFault(run: (p: Process, va: number, i: number) => void, make: () => { p: Process; va: number; done: () => void }, n = 1000): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const s = make();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) run(s.p, s.va, i);
    best = Math.min(best, ((performance.now() - t0) / n) * 1000);
    s.done();
  }
  return best;
}
const one = new Uint8Array([7]);
const cow = perFault(
  (p, va, i) => p.write(va + i * PS, one),
  () => {
    const c = many.p.fork();
    return { p: c, va: many.va, done: () => c.exit() };
  },
);
const zeroFill = perFault(
  (p, va, i) => p.write(va + i * PS, one),
  () => {
    const p = vm.spawn();
    const va = p.mmap({ size: 1000 * PS, prot: RW, flags: MapFlags.PRIVATE });
    return { p, va, done: () => p.exit() };
  },
);
const present = perFault(
  (p, va, i) => p.write(va + i * PS, one),
  () => {
    const p = vm.spawn();
    const va = p.mmap({ size: 1000 * PS, prot: RW, flags: MapFlags.PRIVATE });
    for (let i = 0; i < 1000; i++) p.write(va + i * PS, one);
    return { p, va, done: () => p.exit() };
  },
);

const image = {
  segments: [
    { vaddr: 0x10000, size: 4 * PS, prot: Prot.READ | Prot.EXEC, data: new Uint8Array(3 * PS).fill(0x90) },
    { vaddr: 0x20000, size: 4 * PS, prot: RW, data: new Uint8Array(100).fill(1) },
  ],
};
const keep = vm.spawn(image); // keeps the image objects alive, as a running program would
const spawnBench = new Bench({ time: 1500, warmupTime: 300 });
spawnBench.add('spawn(image) + touch text and data + exit', () => {
  const p = vm.spawn(image);
  p.read(0x10000, 4);
  p.write(0x20000, one);
  p.exit();
});
await spawnBench.run();
keep.exit();

const hz = (b: Bench, i: number): number => {
  const r = b.tasks[i].result as { throughput?: { mean: number }; error?: unknown } | undefined;
  if (r?.throughput === undefined) throw new Error(`${b.tasks[i].name}: no result (${String(r?.error)})`);
  return r.throughput.mean;
};
const a = hz(bench, 0);
const b = hz(bench, 1);
console.table([
  { what: 'fork+exit, 10 touched', 'ops/s': Math.round(a), 'µs/op': +(1e6 / a).toFixed(1) },
  { what: 'fork+exit, 10,000 touched', 'ops/s': Math.round(b), 'µs/op': +(1e6 / b).toFixed(1) },
  { what: 'fork alone, 10 touched', 'ops/s': Math.round(1000 / forkFew), 'µs/op': +(forkFew * 1000).toFixed(1) },
  { what: 'fork alone, 10,000 touched', 'ops/s': Math.round(1000 / forkMany), 'µs/op': +(forkMany * 1000).toFixed(1) },
  { what: 'write fault: copy-on-write', 'ops/s': Math.round(1e6 / cow), 'µs/op': +cow.toFixed(2) },
  { what: 'write fault: zero fill', 'ops/s': Math.round(1e6 / zeroFill), 'µs/op': +zeroFill.toFixed(2) },
  { what: 'write to a present page', 'ops/s': Math.round(1e6 / present), 'µs/op': +present.toFixed(2) },
  { what: 'spawn+exit', 'ops/s': Math.round(hz(spawnBench, 0)), 'µs/op': +(1e6 / hz(spawnBench, 0)).toFixed(1) },
]);
console.log(`fork+exit 10,000 vs 10 touched pages: ${(a / b).toFixed(2)}× the time (fork alone ${(forkMany / forkFew).toFixed(2)}×)`);
console.log(`copy-on-write fault: ${(cow / zeroFill).toFixed(2)}× a zero-fill fault, ${(cow / present).toFixed(1)}× a write to a present page`);
vm.check();
