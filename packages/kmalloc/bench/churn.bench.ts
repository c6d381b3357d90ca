/*
 * kmalloc benchmarks (DESIGN §5): mixed 16 B–4 KiB churn with a live set of 4096 blocks, in the same run:
 * kmalloc over an identity kernel against a bare segregated free list over an ArrayBuffer (the floor), kmalloc
 * over the Sv39 kernel map against the identity kernel, and both against @thi.ng/malloc's MemPool; memory
 * overhead (bytes held ÷ live bytes requested) as figures.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them.
 */
import { MemPool } from '@thi.ng/malloc';
import { ARCHS } from '@vmlayers/testkit';
import { Kmalloc } from '../src/index.js';
import { bootKernelMap, identity } from '../test/kernels.js';

export const title = 'mixed 16 B–4 KiB churn, 4096 live blocks (each op: one free and one allocation)';

const LIVE = 4096;
const OPS = 1 << 16;

// Log-uniform sizes from 16 B to 4 KiB: as many small structures as large buffers per octave.
let seed = 42;
const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
const sizeOf = () => Math.floor(16 * 2 ** ((rnd() / 2 ** 32) * 8));
const initial = Uint32Array.from({ length: LIVE }, sizeOf);
const sizes = Uint32Array.from({ length: OPS }, sizeOf);
const victims = Uint32Array.from({ length: OPS }, () => rnd() % LIVE);

/**
 * The floor: a bare segregated free list over an ArrayBuffer, power-of-two classes 16 B–4 KiB as kmalloc's.
 * A block's class sits in the word before it (written once, when the block is carved); a free block's first
 * word links it into its class's list. Nothing is ever returned to the buffer, nothing is checked.
 */
class SegregatedFreeList {
  private readonly heap = new Int32Array(new ArrayBuffer(64 << 20));
  private readonly heads = new Int32Array(9);
  private top = 8;

  malloc(n: number): number {
    const c = n <= 16 ? 0 : 28 - Math.clz32(n - 1);
    let p = this.heads[c];
    if (p !== 0) this.heads[c] = this.heap[p >> 2];
    else {
      p = this.top + 8;
      this.top = p + (16 << c);
      if (this.top > this.heap.byteLength) throw new Error('floor allocator: out of memory');
      this.heap[(p >> 2) - 1] = c;
    }
    return p;
  }

  free(p: number): void {
    const c = this.heap[(p >> 2) - 1];
    this.heap[p >> 2] = this.heads[c];
    this.heads[c] = p;
  }
}

interface Allocator {
  malloc(n: number): number;
  free(p: number): void;
}

/** One churn op: free a victim of the live set, allocate in its place; the cursor runs on across rounds. */
function churn(a: Allocator) {
  const live = new Float64Array(LIVE);
  const liveSize = Uint32Array.from(initial);
  for (let k = 0; k < LIVE; k++) live[k] = a.malloc(initial[k]);
  let cursor = 0;
  const op = () => {
    const i = cursor;
    cursor = (i + 1) & (OPS - 1);
    const k = victims[i];
    a.free(live[k]);
    const p = (live[k] = a.malloc(sizes[i]));
    liveSize[k] = sizes[i];
    return p;
  };
  return { op, liveSize };
}

export default function* suite(): Generator<object | string> {
  const floor = new SegregatedFreeList();
  const kmId = new Kmalloc(identity(256 << 20));
  const sv39 = ARCHS.find((a) => a.name === 'sv39')!;
  const kmSv39 = new Kmalloc(bootKernelMap(sv39));
  const pool = new MemPool({ size: 64 << 20 });
  const floorChurn = churn(floor);
  const idChurn = churn({ malloc: (n) => kmId.kmalloc(n), free: (p) => kmId.kfree(p) });
  const sv39Churn = churn({ malloc: (n) => kmSv39.kmalloc(n), free: (p) => kmSv39.kfree(p) });
  const poolChurn = churn({
    malloc: (n) => {
      const p = pool.malloc(n);
      if (p === 0) throw new Error('MemPool out of memory');
      return p;
    },
    free: (p) => void pool.free(p),
  });
  // Every row measures the steady state of the churn: one pass over the pre-drawn sequence first, for every
  // allocator (the floor's free lists fill, kmalloc's zones and kept zones settle), so no row pays for another's
  // start-up.
  for (const c of [floorChurn, idChurn, sv39Churn, poolChurn]) for (let k = 0; k < (c === poolChurn ? OPS >> 4 : OPS); k++) c.op();
  yield { name: 'kmalloc (identity kernel) vs bare segregated free list', candidate: idChurn.op, baseline: floorChurn.op, target: { atLeast: 0.25 } };
  yield { name: 'kmalloc Sv39 kernel map vs identity kernel', candidate: sv39Churn.op, baseline: idChurn.op, measure: 'time', target: { atMost: 2 } };
  yield { name: 'kmalloc (identity kernel) vs @thi.ng/malloc MemPool', candidate: idChurn.op, baseline: poolChurn.op, target: { atLeast: 1 } };
  yield { name: 'kmalloc (Sv39 kernel map) vs @thi.ng/malloc MemPool', candidate: sv39Churn.op, baseline: poolChurn.op, target: { atLeast: 1 } };
  // What the hysteresis buys and costs: the original's immediate release of every emptied zone on the same churn.
  const kmSv39Now = new Kmalloc(bootKernelMap(sv39), { keepEmptyPer: 0 });
  const nowChurn = churn({ malloc: (n) => kmSv39Now.kmalloc(n), free: (p) => kmSv39Now.kfree(p) });
  for (let k = 0; k < OPS; k++) nowChurn.op();
  yield { name: 'kmalloc Sv39, immediate release (keepEmptyPer 0) vs default', candidate: nowChurn.op, baseline: sv39Churn.op, measure: 'time' };
  kmId.check();
  kmSv39.check();
  kmSv39Now.check();

  const requested = (s: Uint32Array) => s.reduce((t, v) => t + v, 0);
  const kmReq = requested(sv39Churn.liveSize);
  const held = kmSv39.stats().bytes;
  yield { name: 'overhead: kmalloc Sv39 (zone bytes ÷ live bytes requested)', value: held / kmReq, unit: '×' };
  yield { name: 'overhead: kmalloc Sv39, keepEmptyPer 0', value: kmSv39Now.stats().bytes / requested(nowChurn.liveSize), unit: '×' };
  kmSv39.trim();
  yield { name: 'hysteresis: kept zone pages ÷ zone pages (Sv39, end of run)', value: (held - kmSv39.stats().bytes) / held, unit: '×' };
  const ps = pool.stats();
  yield { name: 'overhead: MemPool (heap top ÷ live bytes requested)', value: (ps.top - 8) / requested(poolChurn.liveSize), unit: '×' };
  // What finer classes would gain: the live set rounded to power-of-two classes vs to four classes per octave.
  const pow2 = (n: number) => (n <= 16 ? 16 : 2 ** Math.ceil(Math.log2(n)));
  const quarter = (n: number) => {
    if (n <= 16) return 16;
    const step = 2 ** (Math.ceil(Math.log2(n)) - 3);
    return Math.ceil(n / step) * step;
  };
  const p2 = sv39Churn.liveSize.reduce((t, v) => t + pow2(v), 0);
  const q4 = sv39Churn.liveSize.reduce((t, v) => t + quarter(v), 0);
  yield `rounding alone: power-of-two classes hold ${(p2 / kmReq).toFixed(2)}× the request; four classes per octave ${(q4 / kmReq).toFixed(2)}× (${((1 - q4 / p2) * 100).toFixed(0)} % less)`;
}
