/*
 * Reclaim (issue 15), on sv39: page faults per policy on classic reference strings and synthetic workloads (a
 * loop over more pages than the resident limit, a hot/cold mix), and what an eviction costs — a write that evicts
 * one page to swap and reads another back, against a zero-fill write fault — with the reclaim throughput.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them.
 */
import { MapFlags, Prot } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { createVm, opt } from '../src/index.js';
import type { Process, ReclaimPolicy, Vm, VmEvent } from '../src/index.js';

export const title = 'reclaim: faults per policy, eviction cost (sv39)';

const PS = 4096;
const RW = Prot.READ | Prot.WRITE;
const one = new Uint8Array([7]);

/** Faults while one process writes the pages of `refs` in order, `frames` resident at most. */
function faults(refs: number[], frames: number, policy: string): number {
  let n = 0;
  let vm: Vm | null = null;
  let base = 0;
  let pos = 0;
  const pages = Math.max(...refs) + 1;
  const chosen: ReclaimPolicy | string =
    policy === 'opt'
      ? opt((pa) => {
          const m = vm!.kmap.rmap!.mappings(pa)[0];
          if (m === undefined) return Infinity;
          const next = refs.indexOf((m.va - base) / PS, pos + 1);
          return next < 0 ? Infinity : next;
        })
      : policy;
  vm = createVm({ arch: sv39, swap: { pages: pages + 8 }, reclaim: { policy: chosen, limit: frames }, onEvent: (e: VmEvent) => void (e.type === 'fault' && e.result === undefined && n++) });
  const p = vm.spawn();
  base = p.mmap({ size: pages * PS, prot: RW, flags: MapFlags.PRIVATE });
  for (pos = 0; pos < refs.length; pos++) p.write(base + refs[pos] * PS, one);
  return n;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const WORKLOADS: { name: string; refs: number[]; frames: number[] }[] = [
  { name: 'Belady 1 2 3 4 1 2 5 1 2 3 4 5', refs: [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5], frames: [3, 4] },
  { name: 'textbook 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1', refs: [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1], frames: [3, 4] },
  { name: 'loop over 12 pages, 10 times', refs: Array.from({ length: 120 }, (_, i) => i % 12), frames: [8, 11] },
  {
    name: 'hot/cold: 80 % of 400 references to 4 of 40 pages',
    refs: (() => {
      const r = lcg(5);
      return Array.from({ length: 400 }, () => (r() < 0.8 ? Math.floor(r() * 4) : 4 + Math.floor(r() * 36)));
    })(),
    frames: [8, 16],
  },
];

export default function* suite(): Generator<object | string> {
  for (const w of WORKLOADS) {
    for (const f of w.frames) {
      const counts = ['fifo', 'clock', 'lru', 'opt'].map((p) => `${p} ${faults(w.refs, f, p)}`);
      yield `faults, ${w.name}, ${f} frames: ${counts.join(', ')}`;
    }
  }

  // A write that evicts a page (written to swap) and reads another back, in steady state: 2L pages cycled under a
  // limit of L. Against a zero-fill write fault of a process without reclaim.
  const L = 256;
  const vm = createVm({ arch: sv39, swap: { pages: 4 * L }, reclaim: { policy: 'fifo', limit: L } });
  const p = vm.spawn();
  const va = p.mmap({ size: 2 * L * PS, prot: RW, flags: MapFlags.PRIVATE });
  for (let i = 0; i < 2 * L; i++) p.write(va + i * PS, one);
  let k = 0;
  const cycle = () => {
    p.write(va + k * PS, one);
    k = k + 1 === 2 * L ? 0 : k + 1;
  };
  const plain = createVm({ arch: sv39, board: 'riscv-virt-4g' });
  const MAXP = 10_000;
  let z: { p: Process; va: number } = { p: plain.spawn(), va: 0 };
  z.va = z.p.mmap({ size: MAXP * PS, prot: RW, flags: MapFlags.PRIVATE });
  let j = 0;
  yield {
    name: 'write that evicts to swap and reads back vs zero-fill fault',
    candidate: cycle,
    baseline: () => z.p.write(z.va + j++ * PS, one),
    measure: 'time',
    prepare: {
      baseline: () => {
        z.p.exit();
        z = { p: plain.spawn(), va: 0 };
        z.va = z.p.mmap({ size: MAXP * PS, prot: RW, flags: MapFlags.PRIVATE });
        j = 0;
      },
    },
    maxOps: MAXP,
  };
  const before = vm.meminfo().reclaim!.evictions;
  const t0 = process.cpuUsage();
  for (let i = 0; i < 20_000; i++) cycle();
  const t = process.cpuUsage(t0);
  const evicted = vm.meminfo().reclaim!.evictions - before;
  yield { name: 'reclaim throughput (fifo, evict + swap-in per write)', value: Math.round(evicted / ((t.user + t.system) / 1e6)), unit: 'pages/s' };
  vm.check();
}
