/*
 * memobj benchmarks (DESIGN §5), all in one run on riscv-virt-4g with Sv39:
 * - fork+exit of a process whose 10,000-page private mapping has 10,000 vs 10 touched pages (no page is copied;
 *   the cost follows present PTEs, as Linux's copy_page_range);
 * - a copy-on-write fault against a zero-fill fault and against a write to a present page;
 * - the kernel heap an amap takes when one byte of a large private mapping is touched;
 * - spawn+exit of a two-segment image.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them.
 */
import { MapFlags, Prot } from '@vmlayers/phys';
import { sv39 } from '@vmlayers/pmap-mmu';
import { createVm } from '../src/index.js';
import type { Process, Vm } from '../src/index.js';

export const title = 'fork, write faults and amaps (riscv-virt-4g, sv39)';

const PS = 4096;
const PAGES = 10_000;
const RW = Prot.READ | Prot.WRITE;
const one = new Uint8Array([7]);

function processWith(vm: Vm, touched: number): { p: Process; va: number } {
  const p = vm.spawn();
  const va = p.mmap({ size: PAGES * PS, prot: RW, flags: MapFlags.PRIVATE });
  const step = Math.floor(PAGES / touched);
  for (let i = 0; i < touched; i++) p.write(va + i * step * PS, new Uint8Array([i & 0xff, 1]));
  return { p, va };
}

/**
 * One write per op, each to the next page of a process from `make`; `reset` (run untimed by the harness before
 * every timed run, which does at most `PAGES` ops) exits that process and makes a fresh one.
 */
function writes(make: () => { p: Process; va: number }) {
  let s = make();
  let j = 0;
  const op = () => {
    s.p.write(s.va + j++ * PS, one);
  };
  const reset = () => {
    s.p.exit();
    s = make();
    j = 0;
    // A full collection here, untimed: the exited process's garbage would otherwise be collected in some later
    // timed run, on either side.
    (globalThis as { gc?: () => void }).gc?.();
  };
  return { op, reset };
}

function heapFor(vm: Vm, bytes: number): number | string {
  const p = vm.spawn();
  try {
    const before = vm.kmalloc.stats().used;
    const va = p.mmap({ size: bytes, prot: RW, flags: MapFlags.PRIVATE });
    p.write(va + Math.floor(bytes / 2), one);
    return vm.kmalloc.stats().used - before;
  } catch (e) {
    return String((e as { code?: string }).code ?? e);
  } finally {
    p.exit();
  }
}

export default function* suite(): Generator<object | string> {
  const vm = createVm({ arch: sv39, board: 'riscv-virt-4g' });
  const few = processWith(vm, 10);
  const many = processWith(vm, PAGES);
  yield {
    name: 'fork+exit, 10,000 vs 10 touched pages',
    candidate: () => many.p.fork().exit(),
    baseline: () => few.p.fork().exit(),
    measure: 'time',
  };
  const cow = writes(() => ({ p: many.p.fork(), va: many.va }));
  const zeroFill = writes(() => {
    const p = vm.spawn();
    return { p, va: p.mmap({ size: PAGES * PS, prot: RW, flags: MapFlags.PRIVATE }) };
  });
  // Writes to pages already present and private: the same never-forked process, its pages cycled.
  const own = processWith(vm, PAGES);
  let k = 0;
  const present = () => {
    own.p.write(own.va + k * PS, one);
    k = k + 1 === PAGES ? 0 : k + 1;
  };
  yield {
    name: 'write fault: copy-on-write vs zero fill',
    candidate: cow.op,
    baseline: zeroFill.op,
    measure: 'time',
    prepare: { candidate: cow.reset, baseline: zeroFill.reset },
    maxOps: PAGES,
  };
  yield {
    name: 'write fault: copy-on-write vs write to a present page',
    candidate: cow.op,
    baseline: present,
    measure: 'time',
    prepare: { candidate: cow.reset },
    maxOps: PAGES,
  };
  own.p.exit();

  for (const [label, bytes] of [['64 MiB', 64 << 20], ['1 GiB', 1 << 30]] as const) {
    const h = heapFor(vm, bytes);
    if (typeof h === 'number') yield { name: `kernel heap, 1 byte touched in a ${label} private mapping`, value: h / 1024, unit: 'KiB' };
    else yield `kernel heap, 1 byte touched in a ${label} private mapping: failed with ${h}`;
  }

  const image = {
    segments: [
      { vaddr: 0x10000, size: 4 * PS, prot: Prot.READ | Prot.EXEC, data: new Uint8Array(3 * PS).fill(0x90) },
      { vaddr: 0x20000, size: 4 * PS, prot: RW, data: new Uint8Array(100).fill(1) },
    ],
  };
  const keep = vm.spawn(image); // keeps the image objects alive, as a running program would
  for (let i = 0; i < 50; i++) vm.spawn(image).exit();
  const t0 = process.cpuUsage();
  const N = 500;
  for (let i = 0; i < N; i++) {
    const p = vm.spawn(image);
    p.read(0x10000, 4);
    p.write(0x20000, one);
    p.exit();
  }
  const t = process.cpuUsage(t0);
  yield { name: 'spawn(image) + touch text and data + exit (CPU time)', value: (t.user + t.system) / N, unit: 'µs' };
  keep.exit();
  vm.check();
}
