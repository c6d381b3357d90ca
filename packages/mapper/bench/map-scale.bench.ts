/*
 * mapper benchmarks (DESIGN §5): mmap+munmap and fault cost with 100 000 vs 100 non-mergeable entries in the map
 * (neighbours alternate prot so that nothing merges), riscv-virt-4g with Sv39, both measured in the same run.
 * Target: ≤ 2× growth. Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them.
 */
import { Access, MapFlags, PageAllocator, PhysicalMemory, Prot, boards } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { createKernelMap } from '../src/index.js';
import type { KernelMap, VmMap } from '../src/index.js';

export const title = 'map scale (riscv-virt-4g, sv39; growth = cost at 100 000 entries ÷ cost at 100)';

const RW = Prot.READ | Prot.WRITE | Prot.USER;
const RO = Prot.READ | Prot.USER;
const RWX = RW | Prot.EXEC;
const READ = Access.READ | Access.USER;

interface Populated {
  map: VmMap;
  // Pages the fault rows cycle through, 100 in both maps: the first 100 entries, and 100 entries spread evenly
  // over the whole map (one leaf page table each in the large map: more simulated RAM touched per fault).
  targets: Float64Array;
  spread: Float64Array;
  ms: number;
}

function populate(kmap: KernelMap, owner: number, n: number): Populated {
  const map = kmap.createUserMap(owner);
  const ps = map.pageSize;
  const vas = new Float64Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) vas[i] = map.mmap({ size: ps, prot: i % 2 ? RO : RW, flags: MapFlags.PRIVATE });
  const ms = performance.now() - t0;
  if (map.entries().length !== n) throw new Error(`expected ${n} entries, got ${map.entries().length}`);
  const targets = vas.slice(0, 100);
  const spread = new Float64Array(100);
  for (let i = 0; i < 100; i++) spread[i] = vas[Math.floor((i * n) / 100)];
  // Fault each target once, so that the rows measure the steady fault path (lookup, backing, enter).
  for (const va of [...targets, ...spread]) if (map.fault(va, READ) !== 0) throw new Error('fault failed');
  return { map, targets, spread, ms };
}

function mmapMunmap(p: Populated) {
  const { map } = p;
  const ps = map.pageSize;
  const hint = map.start;
  // RWX matches no neighbour: a new entry every time, found by the gap search from the bottom of the map.
  return () => {
    const va = map.mmap({ addr: hint, size: ps, prot: RWX, flags: MapFlags.PRIVATE });
    map.munmap(va, ps);
    return va;
  };
}

function faults(p: Populated, t: Float64Array) {
  const { map } = p;
  return (i: number) => {
    if (map.fault(t[i % 100], READ) !== 0) throw new Error('fault failed');
  };
}

export default function* suite(): Generator<object | string> {
  const board = boards.get('riscv-virt-4g');
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  const kmap = createKernelMap({ arch: sv39, mem, alloc, board });
  const small = populate(kmap, 1, 100);
  const large = populate(kmap, 2, 100_000);
  yield `entry pool ${kmap.info().total} entries; populated 100 000 entries in ${large.ms.toFixed(0)} ms`;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  yield { name: 'mmap+munmap, 100 000 vs 100 entries', candidate: mmapMunmap(large), baseline: mmapMunmap(small), measure: 'time', target: { atMost: 2 } };
  yield { name: 'fault, 100 000 vs 100 entries', candidate: faults(large, large.targets), baseline: faults(small, small.targets), measure: 'time', target: { atMost: 2 } };
  yield {
    name: 'fault, 100 spread targets, 100 000 vs 100 entries',
    candidate: faults(large, large.spread),
    baseline: faults(small, small.spread),
    measure: 'time',
  };
  small.map.check();
  const before = process.memoryUsage();
  large.map.destroy();
  small.map.destroy();
  gc?.();
  const after = process.memoryUsage();
  const freed = before.heapUsed + before.arrayBuffers - after.heapUsed - after.arrayBuffers;
  yield { name: 'host memory per entry (given back by destroying the maps)', value: freed / 100_100, unit: 'B' };
  kmap.check();
}
