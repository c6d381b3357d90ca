/*
 * mapper benchmarks (DESIGN §5): mmap+munmap and fault cost with 100 and with 100 000 non-mergeable entries in
 * the map (neighbours alternate prot so that nothing merges), riscv-virt-4g with Sv39, both measured in the same
 * run. Target: ≤ 2× growth. Run with `npm run bench` (needs --expose-gc for the memory figure).
 */
import { Access, MapFlags, PageAllocator, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { Bench } from 'tinybench';
import { createKernelMap } from '../src/index.js';
import type { VmMap } from '../src/index.js';

const BATCH = 256;
const RW = Prot.READ | Prot.WRITE | Prot.USER;
const RO = Prot.READ | Prot.USER;
const RWX = RW | Prot.EXEC;

function fmt(hz: number): string {
  return hz >= 1e6 ? `${(hz / 1e6).toFixed(2)} M` : `${(hz / 1e3).toFixed(1)} k`;
}

const board = boards.get('riscv-virt-4g');
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: 4096 });
const kmap = createKernelMap({ arch: sv39, mem, alloc, board });
console.log(`mapper bench: riscv-virt-4g, sv39, entry pool ${kmap.info().total} entries`);

interface Populated {
  map: VmMap;
  n: number;
  // Pages the fault benchmark cycles through, 100 in both maps: the first 100 entries, and 100 entries spread evenly
  // over the whole map (one leaf page table each in the large map: more simulated RAM touched per fault).
  targets: Float64Array;
  spread: Float64Array;
}

function populate(owner: number, n: number): Populated {
  const map = kmap.createUserMap(owner);
  const ps = map.pageSize;
  const vas = new Float64Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) vas[i] = map.mmap({ size: ps, prot: i % 2 ? RO : RW, flags: MapFlags.PRIVATE });
  const ms = performance.now() - t0;
  if (map.entries().length !== n) throw new Error(`expected ${n} entries, got ${map.entries().length}`);
  const targets = vas.slice(0, 100);
  const k = 100;
  const spread = new Float64Array(k);
  for (let i = 0; i < k; i++) spread[i] = vas[Math.floor((i * n) / k)];
  // Fault each target once, so that the benchmark measures the steady fault path (lookup, backing, enter).
  for (const va of [...targets, ...spread]) if (map.fault(va, Access.READ | Access.USER) !== 0) throw new Error('fault failed');
  console.log(`  populated ${n} entries in ${ms.toFixed(0)} ms (${fmt((n / ms) * 1000)}mmap/s while growing)`);
  return { map, n, targets, spread };
}

const small = populate(1, 100);
const large = populate(2, 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();

function mmapMunmap(p: Populated): () => void {
  const ps = p.map.pageSize;
  const hint = p.map.start;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      // RWX matches no neighbour: a new entry every time, found by the gap search from the bottom of the map.
      const va = p.map.mmap({ addr: hint, size: ps, prot: RWX, flags: MapFlags.PRIVATE });
      p.map.munmap(va, ps);
    }
  };
}

function faults(p: Populated, t: Float64Array): () => void {
  let j = 0;
  return () => {
    for (let i = 0; i < BATCH; i++) {
      if (p.map.fault(t[j], Access.READ | Access.USER) !== 0) throw new Error('fault failed');
      j = j + 1 === t.length ? 0 : j + 1;
    }
  };
}

const bench = new Bench({ time: 1000, warmup: true });
bench.add('mmap+munmap, 100 entries', mmapMunmap(small));
bench.add('mmap+munmap, 100 000 entries', mmapMunmap(large));
bench.add('fault, 100 entries', faults(small, small.targets));
bench.add('fault, 100 000 entries', faults(large, large.targets));
bench.add('fault, 100 entries, 100 spread', faults(small, small.spread));
bench.add('fault, 100 000 entries, 100 spread', faults(large, large.spread));
await bench.run();
const hz = bench.tasks.map((t) => {
  const r = t.result as { throughput?: { mean: number }; hz?: number } | undefined;
  return (r?.throughput?.mean ?? r?.hz ?? 0) * BATCH;
});
bench.tasks.forEach((t, i) => console.log(`  ${t.name.padEnd(40)} ${fmt(hz[i])}ops/s`, (t.result as { error?: unknown } | undefined)?.error ?? ""));
const growthMap = hz[0] / hz[1];
const growthFault = hz[2] / hz[3];
const growthSpread = hz[4] / hz[5];
const verdict = (g: number) => (g <= 2 ? 'meets' : 'misses');
console.log(`  mmap+munmap growth 100 → 100 000 entries: ${growthMap.toFixed(2)}× (${verdict(growthMap)} the ≤ 2× target)`);
console.log(`  fault growth 100 → 100 000 entries:       ${growthFault.toFixed(2)}× (${verdict(growthFault)} the ≤ 2× target)`);
console.log(`  fault growth, working set spread over the map: ${growthSpread.toFixed(2)}× (100 pages in 1 leaf table vs in 100)`);
small.map.check();
const before = process.memoryUsage();
large.map.destroy();
small.map.destroy();
gc?.();
const after = process.memoryUsage();
const freed = before.heapUsed + before.arrayBuffers - after.heapUsed - after.arrayBuffers;
console.log(`  host memory given back by destroying both maps: ${(freed / 1048576).toFixed(1)} MiB (≈ ${Math.round(freed / 100_100)} B per entry)`);
kmap.check();
